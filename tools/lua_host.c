/* A minimal stand-alone Lua interpreter (`lua script.lua args...`), built by `make check-memory` with
 * AddressSanitizer and UBSan to host the sanitized build of intercom.core.
 *
 * Why not Debian's lua5.4 with LD_PRELOAD=libasan.so: the preloaded runtime is inherited by every process
 * the specs start (the Python test servers, openssl, sh), and LeakSanitizer then fails those at their exit
 * for leaks that are not ours. Linked into this executable, the runtime covers this process only, and
 * modules loaded later (intercom/core.so built with -fsanitize=address,undefined) resolve their sanitizer
 * symbols against it.
 *
 * Compiles against Lua 5.4 or LuaJIT (the same API subset). The state is closed before exit, so whatever
 * the interpreter still holds is freed and LeakSanitizer reports only real leaks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) msg = "(error object is not a string)";
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* SIGINT as lua.c handles it: the next Lua instruction raises "interrupted!", so a script that catches it
 * (the command line exits 130 on it) behaves the same under this host. Installing the handler also undoes
 * the SIG_IGN that a non-interactive shell gives a background job. */
static lua_State *running;

static void interrupted(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
    signal(sig, SIG_DFL);           /* a second Ctrl-C ends the process */
    if (running != NULL) lua_sethook(running, interrupted, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

int main(int argc, char **argv)
{
    lua_State *L;
    int i, status;

    if (argc < 2) {
        fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create a Lua state\n", argv[0]);
        return 1;
    }
    luaL_openlibs(L);

    /* arg[-1] = this program, arg[0] = the script, arg[1..] = its arguments, as lua.c does */
    lua_createtable(L, argc - 2, 2);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");

    lua_pushcfunction(L, traceback);
    status = luaL_loadfile(L, argv[1]);
    if (status == 0) {
        for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
        running = L;
        signal(SIGINT, on_sigint);
        status = lua_pcall(L, argc - 2, 0, 1);
        signal(SIGINT, SIG_DFL);
        running = NULL;
    }
    if (status != 0) fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
    lua_close(L);
    return status == 0 ? 0 : 1;
}
