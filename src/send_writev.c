/* send_writev.c - the writev row: held bytes and the body, from the
 * cache's mapping of a file of at most SENDCACHE_MERGE_MAX (body.c maps
 * it), in one writev. */
#define _GNU_SOURCE
#include "send_in.h"
#include "cache.h"
#include "config.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <sys/uio.h>

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

/* One writev(held + mapping): files mapped because they are at most
 * SENDCACHE_MERGE_MAX. */
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

const struct send_row send_by_writev = { "writev", by_writev };
