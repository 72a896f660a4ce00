/* Base64 (RFC 4648, standard alphabet, padded, no line breaks): what Intercom's attachment_files want in
 * `data`. In C because attachments are megabytes and a Lua loop over bytes is slow on Lua 5.4.
 *
 *   core.base64_encode(s) -> string
 *   core.base64_decode(s) -> string, or nil and a message when s is not canonical padded base64 */
#include <string.h>
#include "core.h"

static const char ic_b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The output is written into a scratch userdata, then copied into the string: the scratch belongs to
 * the GC, so nothing leaks if Lua raises (out of memory) halfway, and one pass over the input is all. */
static char *ic_scratch(lua_State *L, size_t n)
{
    return (char *)lua_newuserdata(L, n > 0 ? n : 1);
}

static int ic_base64_encode(lua_State *L)
{
    size_t len, i, full;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    size_t out_len;
    char *out, *o;
    if (len > ((size_t)-1 / 4) * 3 - 3) return luaL_error(L, "base64: input too large");
    out_len = (len + 2) / 3 * 4;
    out = o = ic_scratch(L, out_len);
    full = len - len % 3;
    for (i = 0; i < full; i += 3) {
        unsigned v = ((unsigned)s[i] << 16) | ((unsigned)s[i + 1] << 8) | s[i + 2];
        o[0] = ic_b64_alphabet[(v >> 18) & 63];
        o[1] = ic_b64_alphabet[(v >> 12) & 63];
        o[2] = ic_b64_alphabet[(v >> 6) & 63];
        o[3] = ic_b64_alphabet[v & 63];
        o += 4;
    }
    if (len % 3 != 0) {
        unsigned v = (unsigned)s[i] << 16;
        if (len % 3 == 2) v |= (unsigned)s[i + 1] << 8;
        o[0] = ic_b64_alphabet[(v >> 18) & 63];
        o[1] = ic_b64_alphabet[(v >> 12) & 63];
        o[2] = len % 3 == 2 ? ic_b64_alphabet[(v >> 6) & 63] : '=';
        o[3] = '=';
    }
    lua_pushlstring(L, out, out_len);
    return 1;
}

/* The value of each byte in the alphabet, -1 for the others. A constant, written out: a table filled in
 * at run time would be a global written while other threads' Lua states may read it. */
static const signed char ic_b64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};

static int ic_base64_fail(lua_State *L, const char *msg, size_t at)
{
    lua_pushnil(L);
    if (at > 0)
        lua_pushfstring(L, "base64: %s at byte %d", msg, (int)at);
    else
        lua_pushfstring(L, "base64: %s", msg);
    return 2;
}

static int ic_base64_decode(lua_State *L)
{
    size_t len, i, pad = 0, out_len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    char *out, *o;
    if (len % 4 != 0) return ic_base64_fail(L, "length is not a multiple of 4", 0);
    if (len > 0 && s[len - 1] == '=') pad++;
    if (len > 1 && s[len - 2] == '=') pad++;
    out_len = len / 4 * 3 - pad;
    out = o = ic_scratch(L, out_len);
    for (i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int a = ic_b64_values[s[i]], b = ic_b64_values[s[i + 1]];
        int c = (last && pad == 2) ? 0 : ic_b64_values[s[i + 2]];
        int d = (last && pad >= 1) ? 0 : ic_b64_values[s[i + 3]];
        if ((a | b | c | d) < 0) return ic_base64_fail(L, "invalid character", i + 1);
        /* canonical: the bits a padded group drops must be zero */
        if (last && ((pad == 2 && (b & 15)) || (pad == 1 && (c & 3))))
            return ic_base64_fail(L, "non-canonical padding", i + 1);
        o[0] = (char)((a << 2) | (b >> 4));
        if (!(last && pad == 2)) o[1] = (char)(((b & 15) << 4) | (c >> 2));
        if (!(last && pad >= 1)) o[2] = (char)(((c & 3) << 6) | d);
        o += 3;
    }
    lua_pushlstring(L, out, out_len);
    return 1;
}

static const luaL_Reg ic_base64_funcs[] = {
    {"base64_encode", ic_base64_encode},
    {"base64_decode", ic_base64_decode},
    {NULL, NULL}
};

void ic_base64_register(lua_State *L)
{
    ic_setfuncs(L, ic_base64_funcs);
}
