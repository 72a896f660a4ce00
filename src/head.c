/* Response header blocks as Lua tables.
 *
 * A completed transfer hands Lua the headers of its final response (transfer.c keeps the "Name: value"
 * lines as received) as a table made here:
 *   {lowercase name = value}: repeated names joined with ", ", obsolete line folding joined with a space.
 * Names match case-insensitively (HTTP/2 sends them lowercase, HTTP/1.1 servers as they like). What the
 * headers mean (rate limits, request ids) is the Lua client's business, not the core's.
 *   core.parse_headers(text) -> that table for a block of such lines (what session:perform, the multi and
 *                               a stream's s:headers() return is made by the same code) */
#include <string.h>
#include "core.h"
#include "transfer.h"

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

/* core.parse_headers(text) -> table */
static int ic_parse_headers(lua_State *L)
{
    size_t len;
    const char *head = luaL_checklstring(L, 1, &len);
    ic_push_headers(L, head, len);
    return 1;
}

static const luaL_Reg ic_head_funcs[] = {
    {"parse_headers", ic_parse_headers},
    {NULL, NULL}
};

void ic_head_register(lua_State *L)
{
    ic_setfuncs(L, ic_head_funcs);
}
