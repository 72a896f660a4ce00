/* One HTTP transfer on one libcurl easy handle: what the blocking session (http.c) and the concurrent
 * multi (multi.c) share. Reading and checking a Lua request table, setting the easy handle up for it,
 * the write callbacks (which only append to the transfer's own C buffers: nothing calls back into Lua
 * during a transfer), and pushing the outcome to Lua.
 *
 * A transfer's life: ic_transfer_prepare (may raise on misuse) -> libcurl runs it -> ic_transfer_complete
 * (C only, never raises) -> ic_transfer_push (may raise on memory errors; can be repeated) ->
 * ic_transfer_cleanup. Every resource hangs off the struct, so a Lua error at any step leaks nothing: the
 * owner's next prepare or its __gc releases it.
 *
 * Each request is set up plainly: the easy handle is reset (curl_easy_reset keeps the connection, DNS and
 * TLS session caches, all keep-alive needs), the header list is built anew and the URL goes to libcurl
 * as a string. Nothing parsed or built for one request is kept for the next. ic_transfer_push makes Lua
 * values of the transfer's C buffers: its owner calls it with the handle BUSY (handle.h). */
#ifndef IC_TRANSFER_H
#define IC_TRANSFER_H

#include <stdio.h>
#include "curlapi.h"
#include "core.h"
#include "buffer.h"

/* Connection options shared by every request of a session or a transport (copied by libcurl on setopt). */
typedef struct ic_conn_opts {
    const char *ca_file;
    const char *proxy;
} ic_conn_opts;

typedef struct ic_transfer {
    CURL *easy;                     /* NULL once released */
    struct curl_slist *req_headers; /* header list of the request being run */
    FILE *out;                      /* output_file of the request being run */
    int out_errno;                  /* errno of a failed write to out */
    int oom;                        /* a callback ran out of memory */
    size_t max_body;                /* req.max_response_bytes: 0, or the most body bytes kept in memory */
    int too_large;                  /* the body passed max_body: the transfer was aborted */
    int bad_length;                 /* the head gave two different Content-Length values: aborted */
    int length_seen;                /* a Content-Length of the current response head was read ... */
    unsigned long long length;      /* ... with this value */
    int to_file;                    /* the body went to output_file: the pushed body is nil */
    CURLcode rc;                    /* set by ic_transfer_complete */
    int file_errno;                 /* set by ic_transfer_complete */
    ic_buffer head;                 /* header lines of the final response (interim ones dropped) */
    ic_buffer body;
    ic_buffer up;                   /* body of a request sent `once`, handed out by a read callback */
    size_t up_off;                  /* how much of `up` libcurl has read */
    int once_upload;                /* the body goes through the read callback (see ic_transfer_prepare) */
    int decode;                     /* req.decode: a 2xx JSON body is pushed decoded (ic_transfer_push) */
    char errbuf[CURL_ERROR_SIZE];
    /* bookkeeping of the owner (multi.c): an id and a place in one of its lists */
    lua_Integer id;
    struct ic_transfer *next;
} ic_transfer;

/* Reads opts (index idx): nil or {ca_file = string?, proxy = string?} into o; the strings stay on the
 * stack. Raises "<who>: option '...' must be a string" on a wrong type. */
void ic_conn_opts_read(lua_State *L, int idx, ic_conn_opts *o, const char *who);

/* A fresh transfer with its own easy handle; returns -1 when libcurl cannot make one. */
int ic_transfer_init(ic_transfer *t);
/* Releases what one request holds (output file, oversized buffers); idempotent. */
void ic_transfer_cleanup(ic_transfer *t);
/* Releases everything, the easy handle included; idempotent. */
void ic_transfer_release(ic_transfer *t);

/* Reads the request table at index req ({method, url, headers?, body?, timeout?, connect_timeout?,
 * output_file?, once?, max_response_bytes?}), checks it (raising on misuse, before libcurl is touched) and sets t->easy up for it.
 * The strings it reads are left on the Lua stack. With copy_body, libcurl keeps its own copy of the body
 * (the transfer outlives this call); otherwise the caller keeps the stack as it is until the transfer
 * ends. Returns 0, or pushes the four failure values (nil, "network", message, details) and returns 4
 * when output_file cannot be opened or libcurl refuses an option security depends on (protocols, TLS
 * verification, no redirects, the CA file): such a request is never sent. */
int ic_transfer_prepare(lua_State *L, ic_transfer *t, int req, const ic_conn_opts *o, int copy_body);

/* After libcurl finished the transfer with rc: closes the output file and records the outcome in t.
 * Never raises. */
void ic_transfer_complete(ic_transfer *t, CURLcode rc);

/* Pushes the recorded outcome: status, headers, body (3 values), or with t->decode status, headers, nil,
 * value (4: a 2xx JSON object or array, decoded from the buffer), or nil, kind, message, details (4).
 * headers is the final response's {lowercase name = value} (ic_push_headers). Returns the count. Leaves
 * t unchanged, so it can be repeated. Allocates Lua values while it reads t's buffers: the owner's
 * handle must be BUSY (handle.h). */
int ic_transfer_push(lua_State *L, ic_transfer *t);

/* Pushes the final response's headers received so far as a table (ic_push_headers), for a stream, whose
 * head is wanted before the transfer ends. */
void ic_transfer_push_head(lua_State *L, ic_transfer *t);

/* head.c: pushes {lowercase name = value} for a header block, repeated names joined with ", ". */
void ic_push_headers(lua_State *L, const char *data, size_t len);

/* details = {curl_code, sent} */
void ic_push_details(lua_State *L, int code, int sent);

#endif
