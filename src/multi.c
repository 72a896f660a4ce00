/* Concurrent transfers on one libcurl multi handle, driven from Lua (client:map's scheduler).
 *
 *   local m = core.multi()
 *   local id = m:add(req [, {ca_file, proxy}])    -- starts a transfer; raises on misuse
 *   local done = m:perform(timeout_seconds)         -- runs transfers; waits until one completes or timeout
 *     -- done[i] = {id, status, headers, body} or {id, nil, kind, message, details}, as session:perform
 *   m:remove(id); m:pending(); m:close()
 *
 * Lua drives: add, then perform in a loop. Nothing here calls back into Lua during a transfer (libcurl's
 * callbacks only append to the transfer's own buffers, transfer.c), so the caller can run coroutines
 * between calls. Each transfer has its own easy handle and buffers; finished easy handles go back to a
 * small pool for the next add, and every connection lives in the multi's connection cache, shared by all
 * its transfers (keep-alive across them, and HTTP/2 multiplexing where the server offers it).
 *
 * Transfers are kept in three lists owned by the userdata: active (inside libcurl), done (finished, the
 * outcome not yet handed to Lua) and idle (the pool). A transfer leaves `done` only once its outcome is
 * in the list perform returns, so an error while building that list (out of memory) loses nothing: the
 * next perform delivers it. __gc/__close release all three lists.
 *
 * The multi follows the core's one lifecycle, OPEN / BUSY / CLOSED (handle.h): perform builds that list
 * (header tables, bodies, JSON decoded straight from a transfer's buffer) with the multi BUSY, so a
 * finalizer that closes it meanwhile only has it closed once the list is built. */
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "handle.h"
#include "transfer.h"

/* Idle connections a multi keeps for reuse (the ngx transport's pool_size default is the same). */
#define IC_MULTI_POOL 32
#define IC_MULTI_MT "intercom.multi"

/* Easy handles kept for reuse; more than the usual concurrency, far less than a leak. */
#define IC_POOL_MAX 64

typedef struct ic_multi {
    ic_handle h;                    /* first: the lifecycle (handle.h) */
    CURLM *multi;                   /* NULL once closed */
    ic_transfer *active;
    ic_transfer *done;              /* in completion order */
    ic_transfer *idle;
    int n_idle;
    lua_Integer next_id;
} ic_multi;

/* ---- lists --------------------------------------------------------------------------------------------- */

static void ic_list_push(ic_transfer **head, ic_transfer *t)
{
    t->next = *head;
    *head = t;
}

static void ic_list_append(ic_transfer **head, ic_transfer *t)
{
    while (*head != NULL) head = &(*head)->next;
    t->next = NULL;
    *head = t;
}

/* Unlinks t from the list; returns whether it was there. */
static int ic_list_unlink(ic_transfer **head, ic_transfer *t)
{
    for (; *head != NULL; head = &(*head)->next) {
        if (*head == t) {
            *head = t->next;
            t->next = NULL;
            return 1;
        }
    }
    return 0;
}

static ic_transfer *ic_list_find(ic_transfer *head, lua_Integer id)
{
    for (; head != NULL; head = head->next)
        if (head->id == id) return head;
    return NULL;
}

static void ic_transfer_destroy(ic_transfer *t)
{
    ic_transfer_release(t);
    free(t);
}

static void ic_list_destroy(ic_transfer **head)
{
    while (*head != NULL) {
        ic_transfer *t = *head;
        *head = t->next;
        ic_transfer_destroy(t);
    }
}

/* Back to the pool (t is in no list). */
static void ic_multi_recycle(ic_multi *m, ic_transfer *t)
{
    ic_transfer_cleanup(t);
    t->id = 0;
    if (m->n_idle < IC_POOL_MAX) {
        ic_list_push(&m->idle, t);
        m->n_idle++;
    } else {
        ic_transfer_destroy(t);
    }
}

/* Frees everything (ic_handle_close calls it, once, when the multi is not BUSY). */
static void ic_multi_release(ic_handle *h)
{
    ic_multi *m = (ic_multi *)h;
    ic_transfer *t;
    if (m->multi != NULL) {
        for (t = m->active; t != NULL; t = t->next) curl_multi_remove_handle(m->multi, t->easy);
    }
    ic_list_destroy(&m->active);
    ic_list_destroy(&m->done);
    ic_list_destroy(&m->idle);
    m->n_idle = 0;
    if (m->multi != NULL) {
        curl_multi_cleanup(m->multi); /* after every easy handle left it: closes the cached connections */
        m->multi = NULL;
    }
}

static ic_multi *ic_check_multi(lua_State *L)
{
    return (ic_multi *)luaL_checkudata(L, 1, IC_MULTI_MT);
}

static ic_multi *ic_check_open_multi(lua_State *L)
{
    ic_multi *m = ic_check_multi(L);
    ic_handle_check(L, &m->h);
    return m;
}

static int ic_is_https(const char *url)
{
    const char *p = "https:";
    for (; *p; p++, url++) {
        char c = *url;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != *p) return 0;
    }
    return 1;
}

/* ---- methods ----------------------------------------------------------------------------------------- */

/* add's work, through ic_handle_call (BUSY throughout): 1 is the multi (light userdata), 2 the request,
 * 3 the connection options. */
static int ic_multi_add_busy(lua_State *L)
{
    ic_multi *m = (ic_multi *)lua_touserdata(L, 1);
    ic_conn_opts o;
    ic_transfer *t;
    CURLMcode mc;
    int n;

    ic_conn_opts_read(L, 3, &o, "intercom multi");
    if (m->idle == NULL) {
        /* Owned by the idle list from the start: if prepare raises, the pool still holds it. */
        t = (ic_transfer *)malloc(sizeof(*t));
        if (t == NULL) luaL_error(L, "intercom: out of memory");
        if (ic_transfer_init(t) != 0) {
            free(t);
            luaL_error(L, "intercom: curl_easy_init failed");
        }
        ic_list_push(&m->idle, t);
        m->n_idle++;
    }
    t = m->idle;
    /* libcurl copies the body: the transfer outlives this call and the Lua string. */
    n = ic_transfer_prepare(L, t, 2, &o, 1);
    if (n > 0) return n;
    lua_getfield(L, 2, "url");
    /* Over TLS the server may offer HTTP/2: new transfers wait for the first connection's ALPN answer
     * and then share it, rather than each opening a connection of its own. Plain http is HTTP/1.1 here
     * (no h2c), where waiting would only serialize the first requests. */
    curl_easy_setopt(t->easy, CURLOPT_PIPEWAIT, ic_is_https(lua_tostring(L, -1)) ? 1L : 0L);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
    mc = curl_multi_add_handle(m->multi, t->easy);
    if (mc != CURLM_OK) {
        ic_transfer_cleanup(t);
        luaL_error(L, "intercom multi: cannot add the transfer: %s", curl_multi_strerror(mc));
    }
    m->idle = t->next;
    m->n_idle--;
    t->id = ++m->next_id;
    ic_list_push(&m->active, t);
    lua_pushinteger(L, t->id);
    return 1;
}

/* multi:add(req [, opts]) -> id, or nil, kind, message, details when output_file cannot be opened. */
static int ic_multi_add(lua_State *L)
{
    ic_multi *m = ic_check_multi(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 3);
    return ic_handle_call(L, &m->h, ic_multi_add_busy, 2);
}

/* Moves every finished transfer from active to done. C only: never raises. */
static void ic_multi_collect(ic_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        ic_transfer *t = NULL;
        if (msg->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(m->multi, msg->easy_handle); /* msg is invalid from here on */
        if (t == NULL || !ic_list_unlink(&m->active, t)) continue;
        ic_transfer_complete(t, msg->data.result);
        ic_list_append(&m->done, t);
    }
}

/* Pushes the list of finished transfers, {id, status, headers, body[, value]} or {id, nil, kind,
 * message, details} each. It reads the transfers' buffers while it allocates: the multi is BUSY. */
static void ic_multi_push_done(lua_State *L, ic_multi *m)
{
    ic_transfer *t;
    int i = 0;
    lua_newtable(L);
    for (t = m->done; t != NULL; t = t->next) {
        int n, j;
        lua_createtable(L, 5, 0);   /* id and at most four values */
        lua_pushinteger(L, t->id);
        lua_rawseti(L, -2, 1);
        n = ic_transfer_push(L, t);
        for (j = n; j >= 1; j--) lua_rawseti(L, -(j + 1), j + 1);
        lua_rawseti(L, -2, ++i);
    }
}

/* perform's work, through ic_handle_call (BUSY throughout): 1 is the multi (light userdata), 2 the
 * timeout. */
static int ic_multi_perform_busy(lua_State *L)
{
    ic_multi *m = (ic_multi *)lua_touserdata(L, 1);
    lua_Number timeout = luaL_optnumber(L, 2, 0);
    double deadline;
    ic_transfer *t;

    if (!(timeout >= 0)) luaL_error(L, "intercom multi: the timeout must be a number of seconds >= 0");
    deadline = ic_monotonic() + (double)timeout;
    for (;;) {
        double left;
        CURLMcode mc;
        int ms;
        if (m->active != NULL) {
            int running = 0;
            mc = curl_multi_perform(m->multi, &running);
            if (mc != CURLM_OK) luaL_error(L, "intercom multi: %s", curl_multi_strerror(mc));
            ic_multi_collect(m);
        }
        if (m->done != NULL || m->active == NULL) break;
        left = deadline - ic_monotonic();
        if (left <= 0) break;
        /* libcurl shortens the wait to its own next timeout (request timeouts, retries of connects). */
        ms = left >= 2e6 ? 2000000000 : (int)(left * 1000.0) + 1;
        if (curl_multi_poll != NULL)
            mc = curl_multi_poll(m->multi, NULL, 0, ms, NULL);
        else
            mc = curl_multi_wait(m->multi, NULL, 0, ms, NULL); /* libcurl < 7.66 */
        if (mc != CURLM_OK) luaL_error(L, "intercom multi: %s", curl_multi_strerror(mc));
    }

    ic_multi_push_done(L, m);
    /* The whole list is built: only now do the transfers leave `done`. */
    while ((t = m->done) != NULL) {
        m->done = t->next;
        ic_multi_recycle(m, t);
    }
    return 1;
}

/* multi:perform([timeout_seconds]) -> list of completed transfers (possibly empty).
 * Runs what is ready, then waits for network activity until at least one transfer completes, nothing is
 * running any more, or timeout_seconds (default 0: do not wait) have passed. */
static int ic_multi_perform(lua_State *L)
{
    ic_multi *m = ic_check_multi(L);
    lua_settop(L, 2);
    return ic_handle_call(L, &m->h, ic_multi_perform_busy, 1);
}

/* multi:remove(id) -> whether a running or undelivered transfer with that id was dropped. */
static int ic_multi_remove(lua_State *L)
{
    ic_multi *m = ic_check_open_multi(L);
    lua_Integer id = luaL_checkinteger(L, 2);
    ic_transfer *t = ic_list_find(m->active, id);
    if (t != NULL) {
        curl_multi_remove_handle(m->multi, t->easy);
        ic_list_unlink(&m->active, t);
    } else if ((t = ic_list_find(m->done, id)) != NULL) {
        ic_list_unlink(&m->done, t);
    }
    if (t != NULL) ic_multi_recycle(m, t);
    lua_pushboolean(L, t != NULL);
    return 1;
}

/* multi:pending() -> transfers added and not yet delivered by perform. */
static int ic_multi_pending(lua_State *L)
{
    ic_multi *m = ic_check_open_multi(L);
    ic_transfer *t;
    lua_Integer n = 0;
    for (t = m->active; t != NULL; t = t->next) n++;
    for (t = m->done; t != NULL; t = t->next) n++;
    lua_pushinteger(L, n);
    return 1;
}

static int ic_multi_close(lua_State *L)
{
    ic_handle_close(&ic_check_multi(L)->h);
    return 0;
}

static int ic_multi_closed(lua_State *L)
{
    lua_pushboolean(L, ic_check_multi(L)->h.state == IC_CLOSED);
    return 1;
}

static int ic_multi_tostring(lua_State *L)
{
    ic_multi *m = ic_check_multi(L);
    lua_pushfstring(L, "intercom.multi (%s%p)", m->h.state == IC_CLOSED ? "closed, " : "", (void *)m);
    return 1;
}

/* core.multi() -> multi */
static int ic_multi_new(lua_State *L)
{
    ic_multi *m;
    ic_curl_global(L);
    m = (ic_multi *)lua_newuserdata(L, sizeof(*m));
    memset(m, 0, sizeof(*m));
    ic_handle_init(&m->h, "intercom multi", ic_multi_release);
    luaL_getmetatable(L, IC_MULTI_MT);
    lua_setmetatable(L, -2);
    m->multi = curl_multi_init();
    if (m->multi == NULL) luaL_error(L, "intercom: curl_multi_init failed");
    curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    /* Idle connections kept once transfers end: libcurl's default is four per transfer ever added, so a map
     * at concurrency 500 left ~500 sockets open until close(). A pool's worth is kept, as in nginx. */
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)IC_MULTI_POOL);
    return 1;
}

static const luaL_Reg ic_multi_methods[] = {
    {"add", ic_multi_add},
    {"perform", ic_multi_perform},
    {"remove", ic_multi_remove},
    {"pending", ic_multi_pending},
    {"close", ic_multi_close},
    {"closed", ic_multi_closed},
    {NULL, NULL}
};

static const luaL_Reg ic_multi_meta[] = {
    {"__gc", ic_multi_close},
#if LUA_VERSION_NUM >= 504
    {"__close", ic_multi_close},
#endif
    {"__tostring", ic_multi_tostring},
    {NULL, NULL}
};

static const luaL_Reg ic_multi_funcs[] = {
    {"multi", ic_multi_new},
    {NULL, NULL}
};

void ic_multi_register(lua_State *L)
{
    luaL_newmetatable(L, IC_MULTI_MT);
    ic_setfuncs(L, ic_multi_meta);
    lua_pushliteral(L, IC_MULTI_MT);
    lua_setfield(L, -2, "__name");
    ic_newlib(L, ic_multi_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    ic_setfuncs(L, ic_multi_funcs);
}
