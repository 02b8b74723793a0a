/* body.c - what a cached file's bytes are read from by the server: a
 * private copy (read, pread) and the writev row's mapping lent to its own
 * mmap. Each counted in the mapped budget (cache_count), made under the
 * cache lock, and freed with its entry (body_free), with what the send
 * rows made (send_release). */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "fdtab.h"
#include "send.h"
#include "real.h"
#include "stats.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A mapping handed to the server by cache_mmap(), by address. */
struct cache_mref {
	const char *addr;
	struct cache_inode *ino;
	int refs;
	UT_hash_handle hh;
};
static struct cache_mref *mrefs;
/* Reads the whole file into a private buffer, counted in the mapped
 * budget. One real pread, at the first read of the entry. */
static bool make_copy(struct cache_inode *ino)
{
	size_t size = (size_t)ino->st.st_size;
	char *p;

	if (ino->master < 0 || !cache_make_room(0, size, ino))
		return false;
	p = malloc(size ? size : 1);
	if (!p)
		return false;
	if (size && real.pread(ino->master, p, size, 0) != (ssize_t)size) {
		free(p);
		return false;
	}
	ino->copy = p;
	cache_count(0, (ssize_t)size);
	return true;
}

ssize_t cache_pread(struct fd_slot *s, void *buf, size_t n, off_t off)
{
	struct cache_inode *ino = s->ino;
	size_t size = (size_t)ino->st.st_size;
	int saved = errno;
	bool ok;

	if (off < 0 || size > config.copy_max)
		return -1;
	cache_lock();
	ok = !ino->stale && cache_all_watched(ino) && (ino->copy || make_copy(ino));
	cache_unlock();
	errno = saved;
	if (!ok)
		return -1;
	/* The copy lives as long as ino, which the server's descriptor
	 * keeps: no lock for the copy itself. */
	if ((size_t)off >= size)
		n = 0;
	else if (n > size - (size_t)off)
		n = size - (size_t)off;
	if (n)
		memcpy(buf, ino->copy + off, n);
	STAT_INC(read_hit);
	return (ssize_t)n;
}

bool cache_at_eof(struct fd_slot *s, off_t off)
{
	struct cache_inode *ino = s->ino;
	bool eof;

	if (off < ino->st.st_size)
		return false;
	cache_lock();
	eof = !ino->stale && cache_all_watched(ino);
	cache_unlock();
	return eof;
}

void *cache_mmap(struct fd_slot *s, size_t len)
{
	struct cache_inode *ino = s->ino;
	struct cache_mref *m = NULL;

	cache_lock();
	if (ino->stale || !cache_map(ino) || len == 0 || len > ino->maplen)
		goto out;
	HASH_FIND_PTR(mrefs, &ino->map, m);
	if (!m && (m = mem_zalloc(sizeof(*m))) != NULL) {
		m->addr = ino->map;
		m->ino = ino;
		HASH_ADD_PTR(mrefs, addr, m);
	}
	if (m) {
		m->refs++;
		ino->mrefs++;
		__atomic_add_fetch(&cache_maps_out, 1, __ATOMIC_RELAXED);
	}
out:
	cache_unlock();
	if (!m)
		return NULL;
	STAT_INC(mmap_hit);
	return (void *)ino->map;
}

bool cache_munmap(void *addr, size_t len)
{
	const char *a = addr;
	struct cache_mref *m;
	struct cache_inode *ino;

	if (len == 0)
		return false;           /* EINVAL, as the kernel says it */
	cache_lock();
	HASH_FIND_PTR(mrefs, &a, m);
	if (m) {
		ino = m->ino;
		ino->mrefs--;
		__atomic_sub_fetch(&cache_maps_out, 1, __ATOMIC_RELAXED);
		if (--m->refs == 0) {
			HASH_DEL(mrefs, m);
			mem_free(m);
			cache_release(ino);
		}
	}
	cache_unlock();
	return m != NULL;
}


void body_free(struct cache_inode *ino)
{
	send_release(ino);
	if (ino->copy) {
		free(ino->copy);
		cache_count(0, -(ssize_t)ino->st.st_size);
	}
}

void body_fork_prepare(void)
{
	struct cache_mref *m, *tmp;

	/* Mappings the server holds (cache_mmap) must be in the child as a
	 * real mapping would be; the others stay out (send_writev.c). */
	HASH_ITER(hh, mrefs, m, tmp)
		madvise((void *)m->addr, m->ino->maplen, MADV_DOFORK);
}

void body_fork_parent(void)
{
	struct cache_mref *m, *tmp;

	HASH_ITER(hh, mrefs, m, tmp)
		madvise((void *)m->addr, m->ino->maplen, MADV_DONTFORK);
}

void body_wake(void)
{
	struct cache_mref *m, *tmp;
	size_t held = 0;

	/* The mappings the server did not hold were not inherited. */
	cache_map_epoch++;
	HASH_ITER(hh, mrefs, m, tmp) {
		m->ino->map_epoch = cache_map_epoch;
		held += cache_pages(m->ino->maplen);
	}
	send_maps_kept(held);
}
