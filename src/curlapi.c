/* Loading libcurl on first use (see curlapi.h). */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include "curlapi.h"

ic_curl_api ic_curl;

static int ic_curl_ready = 0;

/* Looks a function up; returns whether it was found (required ones make the load fail). */
static int ic_sym(void *lib, const char *name, void **slot)
{
    *slot = dlsym(lib, name);
    return *slot != NULL;
}

void ic_curl_global(lua_State *L)
{
    static const char *const names[] = {
        "libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4", "libcurl.4.dylib", "libcurl.dylib", NULL
    };
    const char *env = getenv("INTERCOM_LIBCURL");
    void *lib = NULL;
    int i, ok = 1;
    if (ic_curl_ready) return;
    if (env != NULL && *env != '\0') {
        lib = dlopen(env, RTLD_LAZY | RTLD_LOCAL);
        if (lib == NULL) luaL_error(L, "intercom: cannot load libcurl from INTERCOM_LIBCURL: %s", dlerror());
    }
    for (i = 0; lib == NULL && names[i] != NULL; i++) lib = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
    if (lib == NULL) luaL_error(L, "intercom: cannot load libcurl (%s); set INTERCOM_LIBCURL to its path", dlerror());

    /* The library stays loaded for the life of the process: easy handles may outlive any one state. */
#define IC_REQUIRE(field, name) ok &= ic_sym(lib, name, (void **)&ic_curl.field)
    IC_REQUIRE(global_init, "curl_global_init");
    IC_REQUIRE(version_info, "curl_version_info");
    IC_REQUIRE(easy_init, "curl_easy_init");
    IC_REQUIRE(easy_cleanup, "curl_easy_cleanup");
    IC_REQUIRE(easy_reset, "curl_easy_reset");
    IC_REQUIRE(easy_pause, "curl_easy_pause");
    IC_REQUIRE(easy_setopt, "curl_easy_setopt");
    IC_REQUIRE(easy_getinfo, "curl_easy_getinfo");
    IC_REQUIRE(easy_strerror, "curl_easy_strerror");
    IC_REQUIRE(slist_append, "curl_slist_append");
    IC_REQUIRE(slist_free_all, "curl_slist_free_all");
    IC_REQUIRE(multi_init, "curl_multi_init");
    IC_REQUIRE(multi_cleanup, "curl_multi_cleanup");
    IC_REQUIRE(multi_setopt, "curl_multi_setopt");
    IC_REQUIRE(multi_add_handle, "curl_multi_add_handle");
    IC_REQUIRE(multi_remove_handle, "curl_multi_remove_handle");
    IC_REQUIRE(multi_perform, "curl_multi_perform");
    IC_REQUIRE(multi_info_read, "curl_multi_info_read");
    IC_REQUIRE(multi_wait, "curl_multi_wait");
    IC_REQUIRE(multi_strerror, "curl_multi_strerror");
#undef IC_REQUIRE
    ic_sym(lib, "curl_multi_poll", (void **)&ic_curl.multi_poll); /* optional: libcurl >= 7.66 */
    /* optional, all three or none: libcurl >= 7.62 (CURLOPT_CURLU: 7.63) */
    if (!ic_sym(lib, "curl_url", (void **)&ic_curl.url) || !ic_sym(lib, "curl_url_set", (void **)&ic_curl.url_set)
        || !ic_sym(lib, "curl_url_cleanup", (void **)&ic_curl.url_cleanup)
        || curl_version_info(CURLVERSION_NOW)->version_num < 0x073f00) {
        ic_curl.url = NULL;
        ic_curl.url_set = NULL;
        ic_curl.url_cleanup = NULL;
    }
    if (!ok) {
        memset(&ic_curl, 0, sizeof ic_curl);
        dlclose(lib);
        luaL_error(L, "intercom: the loaded libcurl lacks functions the core needs (too old?)");
    }
    /* curl_global_init is not thread-safe and must run once per process; Lua states live in one thread. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) luaL_error(L, "intercom: curl_global_init failed");
    ic_curl_ready = 1;
}
