/* Monotonic time and sleeping, for retry backoff and rate-limit pacing in plain Lua. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>
#include "core.h"

double ic_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* now() -> seconds (float) on a monotonic clock; only differences are meaningful. */
static int ic_now(lua_State *L)
{
    lua_pushnumber(L, ic_monotonic());
    return 1;
}

/* wall() -> seconds since the epoch (float); X-RateLimit-Reset is an epoch time. */
static int ic_wall(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    return 1;
}

/* sleep(seconds): restarts after signals so the full delay is honoured. */
static int ic_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    struct timespec req, rem;
    if (s <= 0) return 0;
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - (double)req.tv_sec) * 1e9);
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) req = rem;
    return 0;
}

static const luaL_Reg ic_clock_funcs[] = {
    {"now", ic_now},
    {"wall", ic_wall},
    {"sleep", ic_sleep},
    {NULL, NULL}
};

void ic_clock_register(lua_State *L)
{
    ic_setfuncs(L, ic_clock_funcs);
}
