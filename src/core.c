/* luaopen_intercom_core: the C core of intercom-lua. Each file registers its own piece. */
#include "core.h"
#include "version.h"

int luaopen_intercom_core(lua_State *L);

int luaopen_intercom_core(lua_State *L)
{
    lua_newtable(L);
    ic_json_register(L);
    ic_http_register(L);
    ic_multi_register(L);
    ic_clock_register(L);
    ic_webhook_register(L);
    ic_base64_register(L);
    ic_stream_register(L);
    ic_head_register(L);
    ic_escape_register(L);
    lua_pushliteral(L, IC_VERSION);
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
