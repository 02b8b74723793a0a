/* body.c - what a cached file's bytes are sent or read from: a mapping
 * (writev, and the server's own mmap), a private copy (read, pread), a
 * pipe (tee + splice). Each counted in the mapped budget (cache_count),
 * made under the cache lock, and freed with its entry (body_free). */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "fdtab.h"
#include "pipe.h"
#include "real.h"
#include "stats.h"

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
unsigned cache_map_epoch;
static size_t map_bytes;       /* of nmapped: this process's mappings */

/* The bytes body_map() maps for a file of size bytes, whole pages: none
 * for a file too large to send from a mapping or to fit the budget at all
 * (SENDCACHE_MAX_MAPPED=0: trying to make room evicted every entry). */
size_t body_map_need(off_t size)
{
	if (size <= 0 || (size_t)size > config.merge_max ||
	    cache_pages((size_t)size) > config.max_mapped)
		return 0;
	return cache_pages((size_t)size);
}

/* Maps ino's file if it is at most merge_max, with MADV_DONTFORK: a
 * server that forks per connection (busybox httpd) would otherwise copy
 * every cached mapping into every child and tear it down at its exit,
 * each a link in the file's reverse-map tree: with 40 files warmed up,
 * a third more CPU per request. A child maps again what it uses
 * (hand_out). With libc's mmap: the cache's own mappings are not the
 * server's (fmaps.h). */
void body_map(struct cache_inode *ino)
{
	size_t size = (size_t)ino->st.st_size, need = body_map_need(ino->st.st_size);
	void *map;

	/* Nor at warm-up: the process warming up (a server's parent, before
	 * it forks) sends nothing, and every mapping it held would be one
	 * more area each fork walks (dup_mmap), inherited or not: busybox
	 * httpd, its 38 files warmed up, lost 12% of CPU per request. */
	if (!need || ino->master < 0 || cache_prewarming || !cache_make_room(0, need, ino))
		return;
	map = real.mmap(NULL, size, PROT_READ, MAP_SHARED, ino->master, 0);
	if (map == MAP_FAILED)
		return;
	madvise(map, size, MADV_DONTFORK);
	ino->map = map;
	ino->maplen = size;
	ino->map_epoch = cache_map_epoch;
	map_bytes += cache_pages(size);
	cache_count(0, (ssize_t)cache_pages(size));
}

/* ino's mapping (this process's) is gone: forget it. */
static void unmapped(struct cache_inode *ino)
{
	map_bytes -= cache_pages(ino->maplen);
	cache_count(0, -(ssize_t)cache_pages(ino->maplen));
	ino->map = NULL;
	ino->maplen = 0;
}

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

/* Makes ino's pipe. The kernel counts pipe pages per user: past
 * pipe-user-pages-soft, F_SETPIPE_SZ fails with EPERM, and that is a
 * fallback, not an error. */
static bool pipe_fill(struct cache_inode *ino)
{
	size_t size = (size_t)ino->st.st_size;
	loff_t off = 0;
	int p[2], high;
	ssize_t r;

	if (!pipe_fits(size) || ino->master < 0 ||
	    !cache_make_room(3, cache_pages(size), ino))
		return false;
	if (real.pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return false;
	if (real.fcntl(p[1], F_SETPIPE_SZ, (int)(size + PIPE_PAGE)) < 0)
		goto fail;
	while (off < (loff_t)size) {
		r = splice(ino->master, &off, p[1], NULL, size - (size_t)off,
			   SPLICE_F_NONBLOCK);
		if (r <= 0)
			goto fail;
	}
	real.close(p[1]);
	high = cache_dup_high(p[0]);
	real.close(p[0]);
	if (high < 0)
		return false;
	fdtab_set(high, FD_OURS, ino);
	ino->pipe = high;
	ino->pipe_len = size;
	cache_count(1, (ssize_t)cache_pages(size));
	return true;
fail:
	real.close(p[0]);
	real.close(p[1]);
	STAT_INC(pipe_fail);
	return false;
}

int cache_pipe(struct cache_inode *ino)
{
	int fd = -1, saved = errno;

	cache_lock();
	if (!ino->stale && !ino->pipe_len && !ino->pipe_failed)
		ino->pipe_failed = !pipe_fill(ino);
	if (!ino->stale && ino->pipe_len)
		fd = ino->pipe;
	cache_unlock();
	errno = saved;
	return fd;
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
	if (!m && (m = calloc(1, sizeof(*m))) != NULL) {
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
			free(m);
			cache_release(ino);
		}
	}
	cache_unlock();
	return m != NULL;
}


void body_free(struct cache_inode *ino)
{
	if (cache_map(ino)) {
		/* libc's munmap, not ours: this runs under the cache lock, and
		 * our munmap takes it to look for a mapping the server holds
		 * (a self-deadlock once the server holds one: Apache). */
		real.munmap((void *)ino->map, ino->maplen);
		unmapped(ino);
	}
	if (ino->pipe_len) {
		cache_drop_fd(ino->pipe);
		cache_count(0, -(ssize_t)cache_pages(ino->pipe_len));
	}
	if (ino->copy) {
		free(ino->copy);
		cache_count(0, -(ssize_t)ino->st.st_size);
	}
}

void body_pipe_lost(struct cache_inode *ino)
{
	cache_count(0, -(ssize_t)cache_pages(ino->pipe_len));
	ino->pipe_len = 0;
	ino->pipe_failed = true;
}

void body_fork_prepare(void)
{
	struct cache_mref *m, *tmp;

	/* Mappings the server holds (cache_mmap) must be in the child as a
	 * real mapping would be; the others stay out (body_map). */
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
	cache_count(0, -(ssize_t)(map_bytes - held));
	map_bytes = held;
}
