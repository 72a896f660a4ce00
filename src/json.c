/* JSON <-> Lua marshalling (placeholder until the codec lands). */
#include "core.h"

void ic_json_register(lua_State *L)
{
    (void)L;
}
