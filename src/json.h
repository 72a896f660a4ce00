/* What the JSON codec's files share (json.c registers the codec; json_decode.c, json_encode.c and the
 * decoder's shape cache json_shapes.c each own one concern). Not part of the core's interface. */
#ifndef IC_JSON_H
#define IC_JSON_H

#include "core.h"

#define IC_JSON_MAX_DEPTH 1000

/* json.c: pushes the shared metatable of decoded arrays (core.array_mt). */
void ic_json_push_array_mt(lua_State *L);
/* json.c: a locale_t of the "C" locale, made once per process (pthread_once); JSON numbers are read and
 * written under it, whatever LC_NUMERIC the host set (see ic_json_c_locale in json.c). */
void *ic_json_c_locale(void);

/* json_decode.c / json_encode.c: register json_decode and json_encode into the module table on top. */
void ic_json_decode_register(lua_State *L);
void ic_json_encode_register(lua_State *L);

#endif
