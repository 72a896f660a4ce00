/* Shared between the core's files: each registers its functions into the module table on top of the stack. */
#ifndef IC_CORE_H
#define IC_CORE_H

#include "compat.h"

void ic_json_register(lua_State *L);   /* json.c: json_encode, json_decode, null, array_mt */
/* json_decode.c: decodes JSON text (which must be followed by a NUL byte, as Lua strings are) and pushes
 * the value, returning 1; or pushes an error message and returns 0 (it raises only when the Lua stack
 * cannot grow or memory runs out). For C callers decoding their own buffers. */
int ic_json_decode_text(lua_State *L, const char *s, size_t len);
void ic_http_register(lua_State *L);   /* http.c: session(opts) -> session userdata */
void ic_multi_register(lua_State *L);  /* multi.c: multi() -> concurrent transfers, driven from Lua */
void ic_clock_register(lua_State *L);  /* clock.c: now(), wall(), sleep(seconds) */
double ic_monotonic(void);             /* clock.c: seconds on a monotonic clock (now()) */
void ic_webhook_register(lua_State *L); /* webhook.c: hmac_sha1_hex, webhook_verify */
void ic_base64_register(lua_State *L);  /* base64.c: base64_encode, base64_decode */
void ic_stream_register(lua_State *L);  /* stream.c: stream(opts, req) -> stream userdata (downloads) */
void ic_head_register(lua_State *L);    /* head.c: parse_headers (response header blocks) */
void ic_escape_register(lua_State *L);  /* escape.c: url_escape */

/* Whitespace as JSON and HTTP header lines mean it: space, tab, CR, LF (never the locale's isspace). */
static inline int ic_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#endif
