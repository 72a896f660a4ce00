/* A growable byte buffer for data that arrives from C callbacks (libcurl) and is handed to Lua afterwards.
 * Plain malloc/realloc, no Lua allocator: it is owned by a userdata and freed by its __gc, so a Lua error
 * raised while the data is being pushed cannot leak it. */
#ifndef IC_BUFFER_H
#define IC_BUFFER_H

#include <stddef.h>

typedef struct ic_buffer {
    char *data;
    size_t len;
    size_t cap;
} ic_buffer;

void ic_buffer_init(ic_buffer *b);
/* Appends n bytes; returns 0 on success, -1 when memory is exhausted (the buffer is left unchanged). */
int ic_buffer_append(ic_buffer *b, const char *p, size_t n);
/* Empties the buffer for reuse; releases the memory when it grew beyond keep bytes. */
void ic_buffer_clear(ic_buffer *b, size_t keep);
void ic_buffer_free(ic_buffer *b);
/* Writes a NUL byte after the data (not counted in len), for code that scans up to one; 0 or -1. */
int ic_buffer_terminate(ic_buffer *b);

#endif
