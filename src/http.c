/* libcurl sessions: one easy handle per session userdata, reused across requests for keep-alive.
 *
 * session:perform(req) runs one HTTP exchange to completion (on the session's own multi handle, so that it
 * can use the wait for the answer: see ic_session_run) and returns
 *   status, headers, body                      on a completed exchange (any status, redirects included)
 *   nil, kind, message, {curl_code, sent}      on a transport failure ("timeout" or "network")
 * and raises only on misuse. The request handling itself (checking, libcurl setup, callbacks that only
 * append to C buffers, results) is transfer.c's, shared with the concurrent multi (multi.c). Every
 * resource hangs off the userdata, so a Lua error raised at any point cannot leak it: the next perform or
 * __gc releases it. */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "transfer.h"

#define IC_SESSION_MT "intercom.session"

typedef struct ic_session {
    ic_transfer t;                  /* t.easy is NULL once closed */
    CURLM *multi;                   /* runs t.easy (ic_session_run); made on first use */
    int running;                    /* inside perform, past prepare: the session cannot be used or freed */
    int close_pending;              /* close was called meanwhile (by a finalizer): done at the end */
    char *ca_file;                  /* session options, re-applied for every request */
    char *proxy;
} ic_session;

/* The one destructor behind close, __gc and __close: idempotent. During a perform (only a finalizer, run
 * by the garbage collector while the reserve or the answer's tables are made, can get here then), it is
 * put off until the perform ends. */
static void ic_session_release(ic_session *s)
{
    if (s->running) {
        s->close_pending = 1;
        return;
    }
    if (s->multi != NULL) {
        curl_multi_cleanup(s->multi);
        s->multi = NULL;
    }
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

static ic_session *ic_check_open(lua_State *L)
{
    ic_session *s = ic_check_session(L);
    if (s->t.easy == NULL) luaL_error(L, "intercom session is closed");
    if (s->running) luaL_error(L, "intercom session is busy: a request is running on it");
    return s;
}

/* ---- methods ------------------------------------------------------------------------------------- */

/* Runs the prepared transfer to its end on the session's multi handle. curl_easy_perform does the same
 * internally, but blocks until the end; driving the multi here lets the session use the time it waits
 * for the server. Once the request is out (the first curl_multi_perform has sent it on a kept-alive
 * connection, or begun to connect), the decoder makes its reserve for the answer (ic_json_reserve, when
 * the request names the operation `plan`, a stack index). That call is protected: a memory error or an
 * error in a finalizer the garbage collector runs only loses the reserve. */
static CURLcode ic_session_run(lua_State *L, ic_session *s, int plan)
{
    CURLMcode mc;
    CURLMsg *msg;
    CURLcode rc = CURLE_GOT_NOTHING;
    int running = 0, left, reserve = plan != 0;

    if (s->multi == NULL && (s->multi = curl_multi_init()) == NULL) return CURLE_OUT_OF_MEMORY;
    if (curl_multi_add_handle(s->multi, s->t.easy) != CURLM_OK) return CURLE_FAILED_INIT;
    for (;;) {
        mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK || running == 0) break;
        if (reserve) {
            reserve = 0;
            lua_pushcfunction(L, ic_json_reserve);
            lua_pushvalue(L, plan);
            if (lua_pcall(L, 1, 0, 0) != 0) lua_pop(L, 1);
        }
        /* returns at once when the answer came in meanwhile */
        if (curl_multi_poll != NULL)
            mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
        else
            mc = curl_multi_wait(s->multi, NULL, 0, 1000, NULL); /* libcurl < 7.66 */
        if (mc != CURLM_OK) break;
    }
    if (mc == CURLM_OK) {
        while ((msg = curl_multi_info_read(s->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == s->t.easy) rc = msg->data.result;
    } else {
        /* as curl_easy_perform maps them: the other multi errors "should never happen" */
        rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_BAD_FUNCTION_ARGUMENT;
    }
    curl_multi_remove_handle(s->multi, s->t.easy);
    return rc;
}

/* Pushes the outcome of the transfer that just ran (ic_transfer_push, which decodes the answer). Called
 * protected, with the session (a light userdata) and the operation name or nil, so that an error (out of
 * memory, or one a finalizer raised on LuaJIT) cannot leave the session marked as running. */
static int ic_session_push(lua_State *L)
{
    ic_session *s = (ic_session *)lua_touserdata(L, 1);
    s->t.plan = lua_type(L, 2) == LUA_TSTRING ? 2 : 0;
    return ic_transfer_push(L, &s->t);
}

/* session:perform{method, url, headers?, body?, timeout?, connect_timeout?, output_file?, decode?} */
static int ic_session_perform(lua_State *L)
{
    ic_session *s = ic_check_open(L);
    ic_conn_opts o;
    int n, plan = 0, top, failed;

    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    o.ca_file = s->ca_file;
    o.proxy = s->proxy;
    /* The request's strings stay on the stack above index 2 until the transfer is over, so libcurl can
     * send the body without a copy. */
    n = ic_transfer_prepare(L, &s->t, 2, &o, 0);
    if (n > 0) return n;
    if (s->t.decode) {
        lua_getfield(L, 2, "decode");           /* an operation name: its answer gets a reserve */
        if (lua_type(L, -1) == LUA_TSTRING) plan = lua_gettop(L);
        else lua_pop(L, 1);
    }
    luaL_checkstack(L, 4, "intercom session"); /* the protected calls below (prepare left its strings) */
    /* From here to the end, Lua code can run only in finalizers (the reserve and the decoded answer
     * allocate); they find the session running: another perform on it raises, a close waits. */
    s->running = 1;
    ic_transfer_complete(&s->t, ic_session_run(L, s, plan));
    top = lua_gettop(L);
    lua_pushcfunction(L, ic_session_push);
    lua_pushlightuserdata(L, s);
    if (plan != 0) lua_pushvalue(L, plan); else lua_pushnil(L);
    failed = lua_pcall(L, 2, LUA_MULTRET, 0) != 0;
    s->running = 0;
    ic_transfer_cleanup(&s->t);
    if (s->close_pending) {
        s->close_pending = 0;
        ic_session_release(s);
    }
    if (failed) lua_error(L);
    return lua_gettop(L) - top;
}

static int ic_session_close(lua_State *L)
{
    ic_session_release(ic_check_session(L));
    return 0;
}

static int ic_session_closed(lua_State *L)
{
    lua_pushboolean(L, ic_check_session(L)->t.easy == NULL);
    return 1;
}

static int ic_session_tostring(lua_State *L)
{
    ic_session *s = ic_check_session(L);
    lua_pushfstring(L, "intercom.session (%s%p)", s->t.easy == NULL ? "closed, " : "", (void *)s);
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
    ic_session_release(ic_check_session(L));
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
