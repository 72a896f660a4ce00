/* JSON text -> Lua values (DESIGN.md, "JSON"): the decoder behind core.json_decode and the transfers'
 * `decode` (ic_json_decode_text).
 *
 *  - Strict RFC 8259 (JSONTestSuite: every y_ accepted, every n_ rejected); bad input returns nil,
 *    message ("json: <what> at byte N") instead of raising: bad data from a server is not a programming
 *    error. Nesting deeper than IC_JSON_MAX_DEPTH is refused.
 *  - JSON integers that fit 64 bits decode to Lua integers exactly (5.3+); LuaJIT gets doubles. Other
 *    numbers are read under the "C" locale whatever LC_NUMERIC the host set.
 *  - `null` decodes to a NULL lightuserdata (core.null); arrays carry the shared array metatable.
 *  - Keys, short values and container sizes come from the shape cache (json_shapes.h) when the decode
 *    holds it, and are decoded plainly when it does not: the result is the same either way. */
#define _POSIX_C_SOURCE 200809L
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_shapes.h"

typedef struct {
    lua_State *L;
    const char *start, *p, *end;
    int depth;
    int array_mt;           /* stack index of the array metatable */
    int keys;               /* stack index of the shape cache's string table (nil without the cache) */
    ic_shapes *shapes;      /* NULL: this decode goes without the cache (json_shapes.h) */
    char err[160];
} ic_decoder;

static int ic_dfail(ic_decoder *d, const char *what)
{
    size_t at = (size_t)(d->p - d->start);
    if (d->p >= d->end)
        snprintf(d->err, sizeof d->err, "json: %s at end of input (byte %lu)", what, (unsigned long)at);
    else if ((unsigned char)*d->p >= 0x20 && (unsigned char)*d->p < 0x7f)
        snprintf(d->err, sizeof d->err, "json: %s at byte %lu ('%c')", what, (unsigned long)at, *d->p);
    else
        snprintf(d->err, sizeof d->err, "json: %s at byte %lu (0x%02X)", what, (unsigned long)at,
                 (unsigned char)*d->p);
    return 0;
}

/* The text is followed by a NUL byte (a Lua string, or a buffer the caller terminated), which is not
 * whitespace: the scans below stop there without a bounds check. */
static void ic_skip_ws(ic_decoder *d)
{
    const char *p = d->p;
    while (ic_is_space(*p)) p++;
    d->p = p;
}

static int ic_decode_value(ic_decoder *d, uint32_t ctx);

static int ic_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t ic_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Bytes that a string's fast path copies as they are: everything but '"', '\\' and control characters. */
static const unsigned char ic_plain[256] = {
#define IC_P16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* '"' */
    IC_P16,
    IC_P16,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* '\\' */
    IC_P16, IC_P16, IC_P16, IC_P16, IC_P16, IC_P16, IC_P16, IC_P16, IC_P16, IC_P16
#undef IC_P16
};

/* Decodes the string at d->p (the opening quote) and pushes it. Bytes are passed through as they are
 * (no UTF-8 validation: JSONTestSuite leaves invalid UTF-8 to the implementation); a lone surrogate
 * escape becomes its 3-byte (WTF-8) form rather than an error. */
static int ic_decode_string(ic_decoder *d)
{
    const char *s = ++d->p, *q = s;
    luaL_Buffer b;

    /* Fast path: no escapes, the common case for keys and most values. The text is a Lua string, so a
     * NUL follows its last byte: the scan stops there without a bounds check (NUL is not plain). */
    while (ic_plain[(unsigned char)*q]) q++;
    if (q < d->end && *q == '"') {
        lua_pushlstring(d->L, s, (size_t)(q - s));
        d->p = q + 1;
        return 1;
    }
    luaL_buffinit(d->L, &b);
    luaL_addlstring(&b, s, (size_t)(q - s));
    d->p = q;
    for (;;) {
        char c;
        if (d->p >= d->end) return ic_dfail(d, "unterminated string");
        c = *d->p;
        if (c == '"') { d->p++; break; }
        if ((unsigned char)c < 0x20) return ic_dfail(d, "control character in string");
        if (c != '\\') {
            const char *run = d->p;
            while (ic_plain[(unsigned char)*d->p]) d->p++;
            luaL_addlstring(&b, run, (size_t)(d->p - run));
            continue;
        }
        if (d->p + 1 >= d->end) { d->p++; return ic_dfail(d, "unterminated escape"); }
        c = d->p[1];
        switch (c) {
        case '"': luaL_addchar(&b, '"'); d->p += 2; break;
        case '\\': luaL_addchar(&b, '\\'); d->p += 2; break;
        case '/': luaL_addchar(&b, '/'); d->p += 2; break;
        case 'b': luaL_addchar(&b, '\b'); d->p += 2; break;
        case 'f': luaL_addchar(&b, '\f'); d->p += 2; break;
        case 'n': luaL_addchar(&b, '\n'); d->p += 2; break;
        case 'r': luaL_addchar(&b, '\r'); d->p += 2; break;
        case 't': luaL_addchar(&b, '\t'); d->p += 2; break;
        case 'u': {
            unsigned cp, lo;
            char out[4];
            if (d->end - d->p < 6 || !ic_hex4(d->p + 2, &cp)) { d->p++; return ic_dfail(d, "bad \\u escape"); }
            d->p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && d->end - d->p >= 6 && d->p[0] == '\\' && d->p[1] == 'u'
                && ic_hex4(d->p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                d->p += 6;
            }
            luaL_addlstring(&b, out, ic_utf8(cp, out));
            break;
        }
        default:
            d->p++;
            return ic_dfail(d, "bad escape");
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static int ic_is_digit(char c) { return c >= '0' && c <= '9'; }

static int ic_decode_number(ic_decoder *d)
{
    const char *s = d->p, *q = s;
    int neg = 0;
    double v;
    char *endp;
    uint64_t acc = 0;
    int overflow = 0;

    if (*q == '-') { neg = 1; q++; }
    if (!ic_is_digit(*q)) { d->p = q; return ic_dfail(d, "bad number"); }
    /* The integer part is read and accumulated in one pass (the text ends with a NUL, not a digit). */
    if (*q == '0') q++;
    else {
        for (; ic_is_digit(*q); q++) {
            unsigned digit = (unsigned)(*q - '0');
            if (acc > (UINT64_MAX - digit) / 10u) overflow = 1;
            else acc = acc * 10u + digit;
        }
    }
#if IC_HAS_INTEGERS
    if (*q != '.' && *q != 'e' && *q != 'E' && !overflow
        && acc <= (neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX)) {
        /* An exact 64-bit integer; one that does not fit falls through to a float. */
        d->p = q;
        lua_pushinteger(d->L, neg ? (lua_Integer)(0 - acc) : (lua_Integer)acc);
        return 1;
    }
#else
    (void)neg;
    (void)overflow;
#endif
    if (*q == '.') {
        q++;
        if (!ic_is_digit(*q)) { d->p = q; return ic_dfail(d, "bad number"); }
        while (ic_is_digit(*q)) q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!ic_is_digit(*q)) { d->p = q; return ic_dfail(d, "bad number"); }
        while (ic_is_digit(*q)) q++;
    }
    d->p = q;
    /* The token was validated and is followed by a non-number byte, so strtod reads exactly it; under
     * the "C" locale for this thread, whatever LC_NUMERIC says (ps_AF's decimal point is two bytes). */
    {
        locale_t old = uselocale((locale_t)ic_json_c_locale());
        v = strtod(s, &endp);
        uselocale(old);
    }
    lua_pushnumber(d->L, (lua_Number)v);
    return 1;
}

static int ic_literal(ic_decoder *d, const char *word, size_t n)
{
    if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) return ic_dfail(d, "unexpected character");
    d->p += n;
    return 1;
}

static int ic_enter(ic_decoder *d)
{
    if (++d->depth > IC_JSON_MAX_DEPTH) return ic_dfail(d, "nesting deeper than 1000 levels");
    if (!lua_checkstack(d->L, 6)) return ic_dfail(d, "Lua stack exhausted");
    return 1;
}

/* Containers are built on the Lua stack first and then made at their exact size: growing a table one
 * key at a time rehashes it at every power of two, which was most of the decoding time of an Intercom
 * object (a contact has some 55 keys). Values wait on the stack in runs of IC_PENDING, the table is made
 * with the size known so far and they are stored in order (a repeated key still ends with its last
 * value). Stack space is asked for a run at a time; where Lua has none left (LuaJIT caps the C stack, so
 * deep nesting can run out), a container falls back to storing each value as it comes.
 * A container whose size the shape cache expects is made at that size at once and filled directly. */
#define IC_PENDING 16     /* values (arrays) or pairs (objects) per stack reservation */
#define IC_PENDING_MAX 256

typedef struct {
    int base;       /* stack top before the container: values start at base + 1, or above the table */
    int table;      /* stack index of the table once made, else 0 */
    int pending;    /* values (array) or pairs (object) waiting above base/table */
    int direct;     /* store each value as it comes (the table exists) */
    lua_Integer n;  /* array: items stored in the table so far */
} ic_build;

/* Pushes a new table for a container: an array (with the array metatable, at stack index array_mt) or an
 * object, with room for `size` entries. */
static void ic_new_table(lua_State *L, int is_array, int size, int array_mt)
{
    if (is_array) {
        lua_createtable(L, size, 0);
        lua_pushvalue(L, array_mt);
        lua_setmetatable(L, -2);
    } else {
        lua_createtable(L, 0, size);
    }
}

/* Makes the table (if needed) and stores the waiting values in order; leaves the table on top. */
static void ic_flush(ic_decoder *d, ic_build *c, int is_array, int hint)
{
    lua_State *L = d->L;
    int first = (c->table ? c->table : c->base) + 1, i;
    if (!c->table) {
        ic_new_table(L, is_array, hint, d->array_mt);
        for (i = 0; i < c->pending; i++) {
            if (is_array) {
                lua_pushvalue(L, first + i);
                lua_rawseti(L, -2, (int)++c->n);
            } else {
                lua_pushvalue(L, first + 2 * i);
                lua_pushvalue(L, first + 2 * i + 1);
                lua_rawset(L, -3);
            }
        }
        if (c->pending > 0) lua_replace(L, first);    /* the table takes the first slot */
        c->table = first;
    } else {
        for (i = 0; i < c->pending; i++) {
            if (is_array) {
                lua_pushvalue(L, first + i);
                lua_rawseti(L, c->table, (int)++c->n);
            } else {
                lua_pushvalue(L, first + 2 * i);
                lua_pushvalue(L, first + 2 * i + 1);
                lua_rawset(L, c->table);
            }
        }
    }
    lua_settop(L, c->table);
    c->pending = 0;
}

/* Before a value (array) or pair (object) is pushed: room for a run of them, or a flush. */
static int ic_make_room(ic_decoder *d, ic_build *c, int is_array)
{
    int per = is_array ? 1 : 2;
    if (c->direct) return 1;
    if (c->pending % IC_PENDING != 0) return 1;
    if (c->pending < IC_PENDING_MAX && lua_checkstack(d->L, per * IC_PENDING + 8)) return 1;
    /* A long container, or no stack to spare: store what waits, then go on from the table. */
    ic_flush(d, c, is_array, c->pending + (c->table ? 0 : IC_PENDING));
    if (lua_checkstack(d->L, per * IC_PENDING + 8)) return 1;
    if (!lua_checkstack(d->L, 8)) return ic_dfail(d, "Lua stack exhausted");
    c->direct = 1;
    return 1;
}

/* Starts a container: made at once, at the expected size, when `expect` > 0. */
static void ic_build_init(ic_decoder *d, ic_build *c, int is_array, int expect)
{
    c->pending = 0;
    c->n = 0;
    c->base = lua_gettop(d->L);
    c->table = 0;
    c->direct = 0;
    if (expect > 0) {
        ic_new_table(d->L, is_array, expect, d->array_mt);
        c->table = c->base + 1;
        c->direct = 1;
    }
}

/* A value has been pushed (after its key, for an object): store it now, or let it wait. */
static void ic_build_add(ic_decoder *d, ic_build *c, int is_array)
{
    if (!c->direct) c->pending++;
    else if (is_array) lua_rawseti(d->L, c->table, (int)++c->n);
    else lua_rawset(d->L, c->table);
}

/* Ends a container, leaving its table at base + 1 (the top). */
static void ic_build_end(ic_decoder *d, ic_build *c, int is_array)
{
    if (!c->table || c->pending > 0) ic_flush(d, c, is_array, c->pending);
}

/* ---- keys and values through the shape cache ------------------------------------------------------- */

/* Whether the key at d->p (its opening quote) is cached at the place *slot (see ic_shapes_key_hit); -1
 * without the cache. */
static long ic_key_hit(ic_decoder *d, unsigned *slot)
{
    if (d->shapes == NULL) return -1;
    return ic_shapes_key_hit(d->shapes, slot, d->p + 1, d->end);
}

/* Pushes the object key at d->p, from the cache when it is the expected one (`hit`: its length, or -1).
 * The push after a hit allocates nothing (lua_rawgeti), and no other decode can change the slot meanwhile
 * (the invariant in json_shapes.h). */
static int ic_decode_key(ic_decoder *d, unsigned slot, long hit)
{
    lua_State *L = d->L;
    const char *s = d->p + 1, *q = s;
    size_t n;
    if (hit >= 0) {
        lua_rawgeti(L, d->keys, (int)slot + 1);
        d->p = s + hit + 1;
        return 1;
    }
    while (ic_plain[(unsigned char)*q]) q++;
    if (q >= d->end || *q != '"') return ic_decode_string(d);   /* escapes: decoded, never cached */
    n = (size_t)(q - s);
    lua_pushlstring(L, s, n);
    d->p = q + 1;
    if (d->shapes != NULL) ic_shapes_learn_key(L, d->shapes, d->keys, slot, n);
    return 1;
}

/* Pushes the string value at d->p of the key at `slot`, from the cache when it is the one seen there last. */
static int ic_decode_cached_value(ic_decoder *d, unsigned slot)
{
    lua_State *L = d->L;
    const char *s = d->p + 1, *q = s;
    size_t n;
    long hit;
    if (d->shapes == NULL) return ic_decode_string(d);
    hit = ic_shapes_value_hit(d->shapes, slot, s, d->end);
    if (hit >= 0) {
        lua_rawgeti(L, d->keys, (int)(IC_SHAPE_SLOTS + slot) + 1);
        d->p = s + hit + 1;
        return 1;
    }
    if (hit == -2) return ic_decode_string(d);
    while (ic_plain[(unsigned char)*q]) q++;
    if (q >= d->end || *q != '"') return ic_decode_string(d);
    n = (size_t)(q - s);
    lua_pushlstring(L, s, n);
    d->p = q + 1;
    ic_shapes_learn_value(L, d->shapes, d->keys, slot, n);
    return 1;
}

/* The expected size of a container in the context whose size slot is sslot (0: none known). */
static int ic_expected_size(ic_decoder *d, unsigned sslot)
{
    return d->shapes != NULL ? d->shapes->size[sslot] : 0;
}

static void ic_remember_size(ic_decoder *d, unsigned sslot, lua_Integer count)
{
    if (d->shapes != NULL) ic_shapes_remember_size(d->shapes, sslot, count);
}

static int ic_decode_array(ic_decoder *d, uint32_t ctx)
{
    ic_build c;
    unsigned sslot = ic_shapes_size_slot(ctx);
    uint32_t ectx = ic_shapes_element_ctx(ctx);
    lua_Integer count = 0;
    if (!ic_enter(d)) return 0;
    d->p++;
    ic_skip_ws(d);
    if (d->p < d->end && *d->p == ']') {
        d->p++;
        ic_new_table(d->L, 1, 0, d->array_mt);
        d->depth--;
        return 1;
    }
    ic_build_init(d, &c, 1, ic_expected_size(d, sslot));
    for (;;) {
        ic_skip_ws(d);
        if (!ic_make_room(d, &c, 1)) return 0;
        if (!ic_decode_value(d, ectx)) return 0;
        ic_build_add(d, &c, 1);
        count++;
        ic_skip_ws(d);
        if (d->p < d->end && *d->p == ',') { d->p++; continue; }
        if (d->p < d->end && *d->p == ']') { d->p++; break; }
        return ic_dfail(d, "expected ',' or ']'");
    }
    ic_build_end(d, &c, 1);
    ic_remember_size(d, sslot, count);
    d->depth--;
    return 1;
}

static int ic_decode_object(ic_decoder *d, uint32_t ctx)
{
    ic_build c;
    unsigned sslot = ic_shapes_size_slot(ctx), slot;
    uint32_t ordinal = 0;
    long hit;
    if (!ic_enter(d)) return 0;
    d->p++;
    ic_skip_ws(d);
    if (d->p < d->end && *d->p == '}') {
        d->p++;
        lua_createtable(d->L, 0, 0);
        d->depth--;
        return 1;
    }
    if (d->p >= d->end || *d->p != '"') return ic_dfail(d, "expected a string key");
    /* The expected size is trusted only when the first key is the expected one: a small object in the
     * place of a big one (an error instead of a contact) is then not made at the big one's size. */
    slot = ic_shapes_key_slot(ctx, 0);
    hit = ic_key_hit(d, &slot);
    ic_build_init(d, &c, 0, hit >= 0 ? ic_expected_size(d, sslot) : 0);
    for (;;) {
        if (!ic_make_room(d, &c, 0)) return 0;
        if (!ic_decode_key(d, slot, hit)) return 0;
        ic_skip_ws(d);
        if (d->p >= d->end || *d->p != ':') return ic_dfail(d, "expected ':'");
        d->p++;
        ic_skip_ws(d);
        if (d->p < d->end && *d->p == '"') {
            if (!ic_decode_cached_value(d, slot)) return 0;
        } else if (!ic_decode_value(d, ic_shapes_value_ctx(slot))) return 0;
        ic_build_add(d, &c, 0);
        ordinal++;
        ic_skip_ws(d);
        if (d->p < d->end && *d->p == ',') {
            d->p++;
            ic_skip_ws(d);
            if (d->p >= d->end || *d->p != '"') return ic_dfail(d, "expected a string key");
            slot = ic_shapes_key_slot(ctx, ordinal);
            hit = ic_key_hit(d, &slot);
            continue;
        }
        if (d->p < d->end && *d->p == '}') { d->p++; break; }
        return ic_dfail(d, "expected ',' or '}'");
    }
    ic_build_end(d, &c, 0);
    ic_remember_size(d, sslot, (lua_Integer)ordinal);
    d->depth--;
    return 1;
}

static int ic_decode_value(ic_decoder *d, uint32_t ctx)
{
    if (d->p >= d->end) return ic_dfail(d, "unexpected end of input");
    switch (*d->p) {
    case '{': return ic_decode_object(d, ctx);
    case '[': return ic_decode_array(d, ctx);
    case '"': return ic_decode_string(d);
    case 't':
        if (!ic_literal(d, "true", 4)) return 0;
        lua_pushboolean(d->L, 1);
        return 1;
    case 'f':
        if (!ic_literal(d, "false", 5)) return 0;
        lua_pushboolean(d->L, 0);
        return 1;
    case 'n':
        if (!ic_literal(d, "null", 4)) return 0;
        lua_pushlightuserdata(d->L, NULL);
        return 1;
    default:
        if (*d->p == '-' || ic_is_digit(*d->p)) return ic_decode_number(d);
        return ic_dfail(d, "unexpected character");
    }
}

int ic_json_decode_text(lua_State *L, const char *s, size_t len)
{
    ic_decoder d;
    int base = lua_gettop(L);

    luaL_checkstack(L, 12, "json decode"); /* C callers may already use much of their stack */
    ic_json_push_array_mt(L);
    d.L = L;
    d.start = d.p = s;
    d.end = s + len;
    d.depth = 0;
    d.array_mt = lua_gettop(L);
    d.shapes = ic_shapes_acquire(L);
    d.keys = lua_gettop(L);
    d.err[0] = '\0';

    ic_skip_ws(&d);
    if (ic_decode_value(&d, IC_SHAPE_ROOT)) {
        ic_skip_ws(&d);
        if (d.p == d.end) {
            ic_shapes_release(d.shapes);
            lua_replace(L, base + 1);
            lua_settop(L, base + 1);
            return 1;
        }
        ic_dfail(&d, "unexpected data after the value");
    }
    ic_shapes_release(d.shapes);
    lua_settop(L, base);
    lua_pushstring(L, d.err);
    return 0;
}

/* json_decode(text) -> value | nil, message */
static int ic_json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_settop(L, 1);
    if (ic_json_decode_text(L, s, len)) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}


void ic_json_decode_register(lua_State *L)
{
    lua_pushcfunction(L, ic_json_decode);
    lua_setfield(L, -2, "json_decode");
}
