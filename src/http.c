/* libcurl sessions: one easy handle per session userdata, reused across requests for keep-alive.
 *
 * session:perform(req) runs one HTTP exchange to completion (curl_easy_perform) and returns
 *   status, headers, body                      on a completed exchange (any status, redirects included)
 *   status, headers, nil, value                with req.decode = true and a 2xx JSON object or array body
 *   nil, kind, message, {curl_code, sent}      on a transport failure ("timeout" or "network")
 * and raises only on misuse. The request handling itself (checking, libcurl setup, callbacks that only
 * append to C buffers, results) is transfer.c's, shared with the concurrent multi (multi.c). The session
 * follows the core's one lifecycle, OPEN / BUSY / CLOSED (handle.h): it is BUSY while the outcome is made
 * into Lua values, so a finalizer that closes it then only has it closed when perform is done. Every
 * resource hangs off the userdata, so a Lua error raised at any point cannot leak it: the next perform or
 * __gc releases it. */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "handle.h"
#include "transfer.h"

#define IC_SESSION_MT "intercom.session"

typedef struct ic_session {
    ic_handle h;                    /* first: the lifecycle (handle.h) */
    ic_transfer t;
    char *ca_file;                  /* session options, applied to every request */
    char *proxy;
} ic_session;

/* Frees everything (ic_handle_close calls it, once, when the session is not BUSY). */
static void ic_session_release(ic_handle *h)
{
    ic_session *s = (ic_session *)h;
    ic_transfer_release(&s->t);
    free(s->ca_file);
    s->ca_file = NULL;
    free(s->proxy);
    s->proxy = NULL;
}

static ic_session *ic_check_session(lua_State *L)
{
    return (ic_session *)luaL_checkudata(L, 1, IC_SESSION_MT);
}

/* ---- methods ------------------------------------------------------------------------------------- */

/* perform's work, through ic_handle_call (BUSY throughout): 1 is the session (light userdata), 2 the
 * request. */
static int ic_session_perform_busy(lua_State *L)
{
    ic_session *s = (ic_session *)lua_touserdata(L, 1);
    ic_conn_opts o;
    int n;
    o.ca_file = s->ca_file;
    o.proxy = s->proxy;
    /* The request's strings stay on the stack above index 2 until the transfer is over, so libcurl can
     * send the body without a copy. */
    n = ic_transfer_prepare(L, &s->t, 2, &o, 0);
    if (n > 0) return n;
    /* No Lua code runs during the transfer: libcurl's callbacks only append to C buffers. */
    ic_transfer_complete(&s->t, curl_easy_perform(s->t.easy));
    n = ic_transfer_push(L, &s->t);
    ic_transfer_cleanup(&s->t);
    return n;
}

/* session:perform{method, url, headers?, body?, timeout?, connect_timeout?, output_file?, once?, decode?} */
static int ic_session_perform(lua_State *L)
{
    ic_session *s = ic_check_session(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    return ic_handle_call(L, &s->h, ic_session_perform_busy, 1);
}

static int ic_session_close(lua_State *L)
{
    ic_handle_close(&ic_check_session(L)->h);
    return 0;
}

static int ic_session_closed(lua_State *L)
{
    lua_pushboolean(L, ic_check_session(L)->h.state == IC_CLOSED);
    return 1;
}

static int ic_session_tostring(lua_State *L)
{
    ic_session *s = ic_check_session(L);
    lua_pushfstring(L, "intercom.session (%s%p)", s->h.state == IC_CLOSED ? "closed, " : "", (void *)s);
    return 1;
}

/* ---- construction -------------------------------------------------------------------------------- */

static char *ic_dup_option(lua_State *L, int opts, const char *name)
{
    const char *v;
    size_t len;
    char *copy;
    lua_getfield(L, opts, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "intercom session: '%s' must be a string (got %s)", name, luaL_typename(L, -1));
    v = lua_tolstring(L, -1, &len);
    copy = (char *)malloc(len + 1);
    if (copy == NULL) luaL_error(L, "intercom: out of memory");
    memcpy(copy, v, len + 1);
    lua_pop(L, 1);
    return copy;
}

/* core.session([opts]) -> session; opts: ca_file, proxy (both optional strings). */
static int ic_session_new(lua_State *L)
{
    ic_session *s;
    int has_opts = !lua_isnoneornil(L, 1);
    if (has_opts) {
        luaL_checktype(L, 1, LUA_TTABLE);
        /* Unknown keys are refused: a typo such as "cafile" would otherwise silently use the system CAs. */
        lua_pushnil(L);
        while (lua_next(L, 1) != 0) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (k == NULL || (strcmp(k, "ca_file") != 0 && strcmp(k, "proxy") != 0)) {
                lua_pop(L, 1);
                luaL_error(L, "intercom session: unknown option '%s' (expected ca_file, proxy)",
                           lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, 1);
    ic_curl_global(L);

    s = (ic_session *)lua_newuserdata(L, sizeof(*s));
    memset(s, 0, sizeof(*s));
    ic_handle_init(&s->h, "intercom session", ic_session_release);
    /* The metatable goes on first, so __gc frees whatever the steps below manage to allocate. */
    luaL_getmetatable(L, IC_SESSION_MT);
    lua_setmetatable(L, -2);
    if (has_opts) {
        s->ca_file = ic_dup_option(L, 1, "ca_file");
        s->proxy = ic_dup_option(L, 1, "proxy");
    }
    if (ic_transfer_init(&s->t) != 0) luaL_error(L, "intercom: curl_easy_init failed");
    return 1;
}

static int ic_session_gc(lua_State *L)
{
    ic_handle_close(&ic_check_session(L)->h);
    return 0;
}

static const luaL_Reg ic_session_methods[] = {
    {"perform", ic_session_perform},
    {"close", ic_session_close},
    {"closed", ic_session_closed},
    {NULL, NULL}
};

static const luaL_Reg ic_session_meta[] = {
    {"__gc", ic_session_gc},
#if LUA_VERSION_NUM >= 504
    {"__close", ic_session_gc},
#endif
    {"__tostring", ic_session_tostring},
    {NULL, NULL}
};

static const luaL_Reg ic_http_funcs[] = {
    {"session", ic_session_new},
    {NULL, NULL}
};

/* "libcurl/7.88.1 OpenSSL/3.0.11 zlib/1.2.13 nghttp2/1.52.0": the interesting part of curl_version().
 * Built from curl_version_info because Debian's curl_version() also initialises OpenLDAP and SASL, whose
 * process-global state then shows up as lost memory once Lua unloads the module at exit. */
static void ic_push_curl_version(lua_State *L)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "libcurl/");
    luaL_addstring(&b, v->version);
    if (v->ssl_version != NULL) {
        luaL_addchar(&b, ' ');
        luaL_addstring(&b, v->ssl_version);
    }
    if (v->libz_version != NULL) {
        luaL_addstring(&b, " zlib/");
        luaL_addstring(&b, v->libz_version);
    }
#if LIBCURL_VERSION_NUM >= 0x074200
    if (v->age >= CURLVERSION_FIFTH && v->nghttp2_version != NULL) {
        luaL_addstring(&b, " nghttp2/");
        luaL_addstring(&b, v->nghttp2_version);
    }
#endif
    luaL_pushresult(&b);
}

/* __index of the core module table: fills in curl_version the first time it is read. */
static int ic_core_index(lua_State *L)
{
    const char *key = lua_tostring(L, 2);
    if (lua_type(L, 2) != LUA_TSTRING || strcmp(key, "curl_version") != 0) return 0;
    ic_curl_global(L);
    ic_push_curl_version(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "curl_version");
    return 1;
}

void ic_http_register(lua_State *L)
{
    luaL_newmetatable(L, IC_SESSION_MT);
    ic_setfuncs(L, ic_session_meta);
    lua_pushliteral(L, IC_SESSION_MT);
    lua_setfield(L, -2, "__name"); /* Lua 5.1 does not set it; 5.4 error messages use it */
    ic_newlib(L, ic_session_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    ic_setfuncs(L, ic_http_funcs);
    /* core.curl_version is computed on first read: reading it loads libcurl (curlapi.h), requiring the
     * core does not. */
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ic_core_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}
