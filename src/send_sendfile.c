/* send_sendfile.c - the sendfile row, for any body: the head with
 * MSG_MORE, then the kernel's sendfile. */
#define _GNU_SOURCE
#include "send_in.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <sys/uio.h>

/* The head with MSG_MORE, then the real sendfile: any body. No TCP_CORK
 * is set: MSG_MORE already makes head and body share segments, and
 * sendfile marks all but its last chunk as more to come. */
static ssize_t by_sendfile(struct body *b)
{
	ssize_t r;
	bool more = b->os && held_len(b->os);

	if (more && send_hold_out(b->out, b->os, MSG_MORE) < 0)
		return -1;
	r = real.sendfile(b->out, b->in, b->offp, b->count);
	STAT_INC(sendfile_real);
	if (r > 0) {
		STAT_ADD(sendfile_bytes, r);
		if (b->os)
			send_corked_sent(b->out, b->os);
	}
	return more ? send_after_more(b->out, r) : r;
}

/* Any body. */
static bool sendfile_fits(off_t size)
{
	(void)size;
	return true;
}

const struct send_row send_by_sendfile = {
	.name = "sendfile",
	.fits = sendfile_fits,
	.send = by_sendfile,
};
