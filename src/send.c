/* send.c - held-back headers and merged sends; the table of strategy rows
 * (send_writev.c, send_pipe.c, send_sendfile.c) a body after held bytes
 * is sent by. */
#define _GNU_SOURCE
#include "send.h"
#include "ctl.h"
#include "send_in.h"
#include "cache.h"
#include "config.h"
#include "fmaps.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* How long a flush at a blocking point may wait for room in the socket
 * buffer before giving up on a peer that does not read: bounded, so one
 * stuck client cannot stall the others for long. */
#define FLUSH_WAIT_MS 10000

/* A thread holds bytes on at most this many sockets; more flushes the
 * oldest first. */
#define HELD_MAX 16

static __thread int held_fds[HELD_MAX];
static __thread int nheld;

#define SELF ((const void *)&nheld)

static void hold_lock(struct fd_slot *s)
{
	while (__atomic_test_and_set(&s->hlock, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void hold_unlock(struct fd_slot *s)
{
	__atomic_clear(&s->hlock, __ATOMIC_RELEASE);
}

bool send_holds(const struct fd_slot *s)
{
	return held_len(s) != 0;
}

struct fd_slot *send_tcp_slot(int fd)
{
	struct fd_slot *s = fdtab_get(fd);

	if (!s)
		return NULL;
	if (s->kind == FD_UNKNOWN)
		fdtab_classify(fd, s);
	return s->kind == FD_TCP ? s : NULL;
}

bool send_is_http_head(const char *buf, size_t n)
{
	const char *end;

	if (n < 16 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' ||
	    buf[9] < '1' || buf[9] > '5')
		return false;
	end = memmem(buf, n, "\r\n\r\n", 4);
	return end && (size_t)(end - buf) + 4 == n;
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

static void held_register(int fd)
{
	int i;

	for (i = 0; i < nheld; i++)
		if (held_fds[i] == fd)
			return;
	if (nheld == HELD_MAX) {
		int old = held_fds[0];

		memmove(held_fds, held_fds + 1, sizeof(int) * (HELD_MAX - 1));
		nheld--;
		send_flush_fd(old, fdtab_get(old));
	}
	held_fds[nheld++] = fd;
}

/* Appends iov to the hold of s, if it fits and (when want_head) is one
 * HTTP head. Called with the hold lock. */
static bool hold_append(struct fd_slot *s, const struct iovec *iov,
			int iovcnt, size_t n, bool want_head)
{
	struct hold *h = s->hold;
	size_t at = held_len(s);
	int i;

	if (at + n > HOLD_MAX)
		return false;
	if (!h) {
		h = s->hold = malloc(sizeof(*h));
		if (!h)
			return false;
		h->len = 0;
		h->err = 0;
	}
	for (i = 0; i < iovcnt; i++) {
		/* Bytes after a complete head are a body: such a write is no
		 * lone head, and its body is not copied. */
		if (want_head && at > 0 && iov[i].iov_len > 0 &&
		    memmem(h->buf, at, "\r\n\r\n", 4))
			return false;
		memcpy(h->buf + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	if (want_head && !send_is_http_head(h->buf, at))
		return false;
	h->len = at;
	h->owner = SELF;
	return true;
}

/* Whether a write may join the hold: anything the server writes corked
 * or with MSG_MORE; otherwise (head) a lone response head, when nothing is
 * held yet. Never a write that reaches into a file mapping (fmaps.h): its
 * bytes are read by the kernel only, not looked at or copied here. */
static bool may_hold(size_t held, const struct iovec *iov, int iovcnt,
		     size_t n, bool head)
{
	if (head && (held || !config.hold_heads || n > HOLD_MAX ||
		     iov[0].iov_len < 7 || ctl_is_paused()))
		return false;
	if (fmaps_touch(iov, iovcnt))
		return false;
	return !head || !memcmp(iov[0].iov_base, "HTTP/1.", 7);
}

/* Accounts for a send of held bytes + n of the caller's bytes that
 * returned r: held bytes go first, the caller learns only of its own.
 * A short write inside the held bytes is EAGAIN: the socket is full. */
ssize_t send_account(struct fd_slot *s, ssize_t r, size_t n)
{
	struct hold *h = s->hold;
	size_t held = h->len;

	if (r < 0)
		return -1;
	if ((size_t)r < held) {
		memmove(h->buf, h->buf + r, held - (size_t)r);
		h->len -= (size_t)r;
		errno = EAGAIN;
		return -1;
	}
	h->len = 0;
	r -= (ssize_t)held;
	return r == 0 && n > 0 ? ONLY_HELD : r;
}

/* Bytes of the server's went to the kernel while it corks, where the
 * kernel socket is not corked. The real uncork would push every byte the
 * cork held; here the last segment of a send is subject to Nagle, and
 * when a small segment is still unacknowledged (a send that filled the
 * socket ends with one) it waits for the peer's ACK, which the peer
 * delays up to 40 ms: on a site of 100,000 files one request in fifty
 * waited so, and nginx's p99 went from 2.5 to 25 ms. A second send in one
 * cork period (pipelined requests) waited the same way. So at the first
 * send under a cork the socket gets TCP_NODELAY, once per connection
 * (getsockopt still reports the server's own setting). Keeps errno. */
void send_corked_sent(int fd, struct fd_slot *s)
{
	int e;

	if ((s->corked & (CORK_SERVER | CORK_NODELAY | NODELAY_SERVER)) !=
	    CORK_SERVER)
		return;
	e = errno;
	if (real.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
			    sizeof(int)) == 0) {
		s->corked |= CORK_NODELAY;
		STAT_INC(nodelay_set);
	}
	errno = e;
}

/* One sendmsg of the held bytes followed by iov. SIGPIPE is the caller's
 * call's: flags carry its MSG_NOSIGNAL, if any (the held writes already
 * succeeded as far as the server knows). */
static ssize_t merge_send(int fd, struct fd_slot *s, const struct iovec *iov,
			  int iovcnt, size_t n, int flags)
{
	struct iovec v[IOV_MAX];
	struct msghdr m = { .msg_iov = v };
	ssize_t r;
	int i;

	v[0].iov_base = s->hold->buf;
	v[0].iov_len = s->hold->len;
	for (i = 0; i < iovcnt; i++)
		v[i + 1] = iov[i];
	m.msg_iovlen = (size_t)iovcnt + 1;
	r = send_account(s, real.sendmsg(fd, &m, flags), n);
	if (r == ONLY_HELD) {
		m.msg_iov = v + 1;
		m.msg_iovlen = (size_t)iovcnt;
		r = real.sendmsg(fd, &m, flags);
	}
	if (r > 0)
		send_corked_sent(fd, s);
	return r;
}

/* Sends the held bytes alone, with flags. Returns 0 when all went out, -1
 * with errno otherwise (EAGAIN: the rest is still held). */
int send_hold_out(int fd, struct fd_slot *s, int flags)
{
	struct hold *h = s->hold;
	ssize_t r;

	while (h && h->len) {
		r = real.send(fd, h->buf, h->len, flags);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		memmove(h->buf, h->buf + r, h->len - (size_t)r);
		h->len -= (size_t)r;
	}
	return 0;
}

/* Bytes the server writes under its cork that are not held (too many, or
 * in a file mapping) go out with MSG_MORE, as the corked kernel would keep
 * them for the next send: without it a socket with Nagle on would send
 * them alone and hold back the next small segment until an ACK. The
 * server's uncork pushes them (send_cork). Called with the hold lock. */
static ssize_t corked_send(int fd, struct fd_slot *s, const struct iovec *iov,
			   int iovcnt, int flags)
{
	struct msghdr m = { .msg_iov = (struct iovec *)iov,
			    .msg_iovlen = (size_t)iovcnt };
	ssize_t r = real.sendmsg(fd, &m, flags | MSG_MORE);

	if (r > 0) {
		s->corked |= CORK_MORE;
		send_corked_sent(fd, s);
	}
	return r;
}

bool send_offer(int fd, struct fd_slot *s, const struct iovec *iov,
		int iovcnt, int flags, ssize_t *ret)
{
	size_t n, held;
	bool head;

	if (send_take_error(s)) {
		*ret = -1;
		return true;
	}
	if (!(s->corked & CORK_SERVER) && !(flags & MSG_MORE) && !s->hold &&
	    !config.hold_heads)
		return false;
	/* Paused (sendcache-ctl): nothing new is held; what a socket holds
	 * or a cork it has from before still goes out in order. */
	if (ctl_is_paused() && !(s->corked & CORK_SERVER) && !send_holds(s))
		return false;
	n = iov_total(iov, iovcnt);
	if (n == 0)
		return false;
	hold_lock(s);
	held = held_len(s);
	head = !(s->corked & CORK_SERVER) && !(flags & MSG_MORE);
	if (may_hold(held, iov, iovcnt, n, head) &&
	    hold_append(s, iov, iovcnt, n, head)) {
		held_register(fd);
		hold_unlock(s);
		STAT_INC(head_held);
		*ret = (ssize_t)n;
		return true;
	}
	if (held == 0) {
		if ((s->corked & CORK_SERVER) && iovcnt <= IOV_MAX) {
			*ret = corked_send(fd, s, iov, iovcnt, flags);
			hold_unlock(s);
			return true;
		}
		hold_unlock(s);
		return false;
	}
	if (iovcnt < IOV_MAX) {
		*ret = merge_send(fd, s, iov, iovcnt, n, flags & ~MSG_MORE);
	} else if (send_hold_out(fd, s, MSG_MORE | (flags & MSG_NOSIGNAL)) < 0) {
		*ret = -1;
	} else {
		hold_unlock(s);
		return false;
	}
	hold_unlock(s);
	return true;
}

/* No body byte followed a head sent with MSG_MORE (end of file, an error):
 * the kernel would keep the head queued until the next send, or for
 * 200 ms, while the client waits for it. Clearing TCP_CORK on a socket
 * that is not corked pushes what is queued (tcp_sock_set_cork ->
 * tcp_push_pending_frames). Keeps errno. */
static void push_more(int fd)
{
	int e = errno;

	real.setsockopt(fd, IPPROTO_TCP, TCP_CORK, &(int){ 0 }, sizeof(int));
	errno = e;
}

/* Strategy rows take the body only from a fresh cached file. */
bool send_cached(const struct body *b)
{
	return b->ino && b->count > 0 && *b->offp >= 0 &&
	       !__atomic_load_n(&b->ino->stale, __ATOMIC_ACQUIRE);
}

/* After a head went out with MSG_MORE alone, r from the body's send: push
 * the head if no body byte followed (see push_more). */
ssize_t send_after_more(int out, ssize_t r)
{
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		push_more(out);
	return r;
}

/* How a body follows held bytes: the first row that takes it sends it.
 * The writev row is bounded by SENDCACHE_MERGE_MAX and the pipe row by
 * SENDCACHE_PIPE_MAX; the defaults come from bench/strategies.sh (see
 * bench/results/ and HOW-IT-WORKS.md, "Send strategies"). */
static const struct send_row *const strategies[] = {
	&send_by_writev,        /* send_writev.c */
	&send_by_pipe,          /* send_pipe.c */
	&send_by_sendfile,      /* send_sendfile.c */
};
#define NROWS (sizeof(strategies) / sizeof(strategies[0]))

void send_prepare(struct cache_inode *ino)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (strategies[i]->prepare && strategies[i]->fits(ino->st.st_size))
			strategies[i]->prepare(ino);
}

void send_release(struct cache_inode *ino)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (strategies[i]->release)
			strategies[i]->release(ino);
}

bool send_lost(struct cache_inode *ino, int fd)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (strategies[i]->lost && strategies[i]->lost(ino, fd))
			return true;
	return false;
}

ssize_t send_sendfile(int out, int in, off_t *off, size_t count)
{
	struct fd_slot *is = fdtab_get(in), *os = send_tcp_slot(out);
	bool handed = is && is->kind == FD_HANDED;
	struct body b = {
		.out = out, .in = in, .os = os, .count = count,
		.ino = handed ? is->ino : NULL,
		.offp = off ? off : (handed ? &is->pos : NULL),
	};
	size_t i;
	ssize_t r = DECLINE;

	if (os && send_take_error(os))
		return -1;
	/* With nothing held, one sendfile is already one syscall. */
	if (!os || !held_len(os)) {
		b.os = NULL;
		return send_by_sendfile.send(&b);
	}
	hold_lock(os);
	for (i = 0; r == DECLINE && i < NROWS; i++)
		r = strategies[i]->send(&b);
	hold_unlock(os);
	return r;
}

/* Sends what is held on no call of the server's: no SIGPIPE (the writes
 * it holds succeeded), and an error the kernel reports once is kept for
 * the server's next call. Returns hold_send's result. */
static int flush_now(int fd, struct fd_slot *s)
{
	if (send_hold_out(fd, s, MSG_NOSIGNAL) == 0)
		return 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EPIPE)
		s->hold->err = errno;
	return -1;
}

/* Waits up to the rest of FLUSH_WAIT_MS for room, sending as it comes. */
static void flush_wait(int fd, struct fd_slot *s)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int waited = 0;

	while (flush_now(fd, s) < 0) {
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    waited >= FLUSH_WAIT_MS) {
			/* The peer is gone or not reading: what is held
			 * cannot be delivered; close the stream cleanly
			 * rather than leave a truncated response open. */
			s->hold->len = 0;
			real.shutdown(fd, SHUT_RDWR);
			return;
		}
		real.poll(&p, 1, 100);
		waited += 100;
	}
}

void send_flush_fd(int fd, struct fd_slot *s)
{
	if (!s || !s->hold || !s->hold->len)
		return;
	hold_lock(s);
	if (s->hold && s->hold->len)
		flush_wait(fd, s);
	hold_unlock(s);
}

void send_flush_thread(void)
{
	int i;

	/* Nothing written when nothing is held: called at every fork. */
	if (!nheld)
		return;
	for (i = 0; i < nheld; i++) {
		struct fd_slot *s = fdtab_get(held_fds[i]);

		if (!s || s->kind != FD_TCP || !s->hold)
			continue;
		hold_lock(s);
		if (s->hold && s->hold->len && s->hold->owner == SELF) {
			STAT_INC(flush_blocking);
			flush_wait(held_fds[i], s);
		}
		hold_unlock(s);
	}
	nheld = 0;
}

void send_after_fork(void)
{
	nheld = 0;
}

void send_cork(int fd, struct fd_slot *s, bool on)
{
	bool more;

	hold_lock(s);
	more = !on && (s->corked & CORK_MORE);
	s->corked = on ? s->corked | CORK_SERVER :
			 s->corked & (CORK_NODELAY | NODELAY_SERVER);
	STAT_INC(cork_kept);
	/* Uncork pushes what is held; if the socket is full the rest waits
	 * for the next send or the thread's next blocking point. */
	if (!on && s->hold && s->hold->len)
		flush_now(fd, s);
	hold_unlock(s);
	if (more)
		push_more(fd);
}

bool send_cork_here(const struct fd_slot *s)
{
	return !(s->corked & CORK_KERNEL) &&
	       (!ctl_is_paused() || (s->corked & CORK_SERVER));
}

int send_kernel_cork(int fd, struct fd_slot *s, bool on)
{
	int rc;

	hold_lock(s);
	if (!on && s->hold && s->hold->len)
		flush_now(fd, s);
	rc = real.setsockopt(fd, IPPROTO_TCP, TCP_CORK, &(int){ on },
			     sizeof(int));
	if (rc == 0)
		s->corked = on ? s->corked | CORK_KERNEL :
				 s->corked & (uint8_t)~CORK_KERNEL;
	hold_unlock(s);
	return rc;
}

void send_nodelay(struct fd_slot *s, bool on)
{
	hold_lock(s);
	s->corked &= (uint8_t)~(CORK_NODELAY | NODELAY_SERVER);
	if (on)
		s->corked |= NODELAY_SERVER;
	hold_unlock(s);
}

bool send_take_error(struct fd_slot *s)
{
	int err = 0;

	if (!s->hold || !s->hold->err)
		return false;
	hold_lock(s);
	if (s->hold) {
		err = s->hold->err;
		s->hold->err = 0;
	}
	hold_unlock(s);
	if (!err)
		return false;
	errno = err;
	return true;
}

void send_forget(struct fd_slot *s)
{
	hold_lock(s);
	free(s->hold);
	s->hold = NULL;
	s->corked = 0;
	hold_unlock(s);
}

void send_end(int fd, struct fd_slot *s, bool flush)
{
	if (s->hold) {
		if (flush)
			send_flush_fd(fd, s);
		send_forget(s);
	}
	s->corked = 0;
}

bool send_sockopt_kept(const struct fd_slot *s, int opt, int *v)
{
	/* TCP_NODELAY that we set is not the server's. */
	if (opt == TCP_CORK && (s->corked & CORK_KERNEL))
		return false;
	if (opt == TCP_CORK)
		*v = (s->corked & CORK_SERVER) != 0;
	else if (opt == TCP_NODELAY && (s->corked & CORK_NODELAY))
		*v = 0;
	else
		return false;
	return true;
}
