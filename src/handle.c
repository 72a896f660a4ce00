/* The lifecycle of the core's C handles: OPEN, BUSY, CLOSED (the rule is written in handle.h). */
#include "handle.h"

void ic_handle_init(ic_handle *h, const char *what, void (*release)(ic_handle *h))
{
    h->state = IC_OPEN;
    h->close_pending = 0;
    h->what = what;
    h->release = release;
}

void ic_handle_check(lua_State *L, ic_handle *h)
{
    if (h->state == IC_CLOSED) luaL_error(L, "%s is closed", h->what);
    if (h->state == IC_BUSY) luaL_error(L, "%s is busy: an operation is running on it", h->what);
}

void ic_handle_close(ic_handle *h)
{
    if (h->state == IC_BUSY) {
        h->close_pending = 1;
        return;
    }
    if (h->state == IC_CLOSED) return;
    h->release(h);
    h->state = IC_CLOSED;
}

int ic_handle_call(lua_State *L, ic_handle *h, lua_CFunction f, int nargs)
{
    int base = lua_gettop(L) - nargs, failed;   /* the results will start at base + 1 */
    ic_handle_check(L, h);
    luaL_checkstack(L, 2, h->what);
    lua_pushcfunction(L, f);                /* LuaJIT allocates a closure here: a finalizer may run, */
    lua_insert(L, base + 1);                /* and close the handle, which is still OPEN: closed at once */
    lua_pushlightuserdata(L, h);
    lua_insert(L, base + 2);                /* f, h, args... */
    if (h->state != IC_OPEN) {
        lua_settop(L, base);
        luaL_error(L, "%s is closed", h->what);
    }
    /* Nothing between here and the call allocates: the handle is BUSY before any Lua code can run. */
    h->state = IC_BUSY;
    failed = lua_pcall(L, nargs + 1, LUA_MULTRET, 0) != 0;
    h->state = IC_OPEN;
    if (h->close_pending) {
        h->close_pending = 0;
        ic_handle_close(h);
    }
    if (failed) lua_error(L);
    return lua_gettop(L) - base;
}
