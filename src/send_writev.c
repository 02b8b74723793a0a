/* send_writev.c - the writev row: held bytes and the body, from a
 * mapping of a file of at most SENDCACHE_MERGE_MAX, in one writev. The
 * row makes the mapping (send.h, send_prepare) and unmaps it
 * with the entry; the server's own mmap of the file borrows it (body.c,
 * cache_mmap). */
#define _GNU_SOURCE
#include "send_in.h"
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/uio.h>

unsigned cache_map_epoch;
static size_t map_bytes;       /* this process's mappings, whole pages */

/* Files at most SENDCACHE_MERGE_MAX: the row's bound, read in this file
 * only. */
static bool writev_fits(off_t size)
{
	return size > 0 && (size_t)size <= config.merge_max;
}

size_t send_map_need(off_t size)
{
	/* None for a file that could not fit the budget at all
	 * (SENDCACHE_MAX_MAPPED=0: trying to make room evicted every
	 * entry). */
	if (!writev_fits(size) || cache_pages((size_t)size) > config.max_mapped)
		return 0;
	return cache_pages((size_t)size);
}

size_t send_map_most(void)
{
	return config.merge_max;
}

/* Maps ino's file, with MADV_DONTFORK: a server that forks per
 * connection (busybox httpd) would otherwise copy every cached mapping
 * into every child and tear it down at its exit, each a link in the
 * file's reverse-map tree: with 40 files warmed up, a third more CPU per
 * request. A child maps again what it uses (pool.c, hand_out). With
 * libc's mmap: the cache's own mappings are not the server's (fmaps.h). */
static void writev_prepare(struct cache_inode *ino)
{
	size_t size = (size_t)ino->st.st_size, need = send_map_need(ino->st.st_size);
	void *map;

	/* Nor at warm-up: the process warming up (a server's parent, before
	 * it forks) sends nothing, and every mapping it held would be one
	 * more area each fork walks (dup_mmap), inherited or not: busybox
	 * httpd, its 38 files warmed up, lost 12% of CPU per request. */
	if (!need || cache_map(ino) || ino->master < 0 || cache_prewarming ||
	    !cache_make_room(0, need, ino))
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

static void writev_release(struct cache_inode *ino)
{
	if (!cache_map(ino))
		return;
	/* libc's munmap, not ours: this runs under the cache lock, and our
	 * munmap takes it to look for a mapping the server holds (a
	 * self-deadlock once the server holds one: Apache). */
	real.munmap((void *)ino->map, ino->maplen);
	map_bytes -= cache_pages(ino->maplen);
	cache_count(0, -(ssize_t)cache_pages(ino->maplen));
	ino->map = NULL;
	ino->maplen = 0;
}

void send_maps_kept(size_t held)
{
	cache_count(0, -(ssize_t)(map_bytes - held));
	map_bytes = held;
}

/* The merged path: held bytes + [map + off, n) in one writev, which
 * raises SIGPIPE where sendfile would. Returns the
 * result for sendfile, or ONLY_HELD when the real sendfile must go on
 * (the held bytes are out, no body byte went: a full socket, or a
 * mapping past the end of a truncated file, EFAULT). */
static ssize_t sendfile_merged(int out, struct fd_slot *os,
			       const struct cache_inode *ino, off_t off,
			       size_t n)
{
	struct iovec v[2];
	size_t held = os->hold->len;
	ssize_t r;

	v[0].iov_base = os->hold->buf;
	v[0].iov_len = held;
	v[1].iov_base = (void *)(cache_map(ino) + off);
	v[1].iov_len = n;
	r = real.writev(out, v, 2);
	if (r < 0 && errno == EFAULT) {
		/* Nothing went out at all: send the header alone below. */
		STAT_INC(efault_fallback);
		return ONLY_HELD;
	}
	STAT_INC(merged_writev);
	if (r > 0) {
		STAT_ADD(merged_bytes, r);
		send_corked_sent(out, os);
	}
	return send_account(os, r, n);
}

/* One writev(held + mapping): files the row mapped. */
static ssize_t by_writev(struct body *b)
{
	size_t n;
	ssize_t r;

	if (!send_cached(b) || !cache_map(b->ino) ||
	    (size_t)*b->offp >= b->ino->maplen)
		return DECLINE;
	n = b->ino->maplen - (size_t)*b->offp;
	if (n > b->count)
		n = b->count;
	r = sendfile_merged(b->out, b->os, b->ino, *b->offp, n);
	if (r == ONLY_HELD) {
		if (b->os->hold->len)   /* EFAULT: the file shrank under us */
			cache_invalidate(b->ino);
		return DECLINE;
	}
	if (r > 0)
		*b->offp += r;
	return r;
}

const struct send_row send_by_writev = {
	.name = "writev",
	.fits = writev_fits,
	.prepare = writev_prepare,
	.send = by_writev,
	.release = writev_release,
};
