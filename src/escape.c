/* Percent-encoding of URL parts (RFC 3986): everything but the unreserved characters A-Z a-z 0-9 - . _ ~
 * becomes %XX (uppercase hex). In C because it runs on every path parameter of every call, and a Lua
 * pattern over an id costs more than the rest of building the request; and because the unreserved set is
 * ASCII whatever the C locale says (Lua's %w follows isalnum).
 *
 *   core.url_escape(s) -> string (s itself when nothing needs encoding) */
#include <string.h>
#include "core.h"

static int ic_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
}

static int ic_url_escape(lua_State *L)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len, i, n = 0;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    for (i = 0; i < len; i++)
        if (!ic_unreserved(s[i])) n++;
    if (n == 0) {
        lua_settop(L, 1); /* the string itself (a number was converted in place, as gsub would) */
        return 1;
    }
    luaL_buffinit(L, &b);
    for (i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (ic_unreserved(c)) {
            luaL_addchar(&b, (char)c);
        } else {
            luaL_addchar(&b, '%');
            luaL_addchar(&b, hex[c >> 4]);
            luaL_addchar(&b, hex[c & 15]);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg ic_escape_funcs[] = {
    {"url_escape", ic_url_escape},
    {NULL, NULL}
};

void ic_escape_register(lua_State *L)
{
    ic_setfuncs(L, ic_escape_funcs);
}
