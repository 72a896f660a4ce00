/* A response body read piece by piece (downloads): a pull design, so that Lua can hand each piece to a
 * file, a sink or a progress callback without the C core ever calling back into Lua during a transfer.
 *
 *   local s = core.stream(opts, req)   -- opts: nil or {ca_file, proxy}; req: {method, url, headers?, body?,
 *                                       --   timeout? (idle seconds), connect_timeout?}; raises on misuse
 *   local status, headers = s:headers() -- runs the transfer until the final response's head is in
 *   local chunk = s:read()              -- the next piece of the body; nil at the end
 *   s:close()                           -- also __gc and __close; s:closed() says whether it was
 * On a transport failure headers() and read() return nil, kind ("timeout"|"network"), message,
 * {curl_code, sent}, as session:perform does.
 *
 * The request is checked and set up by transfer.c, as for a session; what is specific to a stream is
 * here: one easy handle on its own multi handle, headers() and read() calling curl_multi_perform/poll
 * until something is there for Lua, and a write callback that pauses the transfer once IC_STREAM_MAX
 * bytes wait for Lua (the next read() resumes it), so memory stays bounded whatever the body size and
 * however slowly Lua consumes it.
 *
 * The body is delivered exactly as the server sent it: no Accept-Encoding is offered and no
 * Content-Encoding is decoded (a data export is a .gz file; its bytes are the point). `timeout` is an
 * idle timeout (no byte for that long), not a limit on the whole download, which may legitimately take
 * longer. Redirects are not followed (the token must not travel).
 *
 * The stream follows the core's one lifecycle, OPEN / BUSY / CLOSED (handle.h): headers() and read() make
 * Lua values of its buffers with the stream BUSY, so a finalizer that closes it meanwhile only has it
 * closed when the call is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "handle.h"
#include "transfer.h"

#define IC_STREAM_MT "intercom.stream"

/* Bytes buffered for Lua before the transfer is paused; a read() returns at most about this much. */
#define IC_STREAM_MAX ((size_t)256 * 1024)

/* Where the transfer is (the handle's own lifecycle is h.state). */
enum { IC_RUNNING, IC_DONE, IC_FAILED };

typedef struct ic_stream {
    ic_handle h;                    /* first: the lifecycle (handle.h) */
    ic_transfer t;                  /* the request; t.head is the response head, t.body the bytes for Lua */
    CURLM *multi;
    int state;                      /* of the transfer */
    int added;                      /* t.easy is inside multi */
    int paused;                     /* the write callback paused the transfer */
    int got_body;                   /* a body byte arrived: the head is final */
} ic_stream;

/* Frees everything (ic_handle_close calls it, once, when the stream is not BUSY). */
static void ic_stream_release(ic_handle *h)
{
    ic_stream *s = (ic_stream *)h;
    if (s->multi != NULL && s->t.easy != NULL && s->added) curl_multi_remove_handle(s->multi, s->t.easy);
    s->added = 0;
    ic_transfer_release(&s->t);
    if (s->multi != NULL) curl_multi_cleanup(s->multi);
    s->multi = NULL;
}

/* libcurl's write callback: C memory only; pauses instead of growing past IC_STREAM_MAX. */
static size_t ic_stream_on_body(char *p, size_t size, size_t n, void *ud)
{
    ic_stream *s = (ic_stream *)ud;
    size_t len = size * n;
    s->got_body = 1;
    if (s->t.body.len > 0 && s->t.body.len + len > IC_STREAM_MAX) {
        s->paused = 1;
        return CURL_WRITEFUNC_PAUSE; /* libcurl keeps these bytes and offers them again on resume */
    }
    if (ic_buffer_append(&s->t.body, p, len) != 0) {
        s->t.oom = 1;
        return 0;
    }
    return len;
}

/* req.timeout in whole seconds, rounded up (0: none); transfer.c has already checked it. */
static long ic_stream_idle_seconds(lua_State *L, int req)
{
    lua_Number sec;
    lua_getfield(L, req, "timeout");
    sec = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    if (!(sec > 0)) return 0;
    if (sec >= 2147483647.0) return 2147483647L;
    return (long)sec + ((lua_Number)(long)sec < sec ? 1 : 0);
}

/* req.deadline in whole milliseconds, rounded up (0: none): the longest the whole transfer may take. */
static long ic_stream_deadline_ms(lua_State *L, int req)
{
    lua_Number sec;
    lua_getfield(L, req, "deadline");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "intercom stream: 'deadline' must be a number of seconds (got %s)", luaL_typename(L, -1));
    sec = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
    lua_pop(L, 1);
    if (!(sec > 0)) return 0;
    if (sec >= 2147483.0) return 2147483647L;
    return (long)(sec * 1000.0) + ((lua_Number)(long)(sec * 1000.0) < sec * 1000.0 ? 1 : 0);
}

/* core.stream(opts, req) -> stream */
static int ic_stream_new(lua_State *L)
{
    ic_stream *s;
    ic_conn_opts o;
    long idle;
    int ud;
    CURL *e;

    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, 2, "output_file");
    if (!lua_isnil(L, -1)) luaL_error(L, "intercom stream: 'output_file' is not supported: read() the body");
    lua_pop(L, 1);
    ic_conn_opts_read(L, 1, &o, "intercom stream");
    ic_curl_global(L);

    s = (ic_stream *)lua_newuserdata(L, sizeof(*s));
    ud = lua_gettop(L);
    memset(s, 0, sizeof(*s));
    ic_handle_init(&s->h, "intercom stream", ic_stream_release);   /* __gc frees what is made below */
    luaL_getmetatable(L, IC_STREAM_MT);
    lua_setmetatable(L, -2);
    if (ic_transfer_init(&s->t) != 0) luaL_error(L, "intercom: cannot create a curl handle");
    s->multi = curl_multi_init();
    if (s->multi == NULL) luaL_error(L, "intercom: cannot create a curl handle");

    /* The body is copied (the stream outlives this call's stack); raises on misuse before any I/O. */
    if (ic_transfer_prepare(L, &s->t, 2, &o, 1) > 0) {
        ic_handle_close(&s->h);
        return 4;                   /* nil, kind, message, details: libcurl refused a security option */
    }
    idle = ic_stream_idle_seconds(L, 2);

    e = s->t.easy;
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ic_stream_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);      /* offer no encoding ... */
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);  /* ... and decode none: the bytes as sent */
    /* an idle timeout instead of a total one, and the optional total `deadline` */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ic_stream_deadline_ms(L, 2));
    if (idle > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, idle);
    }
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK) luaL_error(L, "intercom: cannot start the transfer");
    s->added = 1;
    s->state = IC_RUNNING;
    lua_pushvalue(L, ud);
    return 1;
}

/* ---- driving the transfer ----------------------------------------------------------------------------- */

static int ic_stream_ready(ic_stream *s, int want_head)
{
    if (s->state != IC_RUNNING) return 1;
    return want_head ? s->got_body : s->t.body.len > 0;
}

static void ic_stream_finish(ic_stream *s, CURLcode rc)
{
    if (rc == CURLE_OK && s->t.oom) rc = CURLE_OUT_OF_MEMORY;
    ic_transfer_complete(&s->t, rc);
    s->state = s->t.rc == CURLE_OK ? IC_DONE : IC_FAILED;
}

/* Runs libcurl until the head (want_head) or some body bytes are there, or the transfer ended. */
static void ic_stream_pump(ic_stream *s, int want_head)
{
    while (!ic_stream_ready(s, want_head)) {
        int running = 0, left = 0;
        CURLMsg *msg;
        CURLMcode mc;
        if (s->paused) {
            s->paused = 0;
            curl_easy_pause(s->t.easy, CURLPAUSE_CONT); /* may hand the kept bytes to on_body at once */
            continue;
        }
        mc = curl_multi_perform(s->multi, &running);
        while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == s->t.easy) ic_stream_finish(s, msg->data.result);
        }
        if (mc != CURLM_OK) {
            snprintf(s->t.errbuf, sizeof(s->t.errbuf), "%s", curl_multi_strerror(mc));
            ic_stream_finish(s, CURLE_RECV_ERROR);
        }
        if (ic_stream_ready(s, want_head)) break;
        if (running == 0 && s->state == IC_RUNNING && !s->paused) {
            ic_stream_finish(s, CURLE_RECV_ERROR); /* libcurl says nothing runs but reported no end: never spin */
            break;
        }
        if (!s->paused) {
            if (curl_multi_poll != NULL)
                curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
            else
                curl_multi_wait(s->multi, NULL, 0, 1000, NULL);
        }
    }
}

static ic_stream *ic_check_stream(lua_State *L)
{
    return (ic_stream *)luaL_checkudata(L, 1, IC_STREAM_MT);
}

/* headers()' work, through ic_handle_call (BUSY throughout): runs the transfer until the head is in,
 * then status, headers | nil, kind, message, details. */
static int ic_stream_push_head(lua_State *L)
{
    ic_stream *s = (ic_stream *)lua_touserdata(L, 1);
    long status = 0;
    ic_stream_pump(s, 1);
    if (s->state == IC_FAILED) return ic_transfer_push(L, &s->t);
    curl_easy_getinfo(s->t.easy, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    ic_transfer_push_head(L, &s->t);
    return 2;
}

/* read()'s work, through ic_handle_call (BUSY throughout): runs the transfer until some body bytes are
 * there, then chunk | nil | nil, kind, message, details. */
static int ic_stream_push_chunk(lua_State *L)
{
    ic_stream *s = (ic_stream *)lua_touserdata(L, 1);
    if (s->state != IC_FAILED) ic_stream_pump(s, 0);
    if (s->state == IC_FAILED) return ic_transfer_push(L, &s->t);
    if (s->t.body.len == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, s->t.body.data, s->t.body.len);
    s->t.body.len = 0; /* keeps the memory for the next piece */
    return 1;
}

/* stream:headers() -> status, headers | nil, kind, message, details */
static int ic_stream_headers(lua_State *L)
{
    ic_stream *s = ic_check_stream(L);
    lua_settop(L, 1);
    return ic_handle_call(L, &s->h, ic_stream_push_head, 0);
}

/* stream:read() -> chunk | nil (the end) | nil, kind, message, details */
static int ic_stream_read(lua_State *L)
{
    ic_stream *s = ic_check_stream(L);
    lua_settop(L, 1);
    return ic_handle_call(L, &s->h, ic_stream_push_chunk, 0);
}

static int ic_stream_close(lua_State *L)
{
    ic_handle_close(&ic_check_stream(L)->h);
    return 0;
}

static int ic_stream_closed(lua_State *L)
{
    lua_pushboolean(L, ic_check_stream(L)->h.state == IC_CLOSED);
    return 1;
}

static int ic_stream_tostring(lua_State *L)
{
    ic_stream *s = ic_check_stream(L);
    static const char *const names[] = {"running", "done", "failed"};
    lua_pushfstring(L, "intercom.stream (%s, %p)", s->h.state == IC_CLOSED ? "closed" : names[s->state],
                    (void *)s);
    return 1;
}

static const luaL_Reg ic_stream_methods[] = {
    {"headers", ic_stream_headers},
    {"read", ic_stream_read},
    {"close", ic_stream_close},
    {"closed", ic_stream_closed},
    {NULL, NULL}
};

static const luaL_Reg ic_stream_meta[] = {
    {"__gc", ic_stream_close},
#if LUA_VERSION_NUM >= 504
    {"__close", ic_stream_close},
#endif
    {"__tostring", ic_stream_tostring},
    {NULL, NULL}
};

static const luaL_Reg ic_stream_funcs[] = {
    {"stream", ic_stream_new},
    {NULL, NULL}
};

void ic_stream_register(lua_State *L)
{
    luaL_newmetatable(L, IC_STREAM_MT);
    ic_setfuncs(L, ic_stream_meta);
    lua_pushliteral(L, IC_STREAM_MT);
    lua_setfield(L, -2, "__name");
    ic_newlib(L, ic_stream_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    ic_setfuncs(L, ic_stream_funcs);
}
