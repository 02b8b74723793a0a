/* mem.h - the library's memory, apart from the server's heap (mem.c).
 *
 * A process that forks a child per connection (busybox httpd) has every
 * page its children write copied at each fork. Entries kept in the
 * server's malloc heap scatter its free chunks, and each child's own
 * mallocs then land on more pages: 51 page faults per request against 44
 * with a prewarmed cache (CHANGES.md). The cache's structures come from
 * here instead, in mappings of its own; byte buffers stay with malloc
 * (mem.c). */
#ifndef SC_MEM_H
#define SC_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_zalloc(size_t n);
/* As realloc(3); NULL (p untouched) if there is no memory. */
void *mem_realloc(void *p, size_t n);
void mem_free(void *p);

/* Across fork (engine.c): a process with other threads holds the lock
 * while the child's memory is copied. */
void mem_fork_prepare(void);
void mem_fork_parent(void);
void mem_fork_child(void);

/* uthash's tables (cache.h, watch.c) too. */
#define uthash_malloc(sz) mem_alloc(sz)
#define uthash_free(ptr, sz) mem_free(ptr)

#endif
