/* The one lifecycle of every C handle of the core: session (http.c), multi (multi.c), stream (stream.c).
 *
 *   OPEN    usable. close() releases the handle's C resources at once and makes it CLOSED.
 *   BUSY    inside an operation that reads the handle's C buffers (libcurl's easy handles, the received
 *           header and body bytes) while it makes Lua values of them. Any Lua allocation can run a garbage
 *           collection step, and with it a finalizer (__gc) of the caller's, which may use or close this
 *           very handle. So while BUSY: a method call on the handle raises ("busy"), and close() (or
 *           __gc, __close) only records the request, which takes effect when the operation ends.
 *   CLOSED  released; every method but close/closed raises ("closed"). close() is idempotent.
 *
 * The rule each handle file keeps: no C buffer of a handle is read after a Lua allocation unless the
 * handle is BUSY. ic_handle_call is how: it runs a lua_CFunction (the part that makes Lua values of the
 * buffers) protected with the handle BUSY, then leaves BUSY (releasing the handle if a close came in
 * meanwhile) and only then passes on an error the function raised (out of memory, or an error of a
 * finalizer on LuaJIT). */
#ifndef IC_HANDLE_H
#define IC_HANDLE_H

#include "compat.h"

enum { IC_OPEN = 0, IC_BUSY, IC_CLOSED };

typedef struct ic_handle {
    int state;                      /* IC_OPEN, IC_BUSY or IC_CLOSED */
    int close_pending;              /* close() was called while BUSY */
    const char *what;               /* "intercom session", for messages */
    void (*release)(struct ic_handle *h); /* frees the C resources; the handle is the first member */
} ic_handle;

/* A new OPEN handle (the struct is zeroed by its owner first). */
void ic_handle_init(ic_handle *h, const char *what, void (*release)(ic_handle *h));
/* Raises "<what> is closed" or "<what> is busy: ..." unless the handle is OPEN. */
void ic_handle_check(lua_State *L, ic_handle *h);
/* close(), __gc and __close: releases an OPEN handle now, a BUSY one when its operation ends. */
void ic_handle_close(ic_handle *h);
/* Calls f(h as a light userdata, the nargs values on top of the stack) protected, with h BUSY; returns
 * f's results (LUA_MULTRET) after leaving BUSY, or raises f's error after leaving BUSY. The handle may
 * be CLOSED afterwards (a finalizer closed it): the caller must check before touching its C parts. */
int ic_handle_call(lua_State *L, ic_handle *h, lua_CFunction f, int nargs);

#endif
