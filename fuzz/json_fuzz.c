/* libFuzzer harness for the JSON codec (src/json.c): `make fuzz` builds and runs it.
 *
 * For every input: decode it; when that succeeds, encode the value, decode that encoding again, encode
 * once more, and require that
 *   - the re-decode succeeds (what the encoder writes, the decoder reads),
 *   - both values are deeply equal (same types, same numbers, same bytes, same array marks), and
 *   - both encodings have the same length (key order may differ: Lua's table traversal order depends on
 *     insertion history, so the bytes themselves are compared only when the value has no object with
 *     two or more keys).
 * The only values the encoder may refuse are an infinite number (a huge literal such as 1e400 decodes to
 * math.huge, which JSON cannot express) and a string that is not valid UTF-8 (the decoder passes the
 * bytes of a string through as they are, and turns a lone surrogate escape into its 3-byte form). Anything else aborts, and so does any sanitizer report.
 *
 * One lua_State per process; the stack is emptied and a full GC step runs after each input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "../src/core.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *ic_fuzz_L;
static int ic_fuzz_core;    /* stack index of the core table (json_encode, json_decode, array_mt) */

static void ic_fuzz_die(const char *what, const char *detail)
{
    fprintf(stderr, "json_fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Deep equality of the values at a and b (absolute indices). Returns 1 when equal; *multi is set when a
 * table with two or more non-array keys was seen (its encoding's key order is not canonical). */
static int ic_fuzz_equal(lua_State *L, int a, int b, int depth, int *multi)
{
    int ta = lua_type(L, a), tb = lua_type(L, b);
    if (depth > 2000) ic_fuzz_die("deep-equal recursion beyond the decoder's bound", NULL);
    if (ta != tb) return 0;
    switch (ta) {
    case LUA_TNUMBER:
        /* An integral float below 1e17 is written as an integer and reads back as one: equal in value. */
        return lua_rawequal(L, a, b);
    case LUA_TSTRING: {
        size_t la, lb;
        const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    case LUA_TTABLE: {
        int ma, mb, keys = 0, ok = 1;
        ma = lua_getmetatable(L, a);
        mb = lua_getmetatable(L, b);
        if (ma != mb) { lua_pop(L, ma + mb); return 0; }
        if (ma) {
            int same = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
            if (!same) return 0;
        }
        if (!lua_checkstack(L, 8)) ic_fuzz_die("Lua stack exhausted", NULL);
        lua_pushnil(L);
        while (ok && lua_next(L, a)) {               /* key at -2, value at -1 */
            keys++;
            lua_pushvalue(L, -2);
            lua_rawget(L, b);                         /* b[key] */
            ok = ic_fuzz_equal(L, lua_gettop(L) - 1, lua_gettop(L), depth + 1, multi);
            lua_pop(L, 2);
            if (!ok) lua_pop(L, 1);                   /* the key: the traversal stops here */
        }
        if (!ok) return 0;
        lua_pushnil(L);
        while (lua_next(L, b)) { keys--; lua_pop(L, 1); }
        if (keys == 0 && !ma) {
            int n = 0;
            lua_pushnil(L);
            while (lua_next(L, a)) { n++; lua_pop(L, 1); }
            if (n >= 2) *multi = 1;
        }
        return keys == 0;
    }
    default:                                          /* boolean, null (light userdata) */
        return lua_rawequal(L, a, b);
    }
}

static int ic_fuzz_call(lua_State *L, const char *fn, int arg)
{
    lua_getfield(L, ic_fuzz_core, fn);
    lua_pushvalue(L, arg);
    return lua_pcall(L, 1, 2, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ic_fuzz_L = luaL_newstate();
    if (ic_fuzz_L == NULL) ic_fuzz_die("luaL_newstate failed", NULL);
    luaL_openlibs(ic_fuzz_L);
    lua_newtable(ic_fuzz_L);
    ic_json_register(ic_fuzz_L);
    ic_fuzz_core = lua_gettop(ic_fuzz_L);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = ic_fuzz_L;
    int input, v1, e1, v2, e2, multi = 0;
    size_t l1, l2;
    const char *s1, *s2;

    lua_settop(L, ic_fuzz_core);
    lua_pushlstring(L, (const char *)data, size);
    input = lua_gettop(L);

    /* decode never raises on a string: bad input is nil, message */
    if (ic_fuzz_call(L, "json_decode", input) != LUA_OK)
        ic_fuzz_die("json_decode raised", lua_tostring(L, -1));
    if (lua_isnil(L, -2)) {
        if (!lua_isstring(L, -1)) ic_fuzz_die("json_decode failed without a message", NULL);
        goto done;
    }
    lua_pop(L, 1);
    v1 = lua_gettop(L);

    if (ic_fuzz_call(L, "json_encode", v1) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg != NULL && strstr(msg, "cannot encode an infinite number") != NULL) goto done;
        if (msg != NULL && strstr(msg, "invalid UTF-8") != NULL) goto done;
        ic_fuzz_die("a decoded value did not encode", msg);
    }
    lua_pop(L, 1);
    e1 = lua_gettop(L);

    if (ic_fuzz_call(L, "json_decode", e1) != LUA_OK || lua_isnil(L, -2))
        ic_fuzz_die("the encoder's output did not decode", lua_tostring(L, -1));
    lua_pop(L, 1);
    v2 = lua_gettop(L);

    if (ic_fuzz_call(L, "json_encode", v2) != LUA_OK)
        ic_fuzz_die("a re-decoded value did not encode", lua_tostring(L, -1));
    lua_pop(L, 1);
    e2 = lua_gettop(L);

    if (!ic_fuzz_equal(L, v1, v2, 0, &multi)) ic_fuzz_die("round trip changed the value", lua_tostring(L, e1));
    s1 = lua_tolstring(L, e1, &l1);
    s2 = lua_tolstring(L, e2, &l2);
    if (l1 != l2) ic_fuzz_die("round trip changed the encoding's length", s1);
    if (!multi && memcmp(s1, s2, l1) != 0) ic_fuzz_die("round trip changed the encoding", s1);

done:
    lua_settop(L, ic_fuzz_core);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
