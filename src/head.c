/* Response header blocks as Lua values.
 *
 * A completed transfer hands Lua the header block of its final response (the "Name: value" lines, as
 * received; transfer.c) as an opaque `intercom.head` userdata. Not a string: LuaJIT interns every string,
 * hashing only a few sampled bytes of a long one, and the header blocks of one server differ in none of
 * those (same first and last line, same length): each new block was compared with every live one. Most
 * callers never look at the headers, so the table of them is only made when asked for:
 *   core.parse_headers(head) -> {lowercase name = value}: repeated names joined with ", ", obsolete line
 *                               folding joined with a space (a stream's s:headers() uses the same code)
 *   core.head_meta(head)     -> request_id, limit, remaining, reset, odd: X-Request-Id and X-RateLimit-*,
 *                               what every response needs (response.lua); in one pass, without the table.
 *                               Counts made of digits come as integers; odd says one was left a string
 * Both take the userdata or a string of the same lines (what another transport may hand over); tostring()
 * of the userdata gives its text. Names match case-insensitively (HTTP/2 sends them lowercase, HTTP/1.1
 * servers as they like). */
#include <string.h>
#include "core.h"
#include "transfer.h"

#define IC_HEAD_MT "intercom.head"

void ic_push_head_block(lua_State *L, const char *data, size_t len)
{
#if LUA_VERSION_NUM >= 504
    char *p = (char *)lua_newuserdatauv(L, len, 0);
#else
    char *p = (char *)lua_newuserdata(L, len);
#endif
    if (len > 0) memcpy(p, data, len);
    luaL_getmetatable(L, IC_HEAD_MT);
    lua_setmetatable(L, -2);
}

/* The text of a header block argument: an intercom.head userdata or a string. */
static const char *ic_check_head(lua_State *L, int idx, size_t *len)
{
    if (lua_type(L, idx) == LUA_TSTRING) return lua_tolstring(L, idx, len);
    {
        const char *p = (const char *)luaL_checkudata(L, idx, IC_HEAD_MT);
        *len = (size_t)ic_rawlen(L, idx);
        return p;
    }
}

static int ic_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char ic_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* One header line: a "name: value" line, or (fold) the continuation of the previous one (name NULL). */
typedef struct ic_line {
    const char *name, *value;
    size_t name_len, value_len;
    int fold;
} ic_line;

/* The next header line from *pp (blank lines and lines without a colon are skipped); 0 at the end. */
static int ic_next_line(const char **pp, const char *end, ic_line *ln)
{
    const char *p = *pp;
    while (p < end) {
        const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
        const char *next = eol != NULL ? eol + 1 : end;
        const char *line_end = eol != NULL ? eol : end;
        const char *colon;
        while (line_end > p && ic_is_space(line_end[-1])) line_end--;
        if (line_end == p) {
            p = next;
            continue;
        }
        if (*p == ' ' || *p == '\t') {
            const char *v = p;
            while (v < line_end && ic_is_space(*v)) v++;
            ln->fold = 1;
            ln->name = NULL;
            ln->name_len = 0;
            ln->value = v;
            ln->value_len = (size_t)(line_end - v);
            *pp = next;
            return 1;
        }
        colon = (const char *)memchr(p, ':', (size_t)(line_end - p));
        if (colon != NULL) {
            const char *name_end = colon, *v = colon + 1;
            while (name_end > p && ic_is_space(name_end[-1])) name_end--;
            while (v < line_end && ic_is_space(*v)) v++;
            ln->fold = 0;
            ln->name = p;
            ln->name_len = (size_t)(name_end - p);
            ln->value = v;
            ln->value_len = (size_t)(line_end - v);
            *pp = next;
            return 1;
        }
        p = next;
    }
    *pp = end;
    return 0;
}

static void ic_push_lower(lua_State *L, const char *p, size_t n)
{
    char small[128];
    size_t i;
    if (n <= sizeof(small)) {
        for (i = 0; i < n; i++) small[i] = ic_lower(p[i]);
        lua_pushlstring(L, small, n);
    } else {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (i = 0; i < n; i++) luaL_addchar(&b, ic_lower(p[i]));
        luaL_pushresult(&b);
    }
}

void ic_push_headers(lua_State *L, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    const char *last_name = NULL;
    size_t last_len = 0, lines = 0;
    ic_line ln;
    /* One slot per line, so the table is made at its size rather than grown (and rehashed). */
    for (; p < end; p++) {
        p = (const char *)memchr(p, '\n', (size_t)(end - p));
        if (p == NULL) break;
        lines++;
    }
    lua_createtable(L, 0, (int)(lines < 64 ? lines : 64));
    p = data;
    while (ic_next_line(&p, end, &ln)) {
        if (ln.fold) {
            if (last_name == NULL) continue;
            ic_push_lower(L, last_name, last_len);
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);
            lua_pushliteral(L, " ");
            lua_pushlstring(L, ln.value, ln.value_len);
            lua_concat(L, 3);
            lua_rawset(L, -3);
            continue;
        }
        last_name = ln.name;
        last_len = ln.name_len;
        ic_push_lower(L, ln.name, ln.name_len);
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_pushlstring(L, ln.value, ln.value_len);
        } else {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, ln.value, ln.value_len);
            lua_concat(L, 3);
        }
        lua_rawset(L, -3);
    }
}

/* core.parse_headers(head) -> table */
static int ic_parse_headers(lua_State *L)
{
    size_t len;
    const char *head = ic_check_head(L, 1, &len);
    ic_push_headers(L, head, len);
    return 1;
}

/* The headers head_meta reads, in the order it returns them; all lowercase. */
static const char *const ic_meta_names[4] = {
    "x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"
};
static const size_t ic_meta_lens[4] = { 12, 17, 21, 17 };

static int ic_meta_index(const char *name, size_t n)
{
    int i;
    if (n < 12 || (name[0] != 'x' && name[0] != 'X') || name[1] != '-') return -1;
    for (i = 0; i < 4; i++) {
        const char *want = ic_meta_names[i];
        size_t j;
        if (ic_meta_lens[i] != n) continue;
        for (j = 2; j < n && ic_lower(name[j]) == want[j]; j++) {}
        if (j == n) return i;
    }
    return -1;
}

/* A rate-limit value: plain decimal digits become an integer at once; anything else stays a string (and
 * 1 is returned), for response.lua to read as Lua's tonumber would. */
static int ic_push_count(lua_State *L, const char *v, size_t n)
{
    lua_Integer x = 0;
    size_t i;
    if (n == 0 || n > 18) {
        lua_pushlstring(L, v, n);
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            lua_pushlstring(L, v, n);
            return 1;
        }
        x = x * 10 + (v[i] - '0');
    }
    lua_pushinteger(L, x);
    return 0;
}

/* core.head_meta(head) -> request_id, limit, remaining, reset, odd: each nil when absent; odd is true when a
 * rate-limit value is left a string. One pass that only looks closer at lines starting with "x-". */
static int ic_head_meta(lua_State *L)
{
    size_t len;
    const char *head = ic_check_head(L, 1, &len);
    const char *p = head, *end = head + len;
    const char *val[4] = { NULL, NULL, NULL, NULL };
    size_t vlen[4] = { 0, 0, 0, 0 };
    int general = 0, odd = 0, i;
    lua_settop(L, 1);
    while (p < end && !general) {
        const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
        const char *next = eol != NULL ? eol + 1 : end;
        char c = *p;
        if (c == ' ' || c == '\t') {
            general = 1; /* obs-fold continues the line before (or a blank line): the general path knows */
        } else if ((c == 'x' || c == 'X') && next - p > 12 && p[1] == '-') {
            const char *q = p;
            ic_line ln;
            if (ic_next_line(&q, next, &ln)) {
                int k = ic_meta_index(ln.name, ln.name_len);
                if (k >= 0) {
                    if (val[k] != NULL) general = 1; /* repeated: the general path joins the values */
                    val[k] = ln.value;
                    vlen[k] = ln.value_len;
                }
            }
        }
        p = next;
    }
    if (general) {
        /* Rare shapes: read the values from the full table, so that they are exactly those
         * response.headers shows. */
        ic_push_headers(L, head, len);
        for (i = 0; i < 4; i++) lua_getfield(L, 2, ic_meta_names[i]);
        lua_pushboolean(L, 1);
        return 5;
    }
    if (val[0] != NULL) lua_pushlstring(L, val[0], vlen[0]); else lua_pushnil(L);
    for (i = 1; i < 4; i++) {
        if (val[i] != NULL) odd |= ic_push_count(L, val[i], vlen[i]); else lua_pushnil(L);
    }
    lua_pushboolean(L, odd);
    return 5;
}

static int ic_head_tostring(lua_State *L)
{
    size_t len;
    const char *head = ic_check_head(L, 1, &len);
    lua_pushlstring(L, head, len);
    return 1;
}

static const luaL_Reg ic_head_funcs[] = {
    {"parse_headers", ic_parse_headers},
    {"head_meta", ic_head_meta},
    {NULL, NULL}
};

void ic_head_register(lua_State *L)
{
    luaL_newmetatable(L, IC_HEAD_MT);
    lua_pushcfunction(L, ic_head_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, IC_HEAD_MT);
    lua_setfield(L, -2, "__name"); /* Lua 5.1 does not set it */
    lua_pop(L, 1);
    ic_setfuncs(L, ic_head_funcs);
}
