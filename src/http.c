/* libcurl sessions: one easy handle per session userdata, reused across requests for keep-alive.
 *
 * session:perform(req) runs one HTTP exchange to completion and returns
 *   status, headers, body                      on a completed exchange (any status, redirects included)
 *   nil, kind, message, {curl_code, sent}      on a transport failure ("timeout" or "network")
 * and raises only on misuse. req.once = true makes sure libcurl sends the request at most once (see
 * ic_session_perform). During the transfer libcurl's callbacks only append to C buffers owned by the
 * userdata: nothing calls back into Lua (that would break coroutines and OpenResty), and every resource
 * (easy handle, header list, output FILE, buffers) hangs off the userdata, so a Lua error raised at any
 * point cannot leak it: the next perform or __gc releases it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "core.h"
#include "buffer.h"

#define IC_SESSION_MT "intercom.session"

/* Buffers larger than this are released after each request instead of being kept for the next one. */
#define IC_KEEP_BYTES ((size_t)256 * 1024)

typedef struct ic_session {
    CURL *easy;                     /* NULL once closed */
    char *ca_file;                  /* session options, re-applied after each curl_easy_reset */
    char *proxy;
    struct curl_slist *req_headers; /* header list of the request being prepared or run */
    FILE *out;                      /* output_file of the request being run */
    int out_errno;                  /* errno of a failed write to out */
    int oom;                        /* a callback ran out of memory */
    const char *up;                 /* body of a request sent `once`, read by ic_on_read (the Lua string */
    size_t up_len, up_off;          /* stays on the stack for the whole transfer) */
    ic_buffer head;                 /* header lines of the final response (interim ones dropped) */
    ic_buffer body;
    char errbuf[CURL_ERROR_SIZE];
} ic_session;

/* curl_global_init is not thread-safe and must run once per process; Lua states live in one thread here. */
static int ic_curl_ready = 0;

static void ic_curl_global(lua_State *L)
{
    if (ic_curl_ready) return;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        luaL_error(L, "intercom: curl_global_init failed");
    ic_curl_ready = 1;
}

/* ---- per-request resources ---------------------------------------------------------------------- */

/* Releases what one request holds; safe to call at any time (also after a request interrupted by an error). */
static void ic_request_cleanup(ic_session *s)
{
    if (s->req_headers != NULL) {
        curl_slist_free_all(s->req_headers);
        s->req_headers = NULL;
    }
    if (s->out != NULL) {
        fclose(s->out);
        s->out = NULL;
    }
    s->out_errno = 0;
    s->oom = 0;
    s->up = NULL;
    s->up_len = s->up_off = 0;
    ic_buffer_clear(&s->head, IC_KEEP_BYTES);
    ic_buffer_clear(&s->body, IC_KEEP_BYTES);
}

/* The one destructor behind close, __gc and __close: idempotent. */
static void ic_session_release(ic_session *s)
{
    ic_request_cleanup(s);
    ic_buffer_free(&s->head);
    ic_buffer_free(&s->body);
    if (s->easy != NULL) {
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    free(s->ca_file);
    s->ca_file = NULL;
    free(s->proxy);
    s->proxy = NULL;
}

/* ---- libcurl callbacks: append to C memory only --------------------------------------------------- */

static size_t ic_on_header(char *p, size_t size, size_t n, void *ud)
{
    ic_session *s = (ic_session *)ud;
    size_t len = size * n;
    /* A status line starts a new response: 1xx interim responses (and a proxy's CONNECT answer) come
     * first, and only the final response's headers are wanted. The status line itself is not kept. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        s->head.len = 0;
        return len;
    }
    if (ic_buffer_append(&s->head, p, len) != 0) {
        s->oom = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t ic_on_body(char *p, size_t size, size_t n, void *ud)
{
    ic_session *s = (ic_session *)ud;
    size_t len = size * n;
    if (s->out != NULL) {
        size_t w = fwrite(p, 1, len, s->out);
        if (w != len) s->out_errno = errno ? errno : EIO;
        return w; /* a short count aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (ic_buffer_append(&s->body, p, len) != 0) {
        s->oom = 1;
        return 0;
    }
    return len;
}

/* Hands libcurl the body of a request sent `once`. There is deliberately no seek callback: libcurl can then
 * not rewind the body, so it cannot replay the request by itself (see ic_session_perform). */
static size_t ic_on_read(char *p, size_t size, size_t n, void *ud)
{
    ic_session *s = (ic_session *)ud;
    size_t room = size * n, left = s->up_len - s->up_off;
    if (room > left) room = left;
    memcpy(p, s->up + s->up_off, room);
    s->up_off += room;
    return room;
}

/* ---- argument checking ----------------------------------------------------------------------------- */

static ic_session *ic_check_session(lua_State *L)
{
    return (ic_session *)luaL_checkudata(L, 1, IC_SESSION_MT);
}

static ic_session *ic_check_open(lua_State *L)
{
    ic_session *s = ic_check_session(L);
    if (s->easy == NULL) luaL_error(L, "intercom session is closed");
    return s;
}

/* Pushes req[name] (kept on the stack so the string stays anchored for the whole transfer) and returns it
 * as a string, or NULL when absent and optional. Numbers are refused: a method or URL is never a number. */
static const char *ic_field_string(lua_State *L, int t, const char *name, int required, size_t *len)
{
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        if (required) luaL_error(L, "intercom request: '%s' is required", name);
        if (len != NULL) *len = 0;
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "intercom request: '%s' must be a string (got %s)", name, luaL_typename(L, -1));
    return lua_tolstring(L, -1, len);
}

/* Seconds (float) to whole milliseconds, rounded up so that a tiny positive timeout never becomes 0,
 * which libcurl reads as "no timeout". nil and 0 mean no limit. */
static long ic_field_ms(lua_State *L, int t, const char *name)
{
    lua_Number sec, ms;
    long v;
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "intercom request: '%s' must be a number of seconds (got %s)", name, luaL_typename(L, -1));
    sec = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(sec >= 0)) /* also catches NaN */
        luaL_error(L, "intercom request: '%s' must not be negative", name);
    ms = sec * 1000.0;
    if (ms >= 2147483647.0) return 2147483647L; /* fits a 32-bit long; ~24 days is "no limit" in practice */
    v = (long)ms;
    if ((lua_Number)v < ms) v++;
    return v;
}

/* HTTP method token (RFC 9110 tchar): refuses spaces and CR/LF, which would let a caller forge the request line. */
static int ic_valid_method(const char *m)
{
    if (*m == '\0') return 0;
    for (; *m; m++) {
        unsigned char c = (unsigned char)*m;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL) continue;
        return 0;
    }
    return 1;
}

static int ic_is_header(const char *h, size_t len, const char *name)
{
    size_t n = strlen(name), i;
    if (len <= n) return 0;
    for (i = 0; i < n; i++) {
        char c = h[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return 0;
    }
    /* "Name: v" sets, "Name:" removes and "Name;" sends an empty value: all three name the header. */
    return h[n] == ':' || h[n] == ';';
}

static void ic_append_header(lua_State *L, ic_session *s, const char *h)
{
    /* The list lives in the session before and after the append, so raising here leaks nothing. */
    struct curl_slist *l = curl_slist_append(s->req_headers, h);
    if (l == NULL) luaL_error(L, "intercom: out of memory");
    s->req_headers = l;
}

/* Copies req.headers (array of "Name: value") into s->req_headers; returns whether Content-Type was given. */
static int ic_build_headers(lua_State *L, ic_session *s, int idx)
{
    int has_ct = 0;
    size_t i, n;
    if (lua_isnil(L, idx)) return 0;
    if (!lua_istable(L, idx))
        luaL_error(L, "intercom request: 'headers' must be an array of strings (got %s)", luaL_typename(L, idx));
    n = ic_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *h;
        lua_rawgeti(L, idx, (int)i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "intercom request: headers[%d] must be a string (got %s)", (int)i, luaL_typename(L, -1));
        h = lua_tolstring(L, -1, &len);
        /* CR/LF would let a value smuggle extra headers; NUL would silently truncate it in libcurl. */
        if (strlen(h) != len || strpbrk(h, "\r\n") != NULL)
            luaL_error(L, "intercom request: headers[%d] contains a line break or NUL byte", (int)i);
        if (memchr(h, ':', len) == NULL && memchr(h, ';', len) == NULL)
            luaL_error(L, "intercom request: headers[%d] is not a 'Name: value' string", (int)i);
        if (ic_is_header(h, len, "content-type")) has_ct = 1;
        ic_append_header(L, s, h);
        lua_pop(L, 1);
    }
    return has_ct;
}

/* ---- per-request libcurl options ---------------------------------------------------------------- */

/* Options every request of the session shares; re-applied after curl_easy_reset, which keeps the
 * connection cache, DNS cache and TLS session cache: exactly what keep-alive needs. */
static void ic_apply_session_options(ic_session *s)
{
    CURL *e = s->easy;
    s->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);          /* no SIGALRM for DNS timeouts: threads, embedders */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);    /* a redirect is returned, Authorization never forwarded */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");   /* every encoding libcurl can decode */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);    /* always: there is deliberately no switch */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (s->ca_file != NULL) curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
    if (s->proxy != NULL) curl_easy_setopt(e, CURLOPT_PROXY, s->proxy);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, ic_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)s);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ic_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
}

/* Method and body. The body is sent byte for byte with POSTFIELDS (the Lua string stays on the stack for
 * the whole transfer, so libcurl need not copy it), or, for a request sent `once`, through ic_on_read; any
 * method other than POST is named with CUSTOMREQUEST. POST, PUT and PATCH without a body still send
 * "Content-Length: 0". */
static int ic_apply_method(ic_session *s, const char *method, const char *body, size_t body_len, int once)
{
    CURL *e = s->easy;
    int is_post = strcmp(method, "POST") == 0;
    if (body == NULL && strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        return 0;
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return 0;
    }
    if (body != NULL || is_post || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        if (once && body_len > 0) {
            s->up = body;
            s->up_len = body_len;
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_READFUNCTION, ic_on_read);
            curl_easy_setopt(e, CURLOPT_READDATA, (void *)s);
        } else {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        }
        if (!is_post) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        return 1;
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    return 0;
}

/* ---- results ------------------------------------------------------------------------------------- */

static int ic_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Pushes the final response's headers: lowercase name -> value, repeated names joined with ", ",
 * obsolete line folding joined with a space. Names are lowercased in place: the buffer is ours. */
static void ic_push_headers(lua_State *L, ic_buffer *h)
{
    char *p = h->data, *end = h->data + h->len;
    char *last_name = NULL;
    size_t last_len = 0;
    lua_newtable(L);
    while (p != NULL && p < end) {
        char *eol = (char *)memchr(p, '\n', (size_t)(end - p));
        char *next = eol != NULL ? eol + 1 : end;
        char *line_end = eol != NULL ? eol : end;
        while (line_end > p && ic_is_space(line_end[-1])) line_end--;
        if (line_end == p) {
            p = next;
            continue;
        }
        if (*p == ' ' || *p == '\t') {
            /* obs-fold: a continuation of the previous header's value */
            char *v = p;
            while (v < line_end && ic_is_space(*v)) v++;
            if (last_name != NULL) {
                lua_pushlstring(L, last_name, last_len);
                lua_pushvalue(L, -1);
                lua_rawget(L, -3);
                lua_pushliteral(L, " ");
                lua_pushlstring(L, v, (size_t)(line_end - v));
                lua_concat(L, 3);
                lua_rawset(L, -3);
            }
        } else {
            char *colon = (char *)memchr(p, ':', (size_t)(line_end - p));
            if (colon != NULL) {
                char *name_end = colon, *v = colon + 1, *c;
                while (name_end > p && ic_is_space(name_end[-1])) name_end--;
                while (v < line_end && ic_is_space(*v)) v++;
                for (c = p; c < name_end; c++)
                    if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
                last_name = p;
                last_len = (size_t)(name_end - p);
                lua_pushlstring(L, p, last_len);
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
        }
        p = next;
    }
}

/* Whether the request may have reached the server: Lua uses it to decide if a POST may be replayed. */
static int ic_request_sent(ic_session *s, CURLcode rc)
{
    long size = 0;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return 0;
    default:
        break;
    }
    /* REQUEST_SIZE is reset per transfer and counts request bytes handed to the connection: 0 means the
     * failure (connect timeout, TLS handshake, bad URL) happened before any of the request went out. */
    if (curl_easy_getinfo(s->easy, CURLINFO_REQUEST_SIZE, &size) != CURLE_OK) return 1;
    return size > 0;
}

static void ic_push_details(lua_State *L, int code, int sent)
{
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "curl_code");
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
}

/* nil, kind, message, details. The message is built from libcurl's texts only (never from the request
 * headers), so the Authorization token cannot end up in it. */
static int ic_push_failure(lua_State *L, ic_session *s, CURLcode rc, int file_errno)
{
    const char *what = curl_easy_strerror(rc);
    size_t n = strlen(s->errbuf);
    while (n > 0 && ic_is_space(s->errbuf[n - 1])) s->errbuf[--n] = '\0';
    lua_pushnil(L);
    lua_pushstring(L, rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network");
    if (rc == CURLE_SEND_FAIL_REWIND && s->up != NULL)
        /* libcurl wanted to replay a request sent `once` and could not: say what happened instead. */
        lua_pushfstring(L, "connection lost before any answer (%s); not sent again, as the request may have "
                        "reached the server", (n > 0 && strstr(s->errbuf, "rewind") == NULL) ? s->errbuf
                        : "closed by the server");
    else if (s->oom)
        lua_pushfstring(L, "%s: out of memory while receiving the response", what);
    else if (file_errno != 0)
        lua_pushfstring(L, "%s: output file: %s", what, strerror(file_errno));
    else if (n > 0 && strcmp(s->errbuf, what) != 0)
        lua_pushfstring(L, "%s: %s", what, s->errbuf);
    else
        lua_pushstring(L, what);
    ic_push_details(L, (int)rc, ic_request_sent(s, rc));
    return 4;
}

/* ---- methods ------------------------------------------------------------------------------------- */

/* session:perform{method, url, headers?, body?, timeout?, connect_timeout?, output_file?, once?}
 *
 * once: when a reused keep-alive connection turns out closed before a single byte of the answer, libcurl
 * silently sends the request again on a new connection (Curl_retry_request), POST included, and no option
 * turns that off (curl PR #18417 proposes one). The server may well have received and acted on the first
 * copy. Two ways rule the replay out:
 *  - a body that libcurl cannot rewind: sent through a read callback with no seek callback, the replay
 *    fails with CURLE_SEND_FAIL_REWIND before anything goes out again. Costs nothing: the connection is
 *    reused as usual. (libcurl 7.x and 8.x both skip the rewind when no body byte was read, hence:)
 *  - a fresh connection, for a request without a body: libcurl only replays on a reused connection. Costs
 *    a connect and a TLS handshake; the new connection then joins the cache and later requests reuse it. */
static int ic_session_perform(lua_State *L)
{
    ic_session *s = ic_check_open(L);
    const char *method, *url, *body, *path;
    size_t body_len, url_len;
    long timeout_ms, connect_ms, status = 0;
    int has_ct, has_body, once, file_errno = 0;
    CURLcode rc;

    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    ic_request_cleanup(s); /* leftovers of a previous perform interrupted by an error */

    /* Read and check everything before touching libcurl; the values stay on the stack (3..7). */
    method = ic_field_string(L, 2, "method", 1, NULL);            /* 3 */
    url = ic_field_string(L, 2, "url", 1, &url_len);              /* 4 */
    body = ic_field_string(L, 2, "body", 0, &body_len);           /* 5 */
    path = ic_field_string(L, 2, "output_file", 0, NULL);         /* 6 */
    lua_getfield(L, 2, "headers");                                /* 7 */
    timeout_ms = ic_field_ms(L, 2, "timeout");
    connect_ms = ic_field_ms(L, 2, "connect_timeout");
    lua_getfield(L, 2, "once");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN)
        luaL_error(L, "intercom request: 'once' must be a boolean (got %s)", luaL_typename(L, -1));
    once = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!ic_valid_method(method))
        luaL_error(L, "intercom request: invalid HTTP method '%s'", method);
    if (strlen(url) != url_len)
        luaL_error(L, "intercom request: 'url' contains a NUL byte");
    if (body != NULL && strcmp(method, "HEAD") == 0)
        luaL_error(L, "intercom request: a HEAD request cannot have a body");

    curl_easy_reset(s->easy);
    ic_apply_session_options(s);
    has_ct = ic_build_headers(L, s, 7);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    has_body = ic_apply_method(s, method, body, body_len, once);
    /* libcurl would add "Expect: 100-continue" to larger bodies (an extra round trip, and some servers
     * mishandle it) and "Content-Type: application/x-www-form-urlencoded" to POSTFIELDS: the caller's
     * headers are the only source of truth. */
    ic_append_header(L, s, "Expect:");
    if (has_body && !has_ct) ic_append_header(L, s, "Content-Type:");
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->req_headers);
    if (timeout_ms > 0) curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (connect_ms > 0) curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    if (once && s->up == NULL) curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);

    if (path != NULL) {
        /* Opened last: nothing between here and the end of the transfer can raise. */
        s->out = fopen(path, "wb");
        if (s->out == NULL) {
            int err = errno;
            ic_request_cleanup(s);
            lua_pushnil(L);
            lua_pushliteral(L, "network");
            lua_pushfstring(L, "cannot open output file '%s': %s", path, strerror(err));
            ic_push_details(L, (int)CURLE_WRITE_ERROR, 0);
            return 4;
        }
    }

    rc = curl_easy_perform(s->easy);

    if (s->out != NULL) {
        /* fclose flushes: a full disk may only show up here. */
        if (fclose(s->out) != 0) file_errno = errno ? errno : EIO;
        s->out = NULL;
        if (s->out_errno != 0) file_errno = s->out_errno;
    }
    curl_slist_free_all(s->req_headers);
    s->req_headers = NULL;

    if (rc == CURLE_OK && file_errno != 0) rc = CURLE_WRITE_ERROR;
    if (rc != CURLE_OK) {
        int n = ic_push_failure(L, s, rc, rc == CURLE_WRITE_ERROR ? file_errno : 0);
        ic_request_cleanup(s);
        return n;
    }

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    ic_push_headers(L, &s->head);
    if (path != NULL)
        lua_pushnil(L);
    else
        lua_pushlstring(L, s->body.data != NULL ? s->body.data : "", s->body.len);
    ic_request_cleanup(s);
    return 3;
}

static int ic_session_close(lua_State *L)
{
    ic_session_release(ic_check_session(L));
    return 0;
}

static int ic_session_closed(lua_State *L)
{
    lua_pushboolean(L, ic_check_session(L)->easy == NULL);
    return 1;
}

static int ic_session_tostring(lua_State *L)
{
    ic_session *s = ic_check_session(L);
    lua_pushfstring(L, "intercom.session (%s%p)", s->easy == NULL ? "closed, " : "", (void *)s);
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
    ic_buffer_init(&s->head);
    ic_buffer_init(&s->body);
    /* The metatable goes on first, so __gc frees whatever the steps below manage to allocate. */
    luaL_getmetatable(L, IC_SESSION_MT);
    lua_setmetatable(L, -2);
    if (has_opts) {
        s->ca_file = ic_dup_option(L, 1, "ca_file");
        s->proxy = ic_dup_option(L, 1, "proxy");
    }
    s->easy = curl_easy_init();
    if (s->easy == NULL) luaL_error(L, "intercom: curl_easy_init failed");
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
    ic_push_curl_version(L);
    lua_setfield(L, -2, "curl_version");
}
