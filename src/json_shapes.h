/* The decoder's shape cache (json_shapes.c has the rest: taking and giving it back, and learning).
 *
 * Intercom answers with the same shapes over and over (a contact has some 55 keys, a page 50 contacts),
 * and most of a decode's time went into interning keys: hashing every key's bytes and looking the string
 * up, ~4,500 times per page. The cache remembers, per place in a document's shape, the key that came
 * there last time, short string values seen there, and how big each container was. A place is the
 * container's context (from the path of keys leading to it, every array element sharing one) and the
 * key's ordinal in it. The decoder checks the input against the expected key with one memcmp and pushes
 * the interned string from the cache's table, no hashing; it makes each container at its expected size.
 * A wrong guess only costs the check: the key is then decoded as usual and replaces the entry.
 *
 * INVARIANT: one decode at a time uses the cache of a Lua state, from ic_shapes_acquire to
 * ic_shapes_release. A decode that starts while another holds it (a finalizer, run by an allocation of
 * the outer decode, that decodes JSON) gets NULL and decodes without it. So between the outer decode's
 * check of a slot (a hit) and its push of that slot's string, which an allocation (the container's table)
 * may separate, nothing else can change the slot; and the C pointers into the cached strings stay valid,
 * as the cache's table, which only the holder changes, keeps the strings alive. Results are therefore
 * always those of a decode without the cache (spec/core/json_shapes_spec.lua).
 *
 * The hot lookups are here, inline, so the decoder's per-key path has no call into another file. */
#ifndef IC_JSON_SHAPES_H
#define IC_JSON_SHAPES_H

#include <stdint.h>
#include <string.h>
#include "core.h"

#define IC_SHAPE_BITS 10
#define IC_SHAPE_SLOTS (1u << IC_SHAPE_BITS)
#define IC_SHAPE_WAYS 4         /* slots per set (a power of two) */
#define IC_SHAPE_MAXKEY 64      /* longer keys are not cached */
#define IC_SHAPE_MAXVAL 32      /* longer values are not cached */
#define IC_SHAPE_MISSES 3       /* misses in a row after which a place's values are no longer cached */
#define IC_SHAPE_ROOT 0x9E3779B9u   /* the context of a document's top level */

typedef struct ic_shapes {
    const char *key[IC_SHAPE_SLOTS];        /* the bytes of the string at strings[slot + 1], or NULL */
    unsigned short keylen[IC_SHAPE_SLOTS];
    unsigned short size[IC_SHAPE_SLOTS];    /* entries of the last container seen in a context */
    /* String values the same way ("type": "contact", "role": "user"), at strings[IC_SHAPE_SLOTS + slot + 1].
     * A place whose value keeps changing (an id, an email) stops being cached after a few misses, so it
     * costs one failed comparison rather than a store per value. */
    const char *val[IC_SHAPE_SLOTS];
    unsigned char vallen[IC_SHAPE_SLOTS];
    unsigned char valmiss[IC_SHAPE_SLOTS];
    uint32_t used[IC_SHAPE_SLOTS];          /* when each slot's key was last used (ic_shapes_key_hit) */
    uint32_t clock;
    int busy;                               /* a decode holds the cache (the invariant above) */
} ic_shapes;

/* Makes the cache of this Lua state (json.c, when the codec is registered). */
void ic_shapes_register(lua_State *L);
/* Takes the cache for one decode: pushes its string table and returns it; or, when another decode holds
 * it, pushes nil and returns NULL (decode without). */
ic_shapes *ic_shapes_acquire(lua_State *L);
/* Gives it back (sh may be NULL). A decode that raised (out of memory) never gives it back: the state's
 * later decodes then go without the cache, correct and slower. */
void ic_shapes_release(ic_shapes *sh);
/* After a miss: the key string on top of the stack (n bytes, no escapes) becomes slot's, anchored in the
 * string table at stack index strings. */
void ic_shapes_learn_key(lua_State *L, ic_shapes *sh, int strings, unsigned slot, size_t n);
/* After a value miss: the string value on top (n bytes) becomes slot's value, if short enough. */
void ic_shapes_learn_value(lua_State *L, ic_shapes *sh, int strings, unsigned slot, size_t n);

/* ---- places ---------------------------------------------------------------------------------------- */

static inline unsigned ic_shapes_key_slot(uint32_t ctx, uint32_t ordinal)
{
    return (unsigned)(((ctx ^ (ordinal * 0x9E3779B1u)) * 0x85EBCA6Bu) >> (32 - IC_SHAPE_BITS));
}

static inline unsigned ic_shapes_size_slot(uint32_t ctx)
{
    return (unsigned)((ctx * 0xC2B2AE35u) >> (32 - IC_SHAPE_BITS));
}

/* Context of the value under the key at `slot`, and of the elements of an array in context `ctx`. */
static inline uint32_t ic_shapes_value_ctx(unsigned slot) { return (uint32_t)slot * 0x27D4EB2Fu + 0x165667B1u; }
static inline uint32_t ic_shapes_element_ctx(uint32_t ctx) { return ctx * 0x9E3779B1u + 0x7F4A7C15u; }

/* ---- lookups (no allocation) ------------------------------------------------------------------------ */

/* Whether the key starting at s (after its opening quote; the text ends at end) is the one at slot. A
 * cached key has no '"', '\\' or control character, so a match followed by '"' is the whole key. */
static inline int ic_shapes_key_is(const ic_shapes *sh, unsigned slot, const char *s, const char *end)
{
    const char *k = sh->key[slot];
    size_t n = sh->keylen[slot];
    return k != NULL && (size_t)(end - s) > n && s[n] == '"' && memcmp(s, k, n) == 0;
}

/* Whether the key at s is cached for the place whose hashed slot is *slot. A place may use any of the
 * IC_SHAPE_WAYS slots of its set, so that places hashed alike do not keep evicting each other. On a hit
 * *slot becomes the slot holding the key and its length is returned; on a miss *slot becomes the slot to
 * replace (an empty one, else the one used least recently) and -1 is returned. */
static inline long ic_shapes_key_hit(ic_shapes *sh, unsigned *slot, const char *s, const char *end)
{
    unsigned first = *slot, set = first & ~(IC_SHAPE_WAYS - 1u), i, way = first;
    uint32_t now = ++sh->clock;
    if (!ic_shapes_key_is(sh, first, s, end)) {
        for (i = 0; i < IC_SHAPE_WAYS; i++) {
            way = set + i;
            if (way != first && ic_shapes_key_is(sh, way, s, end)) break;
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

/* The length of slot's cached value when the string value at s (after its quote) is that one, else -1;
 * -2 when the place's values are no longer cached. */
static inline long ic_shapes_value_hit(ic_shapes *sh, unsigned slot, const char *s, const char *end)
{
    const char *v = sh->val[slot];
    size_t n = sh->vallen[slot];
    if (v != NULL && (size_t)(end - s) > n && s[n] == '"' && memcmp(s, v, n) == 0) {
        sh->valmiss[slot] = 0;
        return (long)n;
    }
    return sh->valmiss[slot] >= IC_SHAPE_MISSES ? -2 : -1;
}

static inline void ic_shapes_remember_size(ic_shapes *sh, unsigned sslot, lua_Integer count)
{
    sh->size[sslot] = (unsigned short)(count < 65535 ? count : 65535);
}

#endif
