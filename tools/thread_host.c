/* Two threads, each with its own Lua state, start using intercom.core at the same moment: what an
 * embedding host, LuaLanes or ngx.run_worker_thread does. Built by spec/core/threads_spec.lua with
 * ThreadSanitizer (host and core), which reports any unsynchronised access to the core's process-wide
 * state (the libcurl loader, the "C" locale of the JSON numbers, constant tables): the core initialises
 * that state once, under pthread_once, and only reads it afterwards.
 *
 *   thread_host SCRIPT [THREADS]   runs SCRIPT (a Lua file) in THREADS (default 2) fresh states at once;
 *                                  exits 0 when every run succeeded */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static const char *script;
static pthread_barrier_t start, end;

static void *run(void *arg)
{
    lua_State *L = luaL_newstate();
    int *ok = (int *)arg;
    *ok = 0;
    if (L == NULL) {
        fprintf(stderr, "thread_host: cannot make a Lua state\n");
        exit(1);                            /* the others would wait at the barriers forever */
    }
    luaL_openlibs(L);
    pthread_barrier_wait(&start);           /* every thread loads and runs the script at the same time */
    if (luaL_dofile(L, script) != 0)
        fprintf(stderr, "thread_host: %s\n", lua_tostring(L, -1));
    else
        *ok = 1;
    /* Every state stays open until all are done: closing the last one unloads intercom/core.so, and a
     * state loading it afterwards would get a fresh copy (new globals), which is not what is tested. */
    pthread_barrier_wait(&end);
    lua_close(L);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[16];
    int ok[16], n = argc > 2 ? atoi(argv[2]) : 2, i, all = 1;
    if (argc < 2 || n < 1 || n > 16) {
        fprintf(stderr, "usage: %s script.lua [threads]\n", argv[0]);
        return 2;
    }
    script = argv[1];
    pthread_barrier_init(&start, NULL, (unsigned)n);
    pthread_barrier_init(&end, NULL, (unsigned)n);
    for (i = 0; i < n; i++) pthread_create(&th[i], NULL, run, &ok[i]);
    for (i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        all &= ok[i];
    }
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&end);
    return all ? 0 : 1;
}
