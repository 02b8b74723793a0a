/* send_pipe.c - the pipe row: the head with MSG_MORE, then the file teed
 * from its cached pipe (body.c fills it) and spliced (pipe.c). */
#define _GNU_SOURCE
#include "send_in.h"
#include "cache.h"
#include "real.h"
#include "pipe.h"
#include "stats.h"

#include <errno.h>
#include <sys/uio.h>

/* The head with MSG_MORE, then the whole file teed from its cached pipe
 * and spliced to the socket: files of at most SENDCACHE_PIPE_MAX, sent
 * from their start to their end. */
static ssize_t by_pipe(struct body *b)
{
	size_t size;
	ssize_t r;
	int src;

	if (!send_cached(b) || *b->offp != 0)
		return DECLINE;
	size = (size_t)b->ino->st.st_size;
	if (!pipe_fits(size) || b->count < size ||
	    (src = cache_pipe(b->ino)) < 0)
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

const struct send_row send_by_pipe = { "pipe", by_pipe };
