/* JSON <-> Lua marshalling (DESIGN.md, "JSON").
 *
 * Why our own codec and not lua-cjson: on Lua 5.4, Debian's lua-cjson 2.1.0 decodes every integer as a
 * float, writes 2^53+1 as 9.007199254741e+15, and turns an empty array into `{}`. Intercom ids,
 * timestamps and counts are integers and `[]` is meaningful, so the core owns both directions:
 *
 *  - JSON integers that fit 64 bits decode to Lua integers exactly (5.3+); LuaJIT gets doubles.
 *  - `null` decodes to a NULL lightuserdata (`core.null`, equal to cjson.null), so it survives in tables.
 *  - Decoded arrays carry one shared metatable (`core.array_mt`) and encode back as arrays even when empty.
 *  - The decoder is strict RFC 8259 (JSONTestSuite: every y_ accepted, every n_ rejected) and returns
 *    nil, message on bad input instead of raising: bad data from a server is not a programming error.
 *  - The encoder raises on what JSON cannot express: functions, userdata, NaN/inf, cycles, mixed or
 *    sparse keys, nesting deeper than IC_JSON_MAX_DEPTH; the message names the path of the bad value.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define IC_JSON_MAX_DEPTH 1000

/* Registry key of the array metatable. */
static const char ic_array_mt_key = 'a';

static void ic_push_array_mt(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&ic_array_mt_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

/* ------------------------------------------------------------------------------------------------ */
/* Decoder                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

/* The shape cache. Intercom answers with the same shapes over and over (a contact has some 55 keys, a page
 * 50 contacts), and most of a decode's time went into interning keys: hashing every key's bytes and
 * looking the string up, ~4,500 times per page. The cache remembers, per position in a document's shape,
 * the key that came there last time and how big each container was. A position is the container's
 * context (from the path of keys leading to it, every array element sharing one) and the key's ordinal in
 * it. The decoder checks the input against the expected key with one memcmp and pushes the interned
 * string from the cache table, no hashing; it makes each container at its expected size and stores every
 * pair as it comes. A wrong guess only costs the check: the key is then decoded as usual and replaces the
 * entry. One cache per Lua state, in the registry: a C block (below) and a Lua table holding the strings,
 * which keeps them alive (so the C pointers into them stay valid). */
#define IC_SHAPE_BITS 10
#define IC_SHAPE_SLOTS (1u << IC_SHAPE_BITS)
#define IC_SHAPE_WAYS 4         /* slots per set (a power of two) */
#define IC_SHAPE_MAXKEY 64      /* longer keys are not cached */
#define IC_SHAPE_ROOT 0x9E3779B9u

typedef struct {
    const char *key[IC_SHAPE_SLOTS];        /* the bytes of the string at strings[slot + 1], or NULL */
    unsigned short keylen[IC_SHAPE_SLOTS];
    unsigned short size[IC_SHAPE_SLOTS];    /* entries of the last container seen in a context */
    /* String values the same way ("type": "contact", "role": "user"), at strings[IC_SHAPE_SLOTS + slot + 1].
     * A place whose value keeps changing (an id, an email) stops being cached after a few misses, so it
     * costs one failed comparison rather than a store per value. */
    const char *val[IC_SHAPE_SLOTS];
    unsigned char vallen[IC_SHAPE_SLOTS];
    unsigned char valmiss[IC_SHAPE_SLOTS];
    uint32_t used[IC_SHAPE_SLOTS];          /* when each slot's key was last used (ic_key_hit) */
    uint32_t clock;
} ic_shapes;

#define IC_SHAPE_MAXVAL 32      /* longer values are not cached */
#define IC_SHAPE_MISSES 3       /* misses in a row after which a place's values are no longer cached */

/* Registry key of the shape cache: a table holding the ic_shapes block at [0] and the strings. */
static const char ic_shapes_key = 's';

typedef struct {
    lua_State *L;
    const char *start, *p, *end;
    int depth;
    int array_mt;           /* stack index of the array metatable */
    int keys;               /* stack index of the shape cache's string table */
    ic_shapes *shapes;
    char decimal_point;     /* the C library's, for strtod */
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
    if (d->decimal_point == '.') {
        /* The token was validated and is followed by a non-number byte, so strtod reads exactly it. */
        v = strtod(s, &endp);
    } else {
        char buf[64], *tmp = buf, *dot;
        size_t n = (size_t)(q - s);
        if (n >= sizeof buf) tmp = (char *)malloc(n + 1);
        if (!tmp) return ic_dfail(d, "out of memory");
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        if ((dot = strchr(tmp, '.')) != NULL) *dot = d->decimal_point;
        v = strtod(tmp, &endp);
        if (tmp != buf) free(tmp);
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

/* ---- shape cache (see ic_shapes) -------------------------------------------------------------------- */

static unsigned ic_key_slot(uint32_t ctx, uint32_t ordinal)
{
    return (unsigned)(((ctx ^ (ordinal * 0x9E3779B1u)) * 0x85EBCA6Bu) >> (32 - IC_SHAPE_BITS));
}

static unsigned ic_size_slot(uint32_t ctx)
{
    return (unsigned)((ctx * 0xC2B2AE35u) >> (32 - IC_SHAPE_BITS));
}

/* Context of the value under the key at `slot`, and of the elements of an array in context `ctx`. */
static uint32_t ic_value_ctx(unsigned slot) { return (uint32_t)slot * 0x27D4EB2Fu + 0x165667B1u; }
static uint32_t ic_element_ctx(uint32_t ctx) { return ctx * 0x9E3779B1u + 0x7F4A7C15u; }

static int ic_key_is(ic_decoder *d, unsigned slot)
{
    const char *k = d->shapes->key[slot], *s = d->p + 1;
    size_t n = d->shapes->keylen[slot];
    /* A cached key has no '"', '\\' or control character, so a match followed by '"' is the whole key. */
    return k != NULL && (size_t)(d->end - s) > n && s[n] == '"' && memcmp(s, k, n) == 0;
}

/* Whether the key at d->p (its opening quote) is cached for the place whose hashed slot is *slot. A place
 * may use any of the IC_SHAPE_WAYS slots of its set, so that places hashed alike do not keep evicting each
 * other (with two ways, a contact still had a slot three keys fought over). On a hit *slot becomes the
 * slot holding the key and its length is returned; on a miss *slot becomes the slot to replace (an empty
 * one, else the one used least recently) and -1 is returned. The slot names the place from then on: the
 * value's context and the value cache follow it. */
static long ic_key_hit(ic_decoder *d, unsigned *slot)
{
    ic_shapes *sh = d->shapes;
    unsigned s = *slot, set = s & ~(IC_SHAPE_WAYS - 1u), i, way = s;
    uint32_t now = ++sh->clock;
    if (!ic_key_is(d, s)) {
        for (i = 0; i < IC_SHAPE_WAYS; i++) {
            way = set + i;
            if (way != s && ic_key_is(d, way)) break;
        }
        if (i == IC_SHAPE_WAYS) {
            way = set;
            for (i = 0; i < IC_SHAPE_WAYS; i++) {
                if (sh->key[set + i] == NULL) { way = set + i; break; }
                if (sh->used[set + i] < sh->used[way]) way = set + i;
            }
            sh->used[way] = now;
            *slot = way;
            return -1;
        }
    }
    sh->used[way] = now;
    *slot = way;
    return (long)sh->keylen[way];
}

/* Pushes the object key at d->p, from the cache when it is the expected one (`hit`: its length, or -1). */
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
    if (n <= IC_SHAPE_MAXKEY) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, d->keys, (int)slot + 1);
        d->shapes->key[slot] = lua_tostring(L, -1);    /* anchored by the cache table */
        d->shapes->keylen[slot] = (unsigned short)n;
        d->shapes->valmiss[slot] = 0;   /* a new place: its values get their chance to be cached */
    }
    return 1;
}

/* Pushes the string value at d->p of the key at `slot`, from the cache when it is the one seen there last. */
static int ic_decode_cached_value(ic_decoder *d, unsigned slot)
{
    lua_State *L = d->L;
    ic_shapes *sh = d->shapes;
    const char *v = sh->val[slot], *s = d->p + 1, *q = s;
    size_t n = sh->vallen[slot];
    if (v != NULL && (size_t)(d->end - s) > n && s[n] == '"' && memcmp(s, v, n) == 0) {
        lua_rawgeti(L, d->keys, (int)(IC_SHAPE_SLOTS + slot) + 1);
        d->p = s + n + 1;
        sh->valmiss[slot] = 0;
        return 1;
    }
    if (sh->valmiss[slot] >= IC_SHAPE_MISSES) return ic_decode_string(d);
    while (ic_plain[(unsigned char)*q]) q++;
    if (q >= d->end || *q != '"') return ic_decode_string(d);
    n = (size_t)(q - s);
    lua_pushlstring(L, s, n);
    d->p = q + 1;
    sh->valmiss[slot]++;
    if (n <= IC_SHAPE_MAXVAL) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, d->keys, (int)(IC_SHAPE_SLOTS + slot) + 1);
        sh->val[slot] = lua_tostring(L, -1);           /* anchored by the cache table */
        sh->vallen[slot] = (unsigned char)n;
    }
    return 1;
}

static void ic_remember_size(ic_decoder *d, unsigned slot, lua_Integer count)
{
    d->shapes->size[slot] = (unsigned short)(count < 65535 ? count : 65535);
}

static int ic_decode_array(ic_decoder *d, uint32_t ctx)
{
    ic_build c;
    unsigned sslot = ic_size_slot(ctx);
    uint32_t ectx = ic_element_ctx(ctx);
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
    ic_build_init(d, &c, 1, d->shapes->size[sslot]);
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
    unsigned sslot = ic_size_slot(ctx), slot;
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
    slot = ic_key_slot(ctx, 0);
    hit = ic_key_hit(d, &slot);
    ic_build_init(d, &c, 0, hit >= 0 ? d->shapes->size[sslot] : 0);
    for (;;) {
        if (!ic_make_room(d, &c, 0)) return 0;
        if (!ic_decode_key(d, slot, hit)) return 0;
        ic_skip_ws(d);
        if (d->p >= d->end || *d->p != ':') return ic_dfail(d, "expected ':'");
        d->p++;
        ic_skip_ws(d);
        if (d->p < d->end && *d->p == '"') {
            if (!ic_decode_cached_value(d, slot)) return 0;
        } else if (!ic_decode_value(d, ic_value_ctx(slot))) return 0;
        ic_build_add(d, &c, 0);
        ordinal++;
        ic_skip_ws(d);
        if (d->p < d->end && *d->p == ',') {
            d->p++;
            ic_skip_ws(d);
            if (d->p >= d->end || *d->p != '"') return ic_dfail(d, "expected a string key");
            slot = ic_key_slot(ctx, ordinal);
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

/* Pushes the shape cache's string table and returns its C block. */
static ic_shapes *ic_push_shapes(lua_State *L)
{
    ic_shapes *sh;
    lua_pushlightuserdata(L, (void *)&ic_shapes_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, -1, 0);
    sh = (ic_shapes *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return sh;
}

int ic_json_decode_text(lua_State *L, const char *s, size_t len)
{
    ic_decoder d;
    int base = lua_gettop(L);

    luaL_checkstack(L, 12, "json decode"); /* C callers may already use much of their stack */
    ic_push_array_mt(L);
    d.L = L;
    d.start = d.p = s;
    d.end = s + len;
    d.depth = 0;
    d.array_mt = lua_gettop(L);
    d.shapes = ic_push_shapes(L);
    d.keys = lua_gettop(L);
    d.decimal_point = localeconv()->decimal_point[0];
    d.err[0] = '\0';

    ic_skip_ws(&d);
    if (ic_decode_value(&d, IC_SHAPE_ROOT)) {
        ic_skip_ws(&d);
        if (d.p == d.end) {
            lua_replace(L, base + 1);
            lua_settop(L, base + 1);
            return 1;
        }
        ic_dfail(&d, "unexpected data after the value");
    }
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

/* ------------------------------------------------------------------------------------------------ */
/* Encoder                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

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
    int array_mt;                               /* stack index of the array metatable */
    int depth;
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
    if (e->depth == 0) luaL_addstring(&b, "the top level");
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

static void ic_encode_string(ic_encoder *e, const char *s, size_t n)
{
    size_t i, run = 0;
    ic_reserve(e, n + 2);
    ic_putc(e, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
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
        /* Shortest of %.15g / %.17g that reads back to the same double. */
        char *comma;
        n = snprintf(buf, sizeof buf, "%.15g", (double)v);
        if (strtod(buf, NULL) != (double)v) n = snprintf(buf, sizeof buf, "%.17g", (double)v);
        if ((comma = strchr(buf, ',')) != NULL) *comma = '.';   /* a locale with a decimal comma */
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
        ic_encode_string(e, key, klen);
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

/* json_encode(value) -> string; raises on what JSON cannot express. */
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

static int ic_json_encode(lua_State *L)
{
    ic_encode_state *st = (ic_encode_state *)lua_touserdata(L, lua_upvalueindex(1));
    ic_encoder *e = &st->e;

    luaL_checkany(L, 1);
    lua_settop(L, 1);
    ic_push_array_mt(L);                                       /* 2 */
    st->out.len = 0;
    e->L = L;
    e->out = &st->out;
    e->array_mt = 2;
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

void ic_json_register(lua_State *L)
{
    /* The shared array metatable: in the registry for the codec, and public as core.array_mt. */
    lua_pushlightuserdata(L, (void *)&ic_array_mt_key);
    lua_newtable(L);
    lua_pushliteral(L, "intercom.array");
    lua_setfield(L, -2, "__name");
    lua_rawset(L, LUA_REGISTRYINDEX);

    ic_push_array_mt(L);
    lua_setfield(L, -2, "array_mt");
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");

    /* The decoder's shape cache: the table anchoring its strings, with the C block at [0] (see ic_shapes). */
    lua_pushlightuserdata(L, (void *)&ic_shapes_key);
    lua_createtable(L, (int)(2 * IC_SHAPE_SLOTS), 1);
    memset(lua_newuserdata(L, sizeof(ic_shapes)), 0, sizeof(ic_shapes));
    lua_rawseti(L, -2, 0);
    lua_rawset(L, LUA_REGISTRYINDEX);

    lua_pushcfunction(L, ic_json_decode);
    lua_setfield(L, -2, "json_decode");

    /* json_encode keeps its state (ic_encode_state, freed by __gc) as an upvalue. */
    memset(lua_newuserdata(L, sizeof(ic_encode_state)), 0, sizeof(ic_encode_state));
    lua_newtable(L);
    lua_pushcfunction(L, ic_encode_state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, ic_json_encode, 1);
    lua_setfield(L, -2, "json_encode");
}
