/* The decoder's shape cache: its place in the registry, taking it for one decode and giving it back, and
 * learning keys and values after a miss. What it is, and the invariant that keeps its results exact, are
 * written at the top of json_shapes.h. */
#include "json_shapes.h"

/* Registry key of the cache: a table holding the ic_shapes block at [0] and the strings (keys at
 * [slot + 1], values at [IC_SHAPE_SLOTS + slot + 1]), which keeps them alive. */
static const char ic_shapes_key = 's';

void ic_shapes_register(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&ic_shapes_key);
    lua_createtable(L, (int)(2 * IC_SHAPE_SLOTS), 1);
    memset(lua_newuserdata(L, sizeof(ic_shapes)), 0, sizeof(ic_shapes));
    lua_rawseti(L, -2, 0);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

ic_shapes *ic_shapes_acquire(lua_State *L)
{
    ic_shapes *sh;
#ifdef IC_JSON_NO_SHAPE_CACHE
    /* bench/run.py's A/B build: every decode goes without the cache, to measure what it earns */
    lua_pushnil(L);
    return NULL;
#endif
    lua_pushlightuserdata(L, (void *)&ic_shapes_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, -1, 0);
    sh = (ic_shapes *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (sh == NULL || sh->busy) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return NULL;
    }
    sh->busy = 1;
    return sh;
}

void ic_shapes_release(ic_shapes *sh)
{
    if (sh != NULL) sh->busy = 0;
}

void ic_shapes_learn_key(lua_State *L, ic_shapes *sh, int strings, unsigned slot, size_t n)
{
    if (n > IC_SHAPE_MAXKEY) return;
    lua_pushvalue(L, -1);
    lua_rawseti(L, strings, (int)slot + 1);
    sh->key[slot] = lua_tostring(L, -1);    /* anchored by the cache table */
    sh->keylen[slot] = (unsigned short)n;
    sh->valmiss[slot] = 0;                  /* a new place: its values get their chance to be cached */
}

void ic_shapes_learn_value(lua_State *L, ic_shapes *sh, int strings, unsigned slot, size_t n)
{
    sh->valmiss[slot]++;
    if (n > IC_SHAPE_MAXVAL) return;
    lua_pushvalue(L, -1);
    lua_rawseti(L, strings, (int)(IC_SHAPE_SLOTS + slot) + 1);
    sh->val[slot] = lua_tostring(L, -1);    /* anchored by the cache table */
    sh->vallen[slot] = (unsigned char)n;
}
