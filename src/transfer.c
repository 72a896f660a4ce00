/* One HTTP transfer on one libcurl easy handle (see transfer.h): request checking and setup, the write
 * callbacks, and the outcome as Lua values. Shared by the session (http.c) and the multi (multi.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "transfer.h"

/* Buffers larger than this are released after each request instead of being kept for the next one. */
#define IC_KEEP_BYTES ((size_t)256 * 1024)

/* ---- life cycle ------------------------------------------------------------------------------------ */

int ic_transfer_init(ic_transfer *t)
{
    memset(t, 0, sizeof(*t));
    ic_buffer_init(&t->head);
    ic_buffer_init(&t->body);
    ic_buffer_init(&t->up);
    t->easy = curl_easy_init();
    return t->easy != NULL ? 0 : -1;
}

/* The request header list of the request being run (see ic_build_headers). */
static void ic_free_req_headers(ic_transfer *t)
{
    if (t->req_headers != NULL) {
        if (t->easy != NULL) curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
        curl_slist_free_all(t->req_headers);
        t->req_headers = NULL;
    }
}

void ic_transfer_cleanup(ic_transfer *t)
{
    if (t->out != NULL) {
        fclose(t->out);
        t->out = NULL;
    }
    t->out_errno = 0;
    t->oom = 0;
    t->too_large = 0;
    t->bad_length = 0;
    t->length_seen = 0;
    t->max_body = 0;
    t->to_file = 0;
    t->once_upload = 0;
    t->up_off = 0;
    ic_buffer_clear(&t->head, IC_KEEP_BYTES);
    ic_buffer_clear(&t->body, IC_KEEP_BYTES);
    ic_buffer_clear(&t->up, IC_KEEP_BYTES);
}

void ic_transfer_release(ic_transfer *t)
{
    ic_transfer_cleanup(t);
    ic_free_req_headers(t);
    ic_buffer_free(&t->head);
    ic_buffer_free(&t->body);
    ic_buffer_free(&t->up);
    if (t->easy != NULL) {
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
}

/* ---- libcurl callbacks: append to C memory only --------------------------------------------------- */

/* Whether a header line is a Content-Length that disagrees with one seen before in the same head
 * ("Content-Length: 2" then "Content-Length: 20", or "2, 20" on one line). libcurl 7.88 takes the last
 * one, which can frame a short prefix of the body as a whole, valid-looking answer; RFC 9112 6.3 says such
 * a response is unrecoverable. Identical repeats are allowed (RFC 9110 8.6). */
static int ic_conflicting_length(ic_transfer *t, const char *p, size_t len)
{
    static const char name[] = "content-length:";
    size_t i, n = sizeof name - 1;
    if (len <= n) return 0;
    for (i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return 0;
    }
    while (i < len) {
        unsigned long long v = 0;
        int digits = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
        while (i < len && p[i] >= '0' && p[i] <= '9') {
            if (digits++ < 19) v = v * 10 + (unsigned long long)(p[i] - '0');
            i++;
        }
        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
        if (digits == 0) return 0; /* not a number: left to libcurl, which refuses it */
        if (t->length_seen && v != t->length) return 1;
        t->length_seen = 1;
        t->length = v;
        if (i < len && p[i] == ',') i++;
        else break;
    }
    return 0;
}

static size_t ic_on_header(char *p, size_t size, size_t n, void *ud)
{
    ic_transfer *t = (ic_transfer *)ud;
    size_t len = size * n;
    /* A status line starts a new response: 1xx interim responses (and a proxy's CONNECT answer) come
     * first, and only the final response's headers are wanted. The status line itself is not kept. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        t->head.len = 0;
        t->length_seen = 0;
        return len;
    }
    if (ic_conflicting_length(t, p, len)) {
        t->bad_length = 1;
        return 0; /* aborts the transfer: the body's framing cannot be trusted */
    }
    if (ic_buffer_append(&t->head, p, len) != 0) {
        t->oom = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t ic_on_body(char *p, size_t size, size_t n, void *ud)
{
    ic_transfer *t = (ic_transfer *)ud;
    size_t len = size * n;
    if (t->out != NULL) {
        size_t w = fwrite(p, 1, len, t->out);
        if (w != len) t->out_errno = errno ? errno : EIO;
        return w; /* a short count aborts the transfer with CURLE_WRITE_ERROR */
    }
    /* max_response_bytes counts the bytes as they come out of libcurl's content decoder, so it bounds an
     * inflated gzip answer as well as a plain one: the transfer stops at the limit, whatever was announced. */
    if (t->max_body > 0 && len > t->max_body - t->body.len) {
        t->too_large = 1;
        return 0;
    }
    if (ic_buffer_append(&t->body, p, len) != 0) {
        t->oom = 1;
        return 0;
    }
    return len;
}

/* Hands libcurl the body of a request sent `once`. There is deliberately no seek callback: libcurl can
 * then not rewind the body, so it cannot replay the request by itself (see ic_transfer_prepare). */
static size_t ic_on_read(char *p, size_t size, size_t n, void *ud)
{
    ic_transfer *t = (ic_transfer *)ud;
    size_t room = size * n, left = t->up.len - t->up_off;
    if (room > left) room = left;
    memcpy(p, t->up.data + t->up_off, room);
    t->up_off += room;
    return room;
}

/* ---- argument checking ----------------------------------------------------------------------------- */

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

/* req[name] as a boolean flag: nil is false; anything but a boolean is refused. */
static int ic_field_flag(lua_State *L, int t, const char *name)
{
    int v;
    lua_getfield(L, t, name);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN)
        luaL_error(L, "intercom request: '%s' must be a boolean (got %s)", name, luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
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

/* req.max_response_bytes: nil (no limit) or a positive integer number of bytes. */
static size_t ic_field_size(lua_State *L, int t, const char *name)
{
    lua_Number v;
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "intercom request: '%s' must be a number of bytes (got %s)", name, luaL_typename(L, -1));
    v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(v >= 1)) luaL_error(L, "intercom request: '%s' must be at least 1", name);
    if (v >= (lua_Number)((size_t)-1 / 2)) return (size_t)-1 / 2;
    return (size_t)v;
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

static void ic_append_header(lua_State *L, ic_transfer *t, const char *h)
{
    /* The list lives in the transfer before and after the append, so raising here leaks nothing. */
    struct curl_slist *l = curl_slist_append(t->req_headers, h);
    if (l == NULL) luaL_error(L, "intercom: out of memory");
    t->req_headers = l;
}

/* Checks req.headers (array of "Name: value") and makes t->req_headers of them, followed by "Expect:" and,
 * for a request with a body whose headers name no Content-Type, "Content-Type:" (libcurl would add
 * "Expect: 100-continue" to larger bodies, an extra round trip that some servers mishandle, and
 * "Content-Type: application/x-www-form-urlencoded" to POSTFIELDS: the caller's headers are the only source
 * of truth). Every line is checked before the list is built. */
static void ic_build_headers(lua_State *L, ic_transfer *t, int idx, int has_body)
{
    int has_ct = 0;
    size_t i, n = 0;
    if (!lua_isnil(L, idx) && !lua_istable(L, idx))
        luaL_error(L, "intercom request: 'headers' must be an array of strings (got %s)", luaL_typename(L, idx));
    if (!lua_isnil(L, idx)) n = ic_rawlen(L, idx);
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
        lua_pop(L, 1);
    }
    ic_free_req_headers(t);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (int)i);
        ic_append_header(L, t, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    ic_append_header(L, t, "Expect:");
    if (has_body && !has_ct) ic_append_header(L, t, "Content-Type:");
}

/* ---- libcurl options ------------------------------------------------------------------------------ */

/* Options every request shares; applied after curl_easy_reset, which keeps the connection cache, DNS
 * cache and TLS session cache: exactly what keep-alive needs. Returns NULL, or the name of an option
 * that security depends on and libcurl refused (the request must then not be sent: fail closed). */
static const char *ic_apply_conn_options(ic_transfer *t, const ic_conn_opts *o)
{
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);          /* no SIGALRM for DNS timeouts: threads, embedders */
    /* gzip and deflate only: zlib's state is a fixed 32 KB window, and the decoded bytes are bounded by
     * max_response_bytes (ic_on_body). br and zstd would let a server pick a decoder window of up to
     * 16 MB / 128 MB per answer; Intercom's API serves gzip (docs/reliability.md, "Compression"). */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, ic_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ic_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
    /* What security depends on is checked: a libcurl that refuses one of these (too old, built without
     * TLS, out of memory) must not get the request. */
    if (curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK)   /* the token never follows a redirect */
        return "CURLOPT_FOLLOWLOCATION";
    if (curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK)   /* always: deliberately no switch */
        return "CURLOPT_SSL_VERIFYPEER";
    if (curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK)
        return "CURLOPT_SSL_VERIFYHOST";
    /* http and https only (no file://, no gopher:// through a URL someone else built). libcurl >= 7.85
     * takes the names, older ones the bit mask; the loaded library may be older than the headers. */
    if (curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK)
        return "CURLOPT_PROTOCOLS";
    if (o != NULL && o->ca_file != NULL && curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file) != CURLE_OK)
        return "CURLOPT_CAINFO";
    if (o != NULL && o->proxy != NULL && curl_easy_setopt(e, CURLOPT_PROXY, o->proxy) != CURLE_OK)
        return "CURLOPT_PROXY";
    return NULL;
}

/* Whether ic_apply_method sends a body, known before libcurl is touched. */
static int ic_sends_body(const char *method, const char *body)
{
    if (strcmp(method, "HEAD") == 0) return 0;
    return body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0
        || strcmp(method, "PATCH") == 0;
}

/* Method and body. The body is sent byte for byte (from the caller's string, or a copy with copy_body, or
 * for a request sent `once` through ic_on_read); any method other than POST is named with CUSTOMREQUEST.
 * POST, PUT and PATCH without a body still send "Content-Length: 0". */
static void ic_apply_method(ic_transfer *t, const char *method, const char *body, size_t body_len, int copy_body)
{
    CURL *e = t->easy;
    int is_post = strcmp(method, "POST") == 0;
    if (body == NULL && strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    if (body != NULL || is_post || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        if (t->once_upload) {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_READFUNCTION, ic_on_read);
            curl_easy_setopt(e, CURLOPT_READDATA, (void *)t);
        } else if (body != NULL && copy_body)
            curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
        else
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        if (!is_post) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        return;
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

int ic_transfer_prepare(lua_State *L, ic_transfer *t, int req, const ic_conn_opts *o, int copy_body)
{
    const char *method, *url, *body, *path;
    size_t body_len, url_len;
    long timeout_ms, connect_ms;
    int headers, once;
    const char *refused;
    size_t max_body;

    ic_transfer_cleanup(t); /* leftovers of a previous request interrupted by an error */

    /* Read and check everything before touching libcurl; the values stay on the stack. */
    method = ic_field_string(L, req, "method", 1, NULL);
    url = ic_field_string(L, req, "url", 1, &url_len);
    body = ic_field_string(L, req, "body", 0, &body_len);
    path = ic_field_string(L, req, "output_file", 0, NULL);
    lua_getfield(L, req, "headers");
    headers = lua_gettop(L);
    timeout_ms = ic_field_ms(L, req, "timeout");
    connect_ms = ic_field_ms(L, req, "connect_timeout");
    once = ic_field_flag(L, req, "once");
    max_body = ic_field_size(L, req, "max_response_bytes");
    t->decode = ic_field_flag(L, req, "decode");
    t->max_body = max_body;
    if (!ic_valid_method(method))
        luaL_error(L, "intercom request: invalid HTTP method '%s'", method);
    if (strlen(url) != url_len)
        luaL_error(L, "intercom request: 'url' contains a NUL byte");
    if (body != NULL && strcmp(method, "HEAD") == 0)
        luaL_error(L, "intercom request: a HEAD request cannot have a body");

    /* once: when a reused keep-alive connection turns out closed before a single byte of the answer,
     * libcurl silently sends the request again on a new connection (Curl_retry_request), POST included,
     * and no option turns that off (curl PR #18417 proposes one). The server may well have received and
     * acted on the first copy. Two ways rule the replay out:
     *  - a body that libcurl cannot rewind: sent through a read callback with no seek callback, the replay
     *    fails with CURLE_SEND_FAIL_REWIND before anything goes out again. The connection is reused as
     *    usual. (libcurl skips the rewind when no body byte was read, hence:)
     *  - a fresh connection, for a request without a body: libcurl only replays on a reused connection. */
    if (once && body != NULL && body_len > 0) {
        if (ic_buffer_append(&t->up, body, body_len) != 0) luaL_error(L, "intercom: out of memory");
        t->once_upload = 1;
    }

    ic_build_headers(L, t, headers, ic_sends_body(method, body));

    /* Every option of the previous request goes (a method, a body, a read callback must never carry
     * over); the caches that keep-alive needs stay. */
    curl_easy_reset(t->easy);
    t->errbuf[0] = '\0';
    refused = ic_apply_conn_options(t, o);
    if (refused != NULL) {
        ic_transfer_cleanup(t);
        lua_pushnil(L);
        lua_pushliteral(L, "network");
        lua_pushfstring(L, "libcurl refused %s: the request was not sent", refused);
        ic_push_details(L, (int)CURLE_UNKNOWN_OPTION, 0);
        return 4;
    }
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    ic_apply_method(t, method, body, body_len, copy_body);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->req_headers);
    if (timeout_ms > 0) curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (connect_ms > 0) curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    if (once && !t->once_upload) curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, 1L);

    if (path != NULL) {
        /* Opened last: nothing between here and the end of the transfer can raise. */
        t->out = fopen(path, "wb");
        if (t->out == NULL) {
            int err = errno;
            ic_transfer_cleanup(t);
            lua_pushnil(L);
            lua_pushliteral(L, "network");
            lua_pushfstring(L, "cannot open output file '%s': %s", path, strerror(err));
            ic_push_details(L, (int)CURLE_WRITE_ERROR, 0);
            return 4;
        }
        t->to_file = 1;
    }
    return 0;
}

/* Connection options (shared by session-less users: the multi and streams). */
void ic_conn_opts_read(lua_State *L, int idx, ic_conn_opts *o, const char *who)
{
    const char *names[2] = { "ca_file", "proxy" };
    const char **dest[2];
    int i;
    dest[0] = &o->ca_file;
    dest[1] = &o->proxy;
    o->ca_file = NULL;
    o->proxy = NULL;
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    for (i = 0; i < 2; i++) {
        lua_getfield(L, idx, names[i]);
        if (lua_isnil(L, -1)) continue;
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: option '%s' must be a string (got %s)", who, names[i], luaL_typename(L, -1));
        *dest[i] = lua_tostring(L, -1);
    }
}

/* ---- outcome ----------------------------------------------------------------------------------------- */

/* Whether the request may have reached the server: Lua uses it to decide if a POST may be replayed. */
static int ic_request_sent(ic_transfer *t, CURLcode rc)
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
    if (curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &size) != CURLE_OK) return 1;
    return size > 0;
}

void ic_transfer_complete(ic_transfer *t, CURLcode rc)
{
    int file_errno = 0;
    if (t->out != NULL) {
        /* fclose flushes: a full disk may only show up here. */
        if (fclose(t->out) != 0) file_errno = errno ? errno : EIO;
        t->out = NULL;
        if (t->out_errno != 0) file_errno = t->out_errno;
    }
    if (rc == CURLE_OK && file_errno != 0) rc = CURLE_WRITE_ERROR;
    t->rc = rc;
    t->file_errno = rc == CURLE_WRITE_ERROR ? file_errno : 0;
}

void ic_push_details(lua_State *L, int code, int sent)
{
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "curl_code");
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
}

/* nil, kind, message, details. The message is built from libcurl's texts only (never from the request
 * headers), so the Authorization token cannot end up in it. */
static int ic_push_failure(lua_State *L, ic_transfer *t)
{
    CURLcode rc = t->rc;
    const char *what = curl_easy_strerror(rc);
    size_t n = strlen(t->errbuf);
    while (n > 0 && ic_is_space(t->errbuf[n - 1])) t->errbuf[--n] = '\0';
    lua_pushnil(L);
    lua_pushstring(L, t->too_large ? "too_large" : rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network");
    if (t->bad_length)
        lua_pushliteral(L, "reading the response head: two different Content-Length values (the body's "
                        "framing cannot be trusted)");
    else if (t->too_large)
        lua_pushfstring(L, "reading the response body: the body is larger than max_response_bytes (%d bytes)",
                        (int)(t->max_body > 2147483647u ? 2147483647u : t->max_body));
    else if (rc == CURLE_SEND_FAIL_REWIND && t->once_upload)
        /* libcurl wanted to replay a request sent `once` and could not: say what happened instead. */
        lua_pushfstring(L, "connection lost before any answer (%s); not sent again, as the request may have "
                        "reached the server", (n > 0 && strstr(t->errbuf, "rewind") == NULL) ? t->errbuf
                        : "closed by the server");
    else if (t->oom)
        lua_pushfstring(L, "%s: out of memory while receiving the response", what);
    else if (t->file_errno != 0)
        lua_pushfstring(L, "%s: output file: %s", what, strerror(t->file_errno));
    else if (n > 0 && strcmp(t->errbuf, what) != 0)
        lua_pushfstring(L, "%s: %s", what, t->errbuf);
    else
        lua_pushstring(L, what);
    ic_push_details(L, (int)rc, ic_request_sent(t, rc));
    return 4;
}

void ic_transfer_push_head(lua_State *L, ic_transfer *t)
{
    ic_push_headers(L, t->head.data != NULL ? t->head.data : "", t->head.len);
}

/* req.decode: the JSON body of a 2xx response is decoded straight from the receive buffer, so the body
 * never becomes a Lua string (for a 110 KB page, an allocation and a copy of its size, and the garbage
 * collector's work on them). Pushes nil (no body string) and the value, and returns 1; returns 0 with
 * nothing pushed when the body is empty, not JSON or not valid JSON: the body string then goes to Lua,
 * whose decoder says what is wrong with it. */
static int ic_push_decoded(lua_State *L, ic_buffer *body)
{
    const char *p;
    int top = lua_gettop(L);
    if (body->len == 0 || ic_buffer_terminate(body) != 0) return 0;
    for (p = body->data; ic_is_space(*p); p++) {}
    if (*p != '{' && *p != '[') return 0;    /* an API's answer: anything else takes the usual way */
    lua_pushnil(L);
    if (ic_json_decode_text(L, body->data, body->len)) return 1;
    lua_settop(L, top);
    return 0;
}

int ic_transfer_push(lua_State *L, ic_transfer *t)
{
    long status = 0;
    if (t->rc != CURLE_OK) return ic_push_failure(L, t);
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    ic_push_headers(L, t->head.data != NULL ? t->head.data : "", t->head.len);
    if (t->to_file) {
        lua_pushnil(L);
        return 3;
    }
    if (t->decode && status >= 200 && status < 300 && ic_push_decoded(L, &t->body)) return 4;
    lua_pushlstring(L, t->body.data != NULL ? t->body.data : "", t->body.len);
    return 3;
}
