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
 * handle is BUSY. ic_handle_call is how: every method that touches the handle's C parts runs inside it,
 * protected and BUSY from before any Lua code can run until its results are made; it then leaves BUSY
 * (releasing the handle if a close came in meanwhile) and only then passes on an error the method raised
 * (misuse, out of memory, or an error of a finalizer on LuaJIT). */
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
/* A method of the handle: raises unless it is OPEN, then calls f(h as a light userdata, the nargs values
 * on top of the stack) protected, with h BUSY for the whole call, and returns f's results (LUA_MULTRET)
 * after leaving BUSY, or raises f's error after leaving BUSY (and releasing h if a close came in
 * meanwhile). f sees its arguments at the same stack indices as the method (1: the handle, as a light
 * userdata). Everything a method does that can run Lua code (reading the request table, which may have
 * metamethods; making the result values, whose allocations may run finalizers) goes inside f. */
int ic_handle_call(lua_State *L, ic_handle *h, lua_CFunction f, int nargs);

#endif
