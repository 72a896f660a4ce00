/* The few Lua 5.1/LuaJIT <-> 5.4 differences the core uses, nothing else. */
#ifndef IC_COMPAT_H
#define IC_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
/* LuaJIT / Lua 5.1 */
#define ic_rawlen(L, i) lua_objlen((L), (i))
#define ic_setfuncs(L, l) luaL_register((L), NULL, (l))
#define ic_newlib(L, l) (lua_newtable(L), luaL_register((L), NULL, (l)))
#define IC_HAS_INTEGERS 0
#else
#define ic_rawlen(L, i) lua_rawlen((L), (i))
#define ic_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define ic_newlib(L, l) luaL_newlib((L), (l))
#define IC_HAS_INTEGERS (LUA_VERSION_NUM >= 503)
#endif

#endif
