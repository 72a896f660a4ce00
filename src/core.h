/* Shared between the core's files: each registers its functions into the module table on top of the stack. */
#ifndef IC_CORE_H
#define IC_CORE_H

#include "compat.h"

void ic_json_register(lua_State *L);   /* json.c: json_encode, json_decode, null, array_mt */
/* json.c: decodes JSON text (which must be followed by a NUL byte, as Lua strings are) and pushes the
 * value, returning 1; or pushes an error message and returns 0 (it raises only when the Lua stack cannot
 * grow). For C callers decoding their own buffers. `plan`: 0, or the stack index of the name of the
 * operation this is an answer to, whose reserve it then uses (see ic_json_reserve). */
int ic_json_decode_text(lua_State *L, const char *s, size_t len, int plan);
/* json.c, a lua_CFunction: (name) makes the tables of the next answer to the operation `name`, as its last
 * answer had them, for ic_json_decode_text to fill in. Called while a request is in flight. */
int ic_json_reserve(lua_State *L);
void ic_http_register(lua_State *L);   /* http.c: session(opts) -> session userdata */
void ic_multi_register(lua_State *L);  /* multi.c: multi() -> concurrent transfers, driven from Lua */
void ic_clock_register(lua_State *L);  /* clock.c: now(), sleep(seconds) */
void ic_webhook_register(lua_State *L); /* webhook.c: hmac_sha1_hex, webhook_verify */
void ic_base64_register(lua_State *L);  /* base64.c: base64_encode, base64_decode */
void ic_stream_register(lua_State *L);  /* stream.c: stream(opts, req) -> stream userdata (downloads) */
void ic_head_register(lua_State *L);    /* head.c: parse_headers, head_meta (response header blocks) */
void ic_escape_register(lua_State *L);  /* escape.c: url_escape */

#endif
