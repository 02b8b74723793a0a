/* mem.c - the library's memory, apart from the server's heap (mem.h).
 *
 * The cache's own structures: entries, names, absences, watches, the
 * tables that find them, the admission sketch. Byte buffers (an entry's
 * copy, bytes held for a socket) stay with malloc(3): a size class would
 * round them up to twice their size, and a server that forks per
 * connection makes none of them in its parent.
 *
 * Size classes of powers of two, 32 bytes to 256 KiB, each cut from
 * slabs of its own by a bump pointer (a page is touched only when an
 * object on it is used) and recycled through a free list; larger objects
 * are mappings of their own. A 16-byte header before each object says
 * its class. Memory of a class is never given back, as malloc's heap
 * rarely is. Under a sanitizer, malloc(3) itself, so that its checks see
 * our objects. */
#define _GNU_SOURCE
#include "mem.h"
#include "cache.h"
#include "real.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MEM_LIBC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MEM_LIBC 1
#endif
#endif

#ifdef MEM_LIBC
void *mem_alloc(size_t n) { return malloc(n); }
void *mem_zalloc(size_t n) { return calloc(1, n); }
void *mem_realloc(void *p, size_t n) { return realloc(p, n); }
void mem_free(void *p) { free(p); }
void mem_fork_prepare(void) {}
void mem_fork_parent(void) {}
void mem_fork_child(void) {}
#else

#define MIN_SHIFT 5                     /* 32 bytes */
#define CLASSES 14                      /* to 256 KiB */
#define SLAB (256u << 10)               /* a class's slab, at least */
#define BIG 0xffu                       /* a mapping of its own */

struct head {
	size_t len;             /* a BIG object's mapping; else unused */
	uint32_t cls;
	uint32_t live;          /* LIVE while allocated */
};
#define LIVE 0x5ca11ed5u

struct free_obj {
	struct free_obj *next;
};

static struct {
	char *next, *end;       /* the slab being cut */
	struct free_obj *free;
} cls_state[CLASSES];

static pthread_mutex_t mem_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool fork_locked;

static void *map(size_t len)
{
	void *p = real.mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static unsigned class_of(size_t total)
{
	unsigned c = 0;

	while (c < CLASSES && ((size_t)1 << (c + MIN_SHIFT)) < total)
		c++;
	return c < CLASSES ? c : BIG;
}

static struct head *take(unsigned c)
{
	size_t size = (size_t)1 << (c + MIN_SHIFT);
	struct free_obj *f = cls_state[c].free;
	void *slab;

	if (f) {
		cls_state[c].free = f->next;
		return (struct head *)f;
	}
	if ((size_t)(cls_state[c].end - cls_state[c].next) < size) {
		if (!(slab = map(size > SLAB / 4 ? size * 4 : SLAB)))
			return NULL;
		cls_state[c].next = slab;
		cls_state[c].end = (char *)slab + (size > SLAB / 4 ? size * 4 : SLAB);
	}
	f = (struct free_obj *)cls_state[c].next;
	cls_state[c].next += size;
	return (struct head *)f;
}

void *mem_alloc(size_t n)
{
	size_t total = n + sizeof(struct head);
	unsigned c = class_of(total);
	struct head *h;

	if (total < n)
		return NULL;
	if (c == BIG) {
		total = (total + 4095) & ~(size_t)4095;
		if (!(h = map(total)))
			return NULL;
		h->len = total;
	} else {
		pthread_mutex_lock(&mem_mutex);
		h = take(c);
		pthread_mutex_unlock(&mem_mutex);
		if (!h)
			return NULL;
	}
	h->cls = c;
	h->live = LIVE;
	return h + 1;
}

void *mem_zalloc(size_t n)
{
	struct head *p = mem_alloc(n);

	if (p && p[-1].cls != BIG)      /* a new mapping is zero already */
		memset(p, 0, n);
	return p;
}

static size_t room(const struct head *h)
{
	return (h->cls == BIG ? h->len : (size_t)1 << (h->cls + MIN_SHIFT)) -
	       sizeof(*h);
}

void *mem_realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return mem_alloc(n);
	if (n <= room((struct head *)p - 1))
		return p;
	if (!(q = mem_alloc(n)))
		return NULL;
	memcpy(q, p, room((struct head *)p - 1));
	mem_free(p);
	return q;
}

void mem_free(void *p)
{
	struct head *h;
	struct free_obj *f;

	if (!p)
		return;
	h = (struct head *)p - 1;
	if (h->live != LIVE)
		return;         /* freed twice: a bug of ours, not the server's */
	h->live = 0;
	if (h->cls == BIG) {
		real.munmap(h, h->len);
		return;
	}
	f = (struct free_obj *)h;
	pthread_mutex_lock(&mem_mutex);
	f->next = cls_state[h->cls].free;
	cls_state[h->cls].free = f;
	pthread_mutex_unlock(&mem_mutex);
}

/* As the cache's lock: only a process with other threads takes it across
 * fork, so that a child of a single-threaded server writes none of it. */
void mem_fork_prepare(void)
{
	if (!cache_fork_alone()) {
		pthread_mutex_lock(&mem_mutex);
		fork_locked = true;
	}
}

void mem_fork_parent(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_unlock(&mem_mutex);
	}
}

void mem_fork_child(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_init(&mem_mutex, NULL);
	}
}
#endif
