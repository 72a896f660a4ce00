/* Growable byte buffer (see buffer.h). */
#include <stdlib.h>
#include <string.h>
#include "buffer.h"

void ic_buffer_init(ic_buffer *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int ic_buffer_terminate(ic_buffer *b)
{
    if (ic_buffer_append(b, "", 1) != 0) return -1;
    b->len--;
    return 0;
}

int ic_buffer_append(ic_buffer *b, const char *p, size_t n)
{
    if (n == 0) return 0;
    if (n > (size_t)-1 - b->len) return -1;
    if (b->len + n > b->cap) {
        /* Doubling keeps appends amortised O(1) for bodies that arrive in many small pieces. */
        size_t cap = b->cap ? b->cap : 1024;
        char *d;
        while (cap < b->len + n) {
            if (cap > (size_t)-1 / 2) { cap = b->len + n; break; }
            cap *= 2;
        }
        d = (char *)realloc(b->data, cap);
        if (d == NULL) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void ic_buffer_clear(ic_buffer *b, size_t keep)
{
    /* A long-lived session should not pin the memory of its largest response forever. */
    if (b->cap > keep) ic_buffer_free(b);
    b->len = 0;
}

void ic_buffer_free(ic_buffer *b)
{
    free(b->data);
    ic_buffer_init(b);
}
