/* send_pipe.c - the pipe row: the head with MSG_MORE, then the whole file
 * teed from a pipe that holds it and spliced (pipe.c). The row fills the
 * pipe at the file's first send, counts it in the budgets, and closes it
 * with the entry. */
#define _GNU_SOURCE
#include "send_in.h"
#include "cache.h"
#include "cache_in.h"
#include "fdtab.h"
#include "pipe.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

static bool pipe_row_fits(off_t size)
{
	return size > 0 && pipe_fits((size_t)size);
}

/* Makes ino's pipe, a descriptor and its pages within the budgets. The
 * kernel counts pipe pages per user: past pipe-user-pages-soft,
 * F_SETPIPE_SZ fails with EPERM, and that is a fallback, not an error. */
static bool pipe_fill(struct cache_inode *ino)
{
	size_t size = (size_t)ino->st.st_size;
	loff_t off = 0;
	int p[2], high;
	ssize_t r;

	if (!pipe_row_fits(ino->st.st_size) || ino->master < 0 ||
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

/* The read end of ino's pipe, filled at the first call: -1 when it has
 * none (stale entry, no room, no pipe pages left: never tried again). */
static int pipe_get(struct cache_inode *ino)
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

static void pipe_release(struct cache_inode *ino)
{
	if (!ino->pipe_len)
		return;
	cache_drop_fd(ino->pipe);
	cache_count(0, -(ssize_t)cache_pages(ino->pipe_len));
	ino->pipe_len = 0;
}

/* The server closed our pipe (a close_range, or a close of a descriptor
 * number it did not own): the descriptor's count went with fdtab. */
static bool pipe_lost(struct cache_inode *ino, int fd)
{
	if (!ino->pipe_len || fd != ino->pipe)
		return false;
	cache_count(0, -(ssize_t)cache_pages(ino->pipe_len));
	ino->pipe_len = 0;
	ino->pipe_failed = true;
	return true;
}

/* The head with MSG_MORE, then the whole file teed from its pipe and
 * spliced to the socket: sent from its start to its end. */
static ssize_t by_pipe(struct body *b)
{
	size_t size;
	ssize_t r;
	int src;

	if (!send_cached(b) || *b->offp != 0 || !pipe_row_fits(b->ino->st.st_size))
		return DECLINE;
	size = (size_t)b->ino->st.st_size;
	if (b->count < size || (src = pipe_get(b->ino)) < 0)
		return DECLINE;
	if (send_hold_out(b->out, b->os, MSG_MORE) < 0)
		return -1;
	r = pipe_send(b->out, src, size);
	if (r == -2)
		return DECLINE;
	STAT_INC(piped);
	if (r > 0) {
		*b->offp += r;
		send_corked_sent(b->out, b->os);
	}
	return send_after_more(b->out, r);
}

const struct send_row send_by_pipe = {
	.name = "pipe",
	.fits = pipe_row_fits,
	.send = by_pipe,
	.release = pipe_release,
	.lost = pipe_lost,
};
