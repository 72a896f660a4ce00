/* Lua values -> JSON text (DESIGN.md, "JSON"): the encoder behind core.json_encode (intercom.json.encode,
 * and every request body the client sends).
 *
 *  - Lua integers are written exactly; integral floats as integers; other floats in the shortest of
 *    %.15g/%.17g that reads back the same, under the "C" locale whatever LC_NUMERIC the host set.
 *  - core.null (a NULL lightuserdata) and nil are null; tables carrying the array metatable are arrays
 *    even when empty; other tables are arrays when their keys are exactly 1..n, objects when all keys
 *    are strings.
 *  - Raises on what JSON cannot express, naming the path of the bad value: functions, userdata, NaN/inf,
 *    cycles, mixed or sparse keys, nesting deeper than IC_JSON_MAX_DEPTH, and strings that are not valid
 *    UTF-8 (with the byte offset in the string): JSON text is UTF-8 (RFC 8259), and a server would
 *    reject or mangle the request. */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* The output buffer lives in json_encode's state userdata, with __gc, so a luaL_error in the middle of
 * encoding (a bad value deep inside a table) cannot leak it. */
typedef struct {
    char *data;
    size_t len, cap;
} ic_outbuf;


/* One step of the path to the value being encoded, for error messages. */
typedef struct {
    const char *key;    /* object key, or NULL for an array index */
    size_t klen;
    lua_Integer index;
} ic_step;

typedef struct {
    lua_State *L;
    ic_outbuf *out;
    const char *root;                           /* what the path starts with ("body"), or NULL */
    int array_mt;                               /* stack index of the array metatable */
    int depth;
    int in_key;                                 /* encoding an object key (for the message) */
    const void *tables[IC_JSON_MAX_DEPTH + 1];  /* tables on the current path, for cycle detection */
    ic_step path[IC_JSON_MAX_DEPTH + 1];
} ic_encoder;

static void ic_reserve(ic_encoder *e, size_t extra)
{
    ic_outbuf *b = e->out;
    if (b->cap - b->len < extra) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap - b->len < extra) cap *= 2;
        p = (char *)realloc(b->data, cap);
        if (!p) luaL_error(e->L, "json: out of memory");
        b->data = p;
        b->cap = cap;
    }
}

static void ic_put(ic_encoder *e, const char *s, size_t n)
{
    ic_reserve(e, n);
    memcpy(e->out->data + e->out->len, s, n);
    e->out->len += n;
}

static void ic_putc(ic_encoder *e, char c)
{
    ic_reserve(e, 1);
    e->out->data[e->out->len++] = c;
}

/* Raises "json: <what> at <path>"; the path is built from e->path[1..depth]. */
static int ic_efail(ic_encoder *e, const char *what)
{
    luaL_Buffer b;
    int i;
    lua_State *L = e->L;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "json: ");
    luaL_addstring(&b, what);
    luaL_addstring(&b, " at ");
    if (e->root != NULL) luaL_addstring(&b, e->root);
    else if (e->depth == 0) luaL_addstring(&b, "the top level");
    for (i = 1; i <= e->depth; i++) {
        char num[32];
        if (e->path[i].key) {
            luaL_addchar(&b, '.');
            luaL_addlstring(&b, e->path[i].key, e->path[i].klen > 64 ? 64 : e->path[i].klen);
        } else {
            snprintf(num, sizeof num, "[%lld]", (long long)e->path[i].index);
            luaL_addstring(&b, num);
        }
    }
    luaL_pushresult(&b);
    return lua_error(L);
}

static const char ic_hexdigits[] = "0123456789abcdef";

/* The length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), or 0 when it is not one: overlong
 * forms, surrogates (U+D800..DFFF) and code points past U+10FFFF are refused, as RFC 3629 says. */
static size_t ic_utf8_len(const unsigned char *s, size_t i, size_t n)
{
    unsigned char c = s[i], lo = 0x80, hi = 0xBF;
    size_t len, k;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;           /* overlong */
        if (c == 0xED) hi = 0x9F;           /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;           /* overlong */
        if (c == 0xF4) hi = 0x8F;           /* past U+10FFFF */
    } else return 0;
    if (n - i < len) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (k = 2; k < len; k++)
        if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
    return len;
}

static void ic_encode_string(ic_encoder *e, const char *s, size_t n)
{
    size_t i, run = 0;
    ic_reserve(e, n + 2);
    ic_putc(e, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
        if (c >= 0x80) {
            size_t len = ic_utf8_len((const unsigned char *)s, i, n);
            if (len == 0) {
                char msg[96];
                snprintf(msg, sizeof msg, "invalid UTF-8 at byte %lu of %s", (unsigned long)i + 1,
                         e->in_key ? "a key" : "the string");
                if (e->in_key) e->depth--;  /* a key is named by the path of its object */
                ic_efail(e, msg);
            }
            i += len - 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (i > run) ic_put(e, s + run, i - run);
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
            u[4] = ic_hexdigits[c >> 4];
            u[5] = ic_hexdigits[c & 15];
            ic_put(e, u, 6);
        }
        if (esc) ic_put(e, esc, 2);
        run = i + 1;
    }
    if (n > run) ic_put(e, s + run, n - run);
    ic_putc(e, '"');
}

static void ic_encode_number(ic_encoder *e, int idx)
{
    char buf[64];
    int n;
    lua_Number v;
#if IC_HAS_INTEGERS
    if (lua_isinteger(e->L, idx)) {
        n = snprintf(buf, sizeof buf, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(e->L, idx));
        ic_put(e, buf, (size_t)n);
        return;
    }
#endif
    v = lua_tonumber(e->L, idx);
    if (v != v || v == (lua_Number)HUGE_VAL || v == -(lua_Number)HUGE_VAL)
        ic_efail(e, v != v ? "cannot encode NaN" : "cannot encode an infinite number");
    if (v == 0 && signbit(v)) {
        /* "-0" would read back as the integer 0: keep the float and its sign, so a round trip is exact. */
        ic_put(e, "-0.0", 4);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e17) {
        /* Integral: write it as an integer (Intercom's integer fields reject "3.0" in strict validators). */
        n = snprintf(buf, sizeof buf, "%.0f", (double)v);
    } else {
        /* Shortest of %.15g / %.17g that reads back to the same double; under the "C" locale for this
         * thread, whatever LC_NUMERIC says (a decimal comma, or ps_AF's two-byte decimal point). No Lua
         * code runs in between, so nothing else sees the thread's locale change. */
        locale_t old = uselocale((locale_t)ic_json_c_locale());
        n = snprintf(buf, sizeof buf, "%.15g", (double)v);
        if (strtod(buf, NULL) != (double)v) n = snprintf(buf, sizeof buf, "%.17g", (double)v);
        uselocale(old);
    }
    ic_put(e, buf, (size_t)n);
}

static void ic_encode_value(ic_encoder *e, int idx);

/* Is the number at idx a positive integer key? Stores it in *out. */
static int ic_array_key(lua_State *L, int idx, lua_Integer *out)
{
    lua_Number k;
#if IC_HAS_INTEGERS
    if (lua_isinteger(L, idx)) {
        *out = lua_tointeger(L, idx);
        return *out >= 1;
    }
#endif
    if (lua_type(L, idx) != LUA_TNUMBER) return 0;
    k = lua_tonumber(L, idx);
    if (k < 1 || k != floor(k) || k > 9007199254740992.0) return 0;
    *out = (lua_Integer)k;
    return 1;
}

static void ic_encode_array_items(ic_encoder *e, int idx, lua_Integer n)
{
    lua_Integer i;
    ic_putc(e, '[');
    for (i = 1; i <= n; i++) {
        if (i > 1) ic_putc(e, ',');
        e->path[e->depth].key = NULL;
        e->path[e->depth].index = i;
        lua_rawgeti(e->L, idx, (int)i);
        ic_encode_value(e, lua_gettop(e->L));
        lua_pop(e->L, 1);
    }
    ic_putc(e, ']');
}

static void ic_encode_table(ic_encoder *e, int idx)
{
    lua_State *L = e->L;
    const void *self = lua_topointer(L, idx);
    int i, first = 1;

    for (i = 1; i <= e->depth; i++)
        if (e->tables[i] == self) ic_efail(e, "cannot encode a reference cycle");   /* names the repeat */
    if (e->depth >= IC_JSON_MAX_DEPTH) ic_efail(e, "nesting deeper than 1000 levels");
    luaL_checkstack(L, 6, "json: nesting too deep");
    e->depth++;
    e->tables[e->depth] = self;
    e->path[e->depth].key = NULL;
    e->path[e->depth].index = 0;

    /* Marked arrays (decoded, or intercom.array{}) are arrays whatever their length. */
    if (lua_getmetatable(L, idx)) {
        int marked = lua_rawequal(L, -1, e->array_mt);
        lua_pop(L, 1);
        if (marked) {
            ic_encode_array_items(e, idx, (lua_Integer)ic_rawlen(L, idx));
            e->depth--;
            return;
        }
    }

    lua_pushnil(L);
    if (!lua_next(L, idx)) {          /* empty and unmarked: an object */
        ic_put(e, "{}", 2);
        e->depth--;
        return;
    }
    if (lua_type(L, -2) == LUA_TNUMBER) {
        /* An array only if the keys are exactly 1..n. */
        lua_Integer k = 0, max = 0, count = 0;
        do {
            if (!ic_array_key(L, -2, &k)) {
                lua_pop(L, 2);
                e->depth--;     /* the error is about this table, named by the path to it */
                ic_efail(e, "cannot encode a table with mixed or non-sequence keys");
            }
            if (k > max) max = k;
            count++;
            lua_pop(L, 1);
        } while (lua_next(L, idx));
        if (max != count) {
            e->depth--;
            ic_efail(e, "cannot encode a sparse array (use intercom.null for holes)");
        }
        ic_encode_array_items(e, idx, count);
        e->depth--;
        return;
    }
    ic_putc(e, '{');
    do {
        size_t klen;
        const char *key;
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            e->depth--;
            ic_efail(e, "cannot encode a table with mixed or non-string keys");
        }
        key = lua_tolstring(L, -2, &klen);
        if (!first) ic_putc(e, ',');
        first = 0;
        e->in_key = 1;
        ic_encode_string(e, key, klen);
        e->in_key = 0;
        ic_putc(e, ':');
        e->path[e->depth].key = key;
        e->path[e->depth].klen = klen;
        ic_encode_value(e, lua_gettop(L));
        lua_pop(L, 1);
    } while (lua_next(L, idx));
    ic_putc(e, '}');
    e->depth--;
}

static void ic_encode_value(ic_encoder *e, int idx)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        ic_put(e, "null", 4);
        break;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) ic_put(e, "true", 4);
        else ic_put(e, "false", 5);
        break;
    case LUA_TNUMBER:
        ic_encode_number(e, idx);
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        ic_encode_string(e, s, n);
        break;
    }
    case LUA_TTABLE:
        ic_encode_table(e, idx);
        break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) { ic_put(e, "null", 4); break; }
        /* fall through */
    default: {
        char msg[64];
        snprintf(msg, sizeof msg, "cannot encode a %s value", luaL_typename(L, idx));
        ic_efail(e, msg);
    }
    }
}

/* Output buffers larger than this are released after an encode instead of kept for the next one. */
#define IC_KEEP_OUT ((size_t)64 * 1024)

/* The encoder's state (its path arrays are ~32 KB) and output buffer, made once per Lua state and kept
 * as json_encode's upvalue: allocating them per call made the garbage collector's work, driven by
 * allocation, the main cost of encoding a small body. Encoding never runs Lua code (raw access only),
 * so a call cannot re-enter it; a call that raised leaves state that the next call resets. */
typedef struct {
    ic_outbuf out;
    ic_encoder e;
} ic_encode_state;

static int ic_encode_state_gc(lua_State *L)
{
    ic_encode_state *st = (ic_encode_state *)lua_touserdata(L, 1);
    free(st->out.data);
    st->out.data = NULL;
    st->out.len = st->out.cap = 0;
    return 0;
}

/* json_encode(value [, name]) -> string; raises on what JSON cannot express, naming the path to the bad
 * value, which starts with `name` when given ("at body.name"). */
static int ic_json_encode(lua_State *L)
{
    ic_encode_state *st = (ic_encode_state *)lua_touserdata(L, lua_upvalueindex(1));
    ic_encoder *e = &st->e;

    luaL_checkany(L, 1);
    e->root = luaL_optstring(L, 2, NULL);
    lua_settop(L, 2);
    ic_json_push_array_mt(L);                                  /* 3 */
    st->out.len = 0;
    e->L = L;
    e->out = &st->out;
    e->array_mt = 3;
    e->in_key = 0;
    e->depth = 0;
    ic_encode_value(e, 1);
    lua_pushlstring(L, st->out.data != NULL ? st->out.data : "", st->out.len);
    st->out.len = 0;
    if (st->out.cap > IC_KEEP_OUT) {
        free(st->out.data);
        st->out.data = NULL;
        st->out.cap = 0;
    }
    return 1;
}


void ic_json_encode_register(lua_State *L)
{
    /* json_encode keeps its state (ic_encode_state, freed by __gc) as an upvalue. */
    memset(lua_newuserdata(L, sizeof(ic_encode_state)), 0, sizeof(ic_encode_state));
    lua_newtable(L);
    lua_pushcfunction(L, ic_encode_state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, ic_json_encode, 1);
    lua_setfield(L, -2, "json_encode");
}
