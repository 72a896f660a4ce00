/* JSON <-> Lua marshalling (DESIGN.md, "JSON"): what the codec's files share, and its registration.
 *
 * Why our own codec and not lua-cjson: on Lua 5.4, Debian's lua-cjson 2.1.0 decodes every integer as a
 * float, writes 2^53+1 as 9.007199254741e+15, and turns an empty array into `{}`. Intercom ids,
 * timestamps and counts are integers and `[]` is meaningful, so the core owns both directions:
 *   json_decode.c   the decoder (core.json_decode, and the transfers' `decode`)
 *   json_encode.c   the encoder (core.json_encode)
 *   json_shapes.c   the decoder's shape cache (its invariant is at the top of json_shapes.h)
 * This file holds what they share: the array metatable, core.null, and the "C" locale numbers are read
 * and written under. */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>

#include "json.h"
#include "json_shapes.h"

/* Registry key of the array metatable. */
static const char ic_array_mt_key = 'a';

void ic_json_push_array_mt(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&ic_array_mt_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

/* JSON numbers never depend on LC_NUMERIC: strtod and snprintf run under this locale object (uselocale,
 * for the current thread only, around the one call), made once per process whatever the number of
 * threads and Lua states (pthread_once). Should newlocale fail (out of memory), LC_GLOBAL_LOCALE is
 * used, which is what a host that never calls setlocale has anyway. */
static pthread_once_t ic_c_locale_once = PTHREAD_ONCE_INIT;
static locale_t ic_c_locale_obj = (locale_t)0;

static void ic_make_c_locale(void)
{
    ic_c_locale_obj = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

void *ic_json_c_locale(void)
{
    pthread_once(&ic_c_locale_once, ic_make_c_locale);
    return ic_c_locale_obj != (locale_t)0 ? (void *)ic_c_locale_obj : (void *)LC_GLOBAL_LOCALE;
}

void ic_json_register(lua_State *L)
{
    /* The shared array metatable: in the registry for the codec, and public as core.array_mt. */
    lua_pushlightuserdata(L, (void *)&ic_array_mt_key);
    lua_newtable(L);
    lua_pushliteral(L, "intercom.array");
    lua_setfield(L, -2, "__name");
    lua_rawset(L, LUA_REGISTRYINDEX);

    ic_json_push_array_mt(L);
    lua_setfield(L, -2, "array_mt");
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");

    ic_shapes_register(L);
    ic_json_decode_register(L);
    ic_json_encode_register(L);
}
