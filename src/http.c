/* libcurl sessions (placeholder until the transport lands). */
#include "core.h"

void ic_http_register(lua_State *L)
{
    (void)L;
}
