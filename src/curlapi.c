/* Loading libcurl on first use (see curlapi.h).
 *
 * The loader runs once per process under pthread_once: Lua states in several threads (an embedding host,
 * LuaLanes, ngx.run_worker_thread) may ask for libcurl at the same moment, and curl_global_init is not
 * thread-safe. The outcome (ic_curl filled in, or the reason it could not be) is written once, before
 * pthread_once returns to any caller, and only read afterwards. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "curlapi.h"

ic_curl_api ic_curl;

static pthread_once_t ic_curl_once = PTHREAD_ONCE_INIT;
static char ic_curl_error[512];         /* empty when libcurl is ready */

/* Looks a function up; returns whether it was found (required ones make the load fail). */
static int ic_sym(void *lib, const char *name, void **slot)
{
    *slot = dlsym(lib, name);
    return *slot != NULL;
}

static void ic_curl_load(void)
{
    static const char *const names[] = {
        "libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4", "libcurl.4.dylib", "libcurl.dylib", NULL
    };
    const char *env = getenv("INTERCOM_LIBCURL");
    void *lib = NULL;
    int i, ok = 1;
    if (env != NULL && *env != '\0') {
        lib = dlopen(env, RTLD_LAZY | RTLD_LOCAL);
        if (lib == NULL) {
            snprintf(ic_curl_error, sizeof ic_curl_error, "cannot load libcurl from INTERCOM_LIBCURL: %s", dlerror());
            return;
        }
    }
    for (i = 0; lib == NULL && names[i] != NULL; i++) lib = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(ic_curl_error, sizeof ic_curl_error, "cannot load libcurl (%s); set INTERCOM_LIBCURL to its path",
                 dlerror());
        return;
    }

    /* The library stays loaded for the life of the process: easy handles may outlive any one state. */
#define IC_REQUIRE(field, name) ok &= ic_sym(lib, name, (void **)&ic_curl.field)
    IC_REQUIRE(global_init, "curl_global_init");
    IC_REQUIRE(version_info, "curl_version_info");
    IC_REQUIRE(easy_init, "curl_easy_init");
    IC_REQUIRE(easy_cleanup, "curl_easy_cleanup");
    IC_REQUIRE(easy_reset, "curl_easy_reset");
    IC_REQUIRE(easy_perform, "curl_easy_perform");
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
    if (!ok) {
        memset(&ic_curl, 0, sizeof ic_curl);
        dlclose(lib);
        snprintf(ic_curl_error, sizeof ic_curl_error, "the loaded libcurl lacks functions the core needs (too old?)");
        return;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(ic_curl_error, sizeof ic_curl_error, "curl_global_init failed");
        return;
    }
}

void ic_curl_global(lua_State *L)
{
    if (pthread_once(&ic_curl_once, ic_curl_load) != 0) luaL_error(L, "intercom: cannot initialise libcurl");
    if (ic_curl_error[0] != '\0') luaL_error(L, "intercom: %s", ic_curl_error);
}
