/* libcurl, loaded on first use instead of linked.
 *
 * Lua loads C modules with RTLD_NOW, which binds every symbol of a module and of all the libraries it
 * links before `require` returns. For libcurl that is some 11,000 relocations across ~30 libraries
 * (OpenSSL, LDAP, Kerberos, SSH, ...): about 15 ms of CPU, paid even by code that never makes a request
 * (webhook checks, the JSON codec, OpenResty's cosocket transport). So the core is not linked against
 * libcurl: the first session or multi dlopen()s it with lazy binding and looks up the functions used
 * here. The names below map the usual curl_* calls onto those pointers, so the code reads as plain
 * libcurl. INTERCOM_LIBCURL may name the library file when it is not one of the usual names. */
#ifndef IC_CURLAPI_H
#define IC_CURLAPI_H

#define CURL_DISABLE_TYPECHECK /* curl.h's type-checking macros would wrap the names defined below */
#define CURL_DISABLE_DEPRECATION /* CURLOPT_PROTOCOLS is the fallback for a libcurl older than 7.85 */
#include <curl/curl.h>
#include "compat.h"

typedef struct ic_curl_api {
    CURLcode (*global_init)(long flags);
    curl_version_info_data *(*version_info)(CURLversion age);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *e);
    void (*easy_reset)(CURL *e);
    CURLcode (*easy_perform)(CURL *e);
    CURLcode (*easy_pause)(CURL *e, int bitmask);
    CURLcode (*easy_setopt)(CURL *e, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_setopt)(CURLM *m, CURLMoption option, ...);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    CURLMcode (*multi_wait)(CURLM *m, struct curl_waitfd fds[], unsigned int n, int timeout_ms, int *ret);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd fds[], unsigned int n, int timeout_ms, int *ret);
    const char *(*multi_strerror)(CURLMcode code);
} ic_curl_api;

/* Filled by ic_curl_global; multi_poll stays NULL with a libcurl older than 7.66 (multi_wait is used). */
extern ic_curl_api ic_curl;

/* Loads libcurl and runs curl_global_init, once per process whatever the number of threads and Lua
 * states (pthread_once); raises when libcurl cannot be loaded, in every state that asks. */
void ic_curl_global(lua_State *L);

/* curl.h forwards these three through same-named macros (to insist on three arguments): replaced. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init ic_curl.global_init
#define curl_version_info ic_curl.version_info
#define curl_easy_init ic_curl.easy_init
#define curl_easy_cleanup ic_curl.easy_cleanup
#define curl_easy_reset ic_curl.easy_reset
#define curl_easy_perform ic_curl.easy_perform
#define curl_easy_pause ic_curl.easy_pause
#define curl_easy_setopt ic_curl.easy_setopt
#define curl_easy_getinfo ic_curl.easy_getinfo
#define curl_easy_strerror ic_curl.easy_strerror
#define curl_slist_append ic_curl.slist_append
#define curl_slist_free_all ic_curl.slist_free_all
#define curl_multi_init ic_curl.multi_init
#define curl_multi_cleanup ic_curl.multi_cleanup
#define curl_multi_setopt ic_curl.multi_setopt
#define curl_multi_add_handle ic_curl.multi_add_handle
#define curl_multi_remove_handle ic_curl.multi_remove_handle
#define curl_multi_perform ic_curl.multi_perform
#define curl_multi_info_read ic_curl.multi_info_read
#define curl_multi_wait ic_curl.multi_wait
#define curl_multi_poll ic_curl.multi_poll
#define curl_multi_strerror ic_curl.multi_strerror

#endif
