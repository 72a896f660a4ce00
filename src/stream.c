/* A response body read piece by piece (downloads): a pull design, so that Lua can hand each piece to a
 * file, a sink or a progress callback without the C core ever calling back into Lua during a transfer.
 *
 *   local s = core.stream(opts, req)   -- opts: nil or {ca_file, proxy}; req: {method, url, headers?, body?,
 *                                       --   timeout? (idle seconds), connect_timeout?}; raises on misuse
 *   local status, headers = s:headers() -- runs the transfer until the final response's head is in
 *   local chunk = s:read()              -- the next piece of the body; nil at the end
 *   s:close()                           -- also __gc and __close
 * On a transport failure headers() and read() return nil, kind ("timeout"|"network"), message,
 * {curl_code, sent}, as session:perform does.
 *
 * One easy handle on its own multi handle: headers() and read() call curl_multi_perform/poll until
 * something is there for Lua, then return. libcurl's callbacks only append to C buffers owned by the
 * userdata; once IC_STREAM_MAX bytes wait for Lua, the write callback pauses the transfer, and the next
 * read() resumes it: memory stays bounded whatever the body size and however slowly Lua consumes it.
 *
 * The body is delivered exactly as the server sent it: no Accept-Encoding is offered and no
 * Content-Encoding is decoded (a data export is a .gz file; its bytes are the point). `timeout` is an
 * idle timeout (no byte for that long), not a limit on the whole download, which may legitimately take
 * longer. Redirects are not followed (the token must not travel). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "core.h"
#include "buffer.h"

#define IC_STREAM_MT "intercom.stream"

/* Bytes buffered for Lua before the transfer is paused; a read() returns at most about this much. */
#define IC_STREAM_MAX ((size_t)256 * 1024)

enum { IC_RUNNING, IC_DONE, IC_FAILED, IC_CLOSED };

typedef struct ic_stream {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *req_headers;
    ic_buffer head;                 /* header lines of the final response (interim ones dropped) */
    ic_buffer chunk;                /* body bytes not yet handed to Lua */
    int state;
    int added;                      /* easy is inside multi */
    int paused;                     /* the write callback paused the transfer */
    int got_body;                   /* a body byte arrived: the head is final */
    int oom;
    CURLcode rc;
    char errbuf[CURL_ERROR_SIZE];
} ic_stream;

static int ic_stream_curl_ready = 0;

/* curl_global_init counts its calls, so this is safe next to the one in http.c. */
static void ic_stream_curl_global(lua_State *L)
{
    if (ic_stream_curl_ready) return;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) luaL_error(L, "intercom: curl_global_init failed");
    ic_stream_curl_ready = 1;
}

/* The one destructor behind close, __gc and __close: idempotent. */
static void ic_stream_release(ic_stream *s)
{
    if (s->multi != NULL && s->easy != NULL && s->added) curl_multi_remove_handle(s->multi, s->easy);
    s->added = 0;
    if (s->easy != NULL) curl_easy_cleanup(s->easy);
    s->easy = NULL;
    if (s->multi != NULL) curl_multi_cleanup(s->multi);
    s->multi = NULL;
    if (s->req_headers != NULL) curl_slist_free_all(s->req_headers);
    s->req_headers = NULL;
    ic_buffer_free(&s->head);
    ic_buffer_free(&s->chunk);
    s->state = IC_CLOSED;
}

/* ---- libcurl callbacks: C memory only ------------------------------------------------------------------- */

static size_t ic_stream_on_header(char *p, size_t size, size_t n, void *ud)
{
    ic_stream *s = (ic_stream *)ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response: 1xx or a proxy's CONNECT came first */
        s->head.len = 0;
        return len;
    }
    if (ic_buffer_append(&s->head, p, len) != 0) {
        s->oom = 1;
        return 0;
    }
    return len;
}

static size_t ic_stream_on_body(char *p, size_t size, size_t n, void *ud)
{
    ic_stream *s = (ic_stream *)ud;
    size_t len = size * n;
    s->got_body = 1;
    if (s->chunk.len > 0 && s->chunk.len + len > IC_STREAM_MAX) {
        s->paused = 1;
        return CURL_WRITEFUNC_PAUSE; /* libcurl keeps these bytes and offers them again on resume */
    }
    if (ic_buffer_append(&s->chunk, p, len) != 0) {
        s->oom = 1;
        return 0;
    }
    return len;
}

/* ---- the request ------------------------------------------------------------------------------------------ */

/* req[name] as a string (left on the stack), or NULL when absent and optional. */
static const char *ic_stream_field(lua_State *L, int t, const char *name, int required, size_t *len)
{
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        if (required) luaL_error(L, "intercom stream: '%s' is required", name);
        if (len != NULL) *len = 0;
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "intercom stream: '%s' must be a string (got %s)", name, luaL_typename(L, -1));
    return lua_tolstring(L, -1, len);
}

/* Seconds to whole milliseconds, rounded up; nil or 0: none. */
static long ic_stream_ms(lua_State *L, int t, const char *name)
{
    lua_Number sec, ms;
    long v;
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "intercom stream: '%s' must be a number of seconds (got %s)", name, luaL_typename(L, -1));
    sec = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(sec >= 0)) luaL_error(L, "intercom stream: '%s' must not be negative", name);
    ms = sec * 1000.0;
    if (ms >= 2147483647.0) return 2147483647L;
    v = (long)ms;
    if ((lua_Number)v < ms) v++;
    return v;
}

static int ic_stream_valid_method(const char *m)
{
    if (*m == '\0') return 0;
    for (; *m; m++) {
        unsigned char c = (unsigned char)*m;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (strchr("!#$%&'*+-.^_`|~", c) != NULL) continue;
        return 0;
    }
    return 1;
}

/* Whether h starts with the lowercase name, case-insensitively. */
static int ic_stream_is_name(const char *h, const char *name)
{
    for (; *name; h++, name++) {
        char c = *h;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != *name) return 0;
    }
    return 1;
}

static void ic_stream_header(lua_State *L, ic_stream *s, const char *h)
{
    struct curl_slist *l = curl_slist_append(s->req_headers, h);
    if (l == NULL) luaL_error(L, "intercom: out of memory");
    s->req_headers = l;
}

/* req.headers: an array of "Name: value" strings; returns whether one is Content-Type. */
static int ic_stream_headers_in(lua_State *L, ic_stream *s, int idx)
{
    int has_ct = 0;
    size_t i, n;
    if (lua_isnil(L, idx)) return 0;
    if (!lua_istable(L, idx))
        luaL_error(L, "intercom stream: 'headers' must be an array of strings (got %s)", luaL_typename(L, idx));
    n = ic_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *h;
        lua_rawgeti(L, idx, (int)i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "intercom stream: headers[%d] must be a string (got %s)", (int)i, luaL_typename(L, -1));
        h = lua_tolstring(L, -1, &len);
        if (strlen(h) != len || strpbrk(h, "\r\n") != NULL)
            luaL_error(L, "intercom stream: headers[%d] contains a line break or NUL byte", (int)i);
        if (memchr(h, ':', len) == NULL && memchr(h, ';', len) == NULL)
            luaL_error(L, "intercom stream: headers[%d] is not a 'Name: value' string", (int)i);
        if (len >= 13 && ic_stream_is_name(h, "content-type") && (h[12] == ':' || h[12] == ';')) has_ct = 1;
        ic_stream_header(L, s, h);
        lua_pop(L, 1);
    }
    return has_ct;
}

static char *ic_stream_opt(lua_State *L, int opts, const char *name)
{
    if (lua_isnoneornil(L, opts)) return NULL;
    lua_getfield(L, opts, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "intercom stream: option '%s' must be a string (got %s)", name, luaL_typename(L, -1));
    return (char *)lua_tostring(L, -1); /* stays on the stack; libcurl copies it on setopt */
}

/* core.stream(opts, req) -> stream */
static int ic_stream_new(lua_State *L)
{
    ic_stream *s;
    const char *method, *url, *body, *ca_file, *proxy;
    size_t url_len, body_len;
    long idle_ms, connect_ms;
    int has_ct;
    CURL *e;

    if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    ic_stream_curl_global(L);

    /* Check everything before allocating anything; the strings stay on the stack (3..9). */
    ca_file = ic_stream_opt(L, 1, "ca_file");
    if (ca_file == NULL) lua_pushnil(L);
    proxy = ic_stream_opt(L, 1, "proxy");
    if (proxy == NULL) lua_pushnil(L);
    method = ic_stream_field(L, 2, "method", 1, NULL);
    url = ic_stream_field(L, 2, "url", 1, &url_len);
    body = ic_stream_field(L, 2, "body", 0, &body_len);
    lua_getfield(L, 2, "headers"); /* 8 */
    idle_ms = ic_stream_ms(L, 2, "timeout");
    connect_ms = ic_stream_ms(L, 2, "connect_timeout");
    if (!ic_stream_valid_method(method)) luaL_error(L, "intercom stream: invalid HTTP method '%s'", method);
    if (strlen(url) != url_len) luaL_error(L, "intercom stream: 'url' contains a NUL byte");

    s = (ic_stream *)lua_newuserdata(L, sizeof(*s)); /* 9 */
    memset(s, 0, sizeof(*s));
    ic_buffer_init(&s->head);
    ic_buffer_init(&s->chunk);
    s->state = IC_CLOSED; /* until fully set up: a raise below leaves a closed, harmless stream to __gc */
    luaL_getmetatable(L, IC_STREAM_MT);
    lua_setmetatable(L, -2);

    has_ct = ic_stream_headers_in(L, s, 8);
    ic_stream_header(L, s, "Expect:");                      /* no 100-continue round trip */
    if (body != NULL && !has_ct) ic_stream_header(L, s, "Content-Type:");
    s->multi = curl_multi_init();
    s->easy = curl_easy_init();
    if (s->multi == NULL || s->easy == NULL) luaL_error(L, "intercom: cannot create a curl handle");
    e = s->easy;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* the bytes as sent, never decoded */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (ca_file != NULL) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    if (proxy != NULL) curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, ic_stream_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)s);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ic_stream_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body); /* the stream outlives this call's stack */
        if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->req_headers);
    if (connect_ms > 0) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    if (idle_ms > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (idle_ms + 999) / 1000);
    }
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK) luaL_error(L, "intercom: cannot start the transfer");
    s->added = 1;
    s->state = IC_RUNNING;
    return 1;
}

/* ---- driving the transfer ----------------------------------------------------------------------------- */

static int ic_stream_ready(ic_stream *s, int want_head)
{
    if (s->state != IC_RUNNING) return 1;
    return want_head ? s->got_body : s->chunk.len > 0;
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
            curl_easy_pause(s->easy, CURLPAUSE_CONT); /* may hand the kept bytes to on_body at once */
            continue;
        }
        mc = curl_multi_perform(s->multi, &running);
        while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == s->easy) {
                s->rc = msg->data.result;
                if (s->rc == CURLE_OK && s->oom) s->rc = CURLE_OUT_OF_MEMORY;
                s->state = s->rc == CURLE_OK ? IC_DONE : IC_FAILED;
            }
        }
        if (mc != CURLM_OK) {
            s->rc = CURLE_RECV_ERROR;
            snprintf(s->errbuf, sizeof(s->errbuf), "%s", curl_multi_strerror(mc));
            s->state = IC_FAILED;
        }
        if (ic_stream_ready(s, want_head)) break;
        if (running == 0 && s->state == IC_RUNNING && !s->paused) {
            /* libcurl says nothing runs but reported no end: never spin */
            s->rc = CURLE_RECV_ERROR;
            s->state = IC_FAILED;
            break;
        }
        if (!s->paused) {
#if LIBCURL_VERSION_NUM >= 0x074200
            curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
#else
            curl_multi_wait(s->multi, NULL, 0, 1000, NULL);
#endif
        }
    }
}

static int ic_stream_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Pushes the head as {lowercase name = value}; repeated names joined with ", ". */
static void ic_stream_push_head(lua_State *L, ic_buffer *h)
{
    char *p = h->data, *end = h->data + h->len;
    lua_newtable(L);
    while (p != NULL && p < end) {
        char *eol = (char *)memchr(p, '\n', (size_t)(end - p));
        char *next = eol != NULL ? eol + 1 : end;
        char *line_end = eol != NULL ? eol : end;
        char *colon, *name_end, *v, *c;
        while (line_end > p && ic_stream_is_space(line_end[-1])) line_end--;
        colon = line_end > p && *p != ' ' && *p != '\t' ? (char *)memchr(p, ':', (size_t)(line_end - p)) : NULL;
        if (colon != NULL) {
            name_end = colon;
            v = colon + 1;
            while (name_end > p && ic_stream_is_space(name_end[-1])) name_end--;
            while (v < line_end && ic_stream_is_space(*v)) v++;
            for (c = p; c < name_end; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
            lua_pushlstring(L, p, (size_t)(name_end - p));
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(line_end - v));
            } else {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(line_end - v));
                lua_concat(L, 3);
            }
            lua_rawset(L, -3);
        }
        p = next;
    }
}

/* nil, kind, message, {curl_code, sent}; only libcurl's texts, so the token cannot appear. */
static int ic_stream_push_failure(lua_State *L, ic_stream *s)
{
    const char *what = curl_easy_strerror(s->rc);
    size_t n = strlen(s->errbuf);
    long size = 0;
    int sent = 1;
    while (n > 0 && ic_stream_is_space(s->errbuf[n - 1])) s->errbuf[--n] = '\0';
    if (s->rc == CURLE_COULDNT_RESOLVE_HOST || s->rc == CURLE_COULDNT_RESOLVE_PROXY || s->rc == CURLE_COULDNT_CONNECT)
        sent = 0;
    else if (s->easy != NULL && curl_easy_getinfo(s->easy, CURLINFO_REQUEST_SIZE, &size) == CURLE_OK)
        sent = size > 0;
    lua_pushnil(L);
    lua_pushstring(L, s->rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network");
    if (s->oom)
        lua_pushfstring(L, "%s: out of memory while receiving the response", what);
    else if (n > 0 && strcmp(s->errbuf, what) != 0)
        lua_pushfstring(L, "%s: %s", what, s->errbuf);
    else
        lua_pushstring(L, what);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)s->rc);
    lua_setfield(L, -2, "curl_code");
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
    return 4;
}

static ic_stream *ic_check_stream(lua_State *L)
{
    return (ic_stream *)luaL_checkudata(L, 1, IC_STREAM_MT);
}

static ic_stream *ic_check_open_stream(lua_State *L)
{
    ic_stream *s = ic_check_stream(L);
    if (s->state == IC_CLOSED) luaL_error(L, "intercom stream is closed");
    return s;
}

/* stream:headers() -> status, headers | nil, kind, message, details */
static int ic_stream_headers(lua_State *L)
{
    ic_stream *s = ic_check_open_stream(L);
    long status = 0;
    ic_stream_pump(s, 1);
    if (s->state == IC_FAILED) return ic_stream_push_failure(L, s);
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    ic_stream_push_head(L, &s->head);
    return 2;
}

/* stream:read() -> chunk | nil (the end) | nil, kind, message, details */
static int ic_stream_read(lua_State *L)
{
    ic_stream *s = ic_check_open_stream(L);
    if (s->state == IC_FAILED) return ic_stream_push_failure(L, s);
    ic_stream_pump(s, 0);
    if (s->state == IC_FAILED) return ic_stream_push_failure(L, s);
    if (s->chunk.len == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, s->chunk.data, s->chunk.len);
    s->chunk.len = 0; /* keeps the memory for the next piece */
    return 1;
}

static int ic_stream_close(lua_State *L)
{
    ic_stream_release(ic_check_stream(L));
    return 0;
}

static int ic_stream_tostring(lua_State *L)
{
    ic_stream *s = ic_check_stream(L);
    static const char *const names[] = {"running", "done", "failed", "closed"};
    lua_pushfstring(L, "intercom.stream (%s, %p)", names[s->state], (void *)s);
    return 1;
}

static const luaL_Reg ic_stream_methods[] = {
    {"headers", ic_stream_headers},
    {"read", ic_stream_read},
    {"close", ic_stream_close},
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
