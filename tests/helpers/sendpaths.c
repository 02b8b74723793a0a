/* sendpaths - plays one server scenario over loopback TCP for the send tests.
 *
 *     sendpaths SCENARIO FILE OUT
 *
 * The server side (the main thread) opens FILE with open() (twice, so that
 * with the library loaded the second open is a cache hit), writes a
 * response head by the scenario's path (write, writev, send, sendto,
 * sendmsg, with or without TCP_CORK or MSG_MORE) and sends the body by the
 * scenario's calls (sendfile with an offset pointer or NULL, write, send).
 * A client thread reads everything on a plain socket and writes the bytes
 * it got to OUT.
 *
 * stdout is a transcript of every call the server made: its return value
 * and errno name, the file position (lseek(fd, 0, SEEK_CUR)) after each
 * step, what getsockopt(TCP_CORK) said, the SIGPIPEs received, and at the
 * end what the client saw. Run with and without the library, the
 * transcripts must be equal. Where a figure legitimately differs (how a
 * full socket splits a body into partial writes), the line starts with "~"
 * and the line beside it states what must hold instead: the total, no 0
 * return before the end, the order of the bytes (checked on OUT).
 *
 * Exit status 0, or 2 for a usage or setup error (with a message on
 * stderr); a scenario that leaves SIGPIPE at its default is killed by it
 * when the real call would be.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "compat.h"

/* The library holds back heads up to 8 KiB; a head above that must pass
 * through in order. */
#define BIG_HEAD 20000

/* How long the client waits for a byte before it gives up: far above any
 * loopback delay, far below prove's patience. */
#define CLIENT_WAIT_MS 3000

/* A head the client waits for arrives within this (see sc_eof). */
#define EOF_ANSWER_MS 120

/* The slow receiver reads this much every SLOW_STEP_MS during its slow
 * phase, then drains at full speed (a whole 64 MiB at 1 KiB / 10 ms would
 * take 11 minutes; two seconds already keep the window full and the server
 * at its partial writes or blocked). */
#define SLOW_CHUNK 1024
#define SLOW_STEP_MS 10

/* ---- the client ---------------------------------------------------- */

struct client {
	int fd;               /* connected socket */
	int rcvbuf;           /* SO_RCVBUF, 0 for the default */
	size_t reply_after;   /* after this many bytes, send "NEXT\n" */
	bool reconnect;       /* ... on a second connection instead */
	size_t reset_after;   /* after this many bytes, reset (SO_LINGER 0) */
	bool reset_first;     /* reset before reading anything */
	int slow_ms;          /* read slowly for this long first */
	int out;              /* where the received bytes go */
	int full;             /* pipe: the server says its socket is full */
	int note;             /* pipe: the client says it reset */
	size_t got;
	bool timed_out;
	bool reset;
	struct sockaddr_in addr;
};

static struct client cl;

static int now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int)(t.tv_sec * 1000 + t.tv_nsec / 1000000);
}

static void client_reply(void)
{
	int fd = cl.fd;

	if (cl.reconnect) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (void *)&cl.addr, sizeof(cl.addr)) < 0)
			perror("sendpaths: client reconnect");
	}
	if (send(fd, "NEXT\n", 5, MSG_NOSIGNAL) != 5)
		perror("sendpaths: client reply");
	if (cl.reconnect)
		close(fd);
}

/* Resets once the server has seen its socket full, so that the reset
 * always meets the server waiting, never inside a call: the transcript
 * does not depend on timing. */
static void client_reset(void)
{
	struct pollfd p = { .fd = cl.full, .events = POLLIN };
	struct linger l = { 1, 0 };

	if (poll(&p, 1, CLIENT_WAIT_MS) != 1)
		cl.timed_out = true;
	setsockopt(cl.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(cl.fd);
	cl.reset = true;
	if (write(cl.note, "r", 1) != 1)
		perror("sendpaths: note");
}

static void *client_main(void *arg)
{
	static char buf[1 << 16];
	struct pollfd p = { .fd = cl.fd, .events = POLLIN };
	int slow_until = now_ms() + cl.slow_ms;
	bool replied = false;

	(void)arg;
	if (cl.reset_first) {
		client_reset();
		return NULL;
	}
	for (;;) {
		size_t want = sizeof(buf);
		ssize_t r;

		if (now_ms() < slow_until) {
			want = SLOW_CHUNK;
			usleep(SLOW_STEP_MS * 1000);
		}
		if (cl.reset_after && want > cl.reset_after - cl.got)
			want = cl.reset_after - cl.got;
		if (cl.reply_after && !replied && want > cl.reply_after - cl.got)
			want = cl.reply_after - cl.got;
		if (poll(&p, 1, CLIENT_WAIT_MS) != 1) {
			cl.timed_out = true;
			break;
		}
		r = recv(cl.fd, buf, want, 0);
		if (r <= 0)
			break;
		if (write(cl.out, buf, (size_t)r) != r)
			perror("sendpaths: write OUT");
		cl.got += (size_t)r;
		if (cl.reply_after && !replied && cl.got >= cl.reply_after) {
			client_reply();
			replied = true;
		}
		if (cl.reset_after && cl.got >= cl.reset_after) {
			client_reset();
			return NULL;
		}
	}
	close(cl.fd);
	return NULL;
}

/* ---- the transcript ------------------------------------------------- */

static int sock, file, lsn, note_rd;
static const char *file_path;
static volatile sig_atomic_t sigpipes;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "what = r", or "what = -1 ENAME" */
static ssize_t show(const char *what, ssize_t r)
{
	if (r < 0)
		say("%s = -1 %s", what, errno_name(errno));
	else
		say("%s = %zd", what, r);
	return r;
}

static void show_pos(void)
{
	show("pos", lseek(file, 0, SEEK_CUR));
}

static void show_cork(void)
{
	int v = -1;
	socklen_t len = sizeof(v);
	int r = getsockopt(sock, IPPROTO_TCP, TCP_CORK, &v, &len);

	if (r < 0)
		show("getsockopt(TCP_CORK)", r);
	else
		say("getsockopt(TCP_CORK) = 0 val=%d len=%u", v, (unsigned)len);
}

static void cork(int on)
{
	char what[32];

	snprintf(what, sizeof(what), "setsockopt(TCP_CORK, %d)", on);
	show(what, setsockopt(sock, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)));
	show_cork();
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void die(const char *what)
{
	fprintf(stderr, "sendpaths: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- heads and bodies ----------------------------------------------- */

static char head[BIG_HEAD + 256];
static size_t headlen;

/* A response head with status, Content-Length clen, padded with an
 * X-Pad header to about pad bytes. */
static void make_head(const char *status, size_t clen, size_t pad)
{
	size_t n = (size_t)snprintf(head, sizeof(head),
				    "HTTP/1.1 %s\r\nContent-Length: %zu\r\n",
				    status, clen);

	if (pad > n + 16) {
		n += (size_t)snprintf(head + n, sizeof(head) - n, "X-Pad: ");
		for (; n < pad - 4; n++)
			head[n] = (char)('a' + n % 26);
		memcpy(head + n, "\r\n", 2);
		n += 2;
	}
	memcpy(head + n, "\r\n", 3);
	headlen = n + 2;
}

/* The head in cnt pieces: the first holds the status line, the others
 * split the rest evenly. */
static int head_iov(struct iovec *v, int cnt)
{
	size_t first = (size_t)(strstr(head, "\r\n") - head) + 2;
	size_t rest = headlen - first, at = first;
	int i;

	v[0].iov_base = head;
	v[0].iov_len = first;
	for (i = 1; i < cnt; i++) {
		size_t n = rest / (size_t)(cnt - 1) + (i <= (int)(rest % (size_t)(cnt - 1)));

		v[i].iov_base = head + at;
		v[i].iov_len = n;
		at += n;
	}
	return cnt;
}

static void write_head(const char *how)
{
	static struct iovec v[IOV_MAX];
	struct msghdr m = { .msg_iov = v };
	int more = strstr(how, "more") ? MSG_MORE : 0;
	char what[64];

	snprintf(what, sizeof(what), "%s(head %zu)", how, headlen);
	if (!strcmp(how, "write")) {
		show(what, write(sock, head, headlen));
	} else if (!strcmp(how, "write2")) {
		show("write(status line)", write(sock, head, 17));
		show("write(rest of head)", write(sock, head + 17, headlen - 17));
	} else if (!strcmp(how, "writev")) {
		show(what, writev(sock, v, head_iov(v, 4)));
	} else if (!strcmp(how, "writev-iovmax")) {
		show(what, writev(sock, v, head_iov(v, IOV_MAX)));
	} else if (!strncmp(how, "sendto", 6)) {
		show(what, sendto(sock, head, headlen, more, NULL, 0));
	} else if (!strncmp(how, "sendmsg", 7)) {
		m.msg_iovlen = (size_t)head_iov(v, 3);
		show(what, sendmsg(sock, &m, more));
	} else if (!strcmp(how, "send-nosignal")) {
		show(what, send(sock, head, headlen, MSG_NOSIGNAL));
	} else if (!strcmp(how, "send") || !strcmp(how, "send-more")) {
		show(what, send(sock, head, headlen, more));
	} else {
		fprintf(stderr, "sendpaths: no head path '%s'\n", how);
		exit(2);
	}
}

/* A non-blocking socket: write(head) until all of it went out, waiting
 * for room with poll. */
static void write_head_nonblock(void)
{
	struct pollfd p = { .fd = sock, .events = POLLOUT };
	size_t at = 0;
	int calls = 0;

	while (at < headlen) {
		ssize_t r = write(sock, head + at, headlen - at);

		calls++;
		if (r > 0) {
			at += (size_t)r;
		} else if (r == 0 || errno != EAGAIN) {
			show("write(head)", r);
			break;
		} else if (poll(&p, 1, CLIENT_WAIT_MS) != 1) {
			break;
		}
	}
	say("head written = %zu of %zu", at, headlen);
	say("~ write calls %d", calls);
}

/* sendfile(&off) until len bytes from start went out, one line a call
 * (a blocking socket sends the whole count in one call). */
static void body_offset(off_t start, size_t len, size_t chunk)
{
	off_t off = start;
	size_t sent = 0;

	while (sent < len) {
		size_t n = len - sent < chunk ? len - sent : chunk;
		ssize_t r = show("sendfile(&off)", sendfile(sock, file, &off, n));

		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	say("off = %lld", (long long)off);
	show_pos();
}

/* busybox httpd: sendfile(NULL) until it returns 0 (end of file) or
 * fails; one line a call with the position after it. */
static void body_null(size_t chunk)
{
	ssize_t r;

	do {
		r = show("sendfile(NULL)", sendfile(sock, file, NULL, chunk));
		show_pos();
	} while (r > 0);
}

/* A non-blocking socket: send len bytes from start (off NULL: from the
 * file position) whatever the partial writes, waiting for room with poll
 * (a blocking point). Prints the totals that must match and, with "~",
 * the counts that may not. */
static void body_nonblock(bool null_off, off_t start, size_t len)
{
	struct pollfd p = { .fd = sock, .events = POLLOUT };
	off_t off = start;
	size_t sent = 0;
	int calls = 0, eagain = 0, zero = 0, waits = 0;

	while (sent < len) {
		ssize_t r = sendfile(sock, file, null_off ? NULL : &off, len - sent);

		calls++;
		if (r > 0) {
			sent += (size_t)r;
			continue;
		}
		if (r == 0) {
			zero++;
			break;
		}
		if (errno != EAGAIN) {
			show("sendfile", r);
			break;
		}
		eagain++;
		if (poll(&p, 1, CLIENT_WAIT_MS) != 1 || ++waits > 100000)
			break;
	}
	say("body sent = %zu of %zu, zero returns = %d", sent, len, zero);
	say("~ sendfile calls %d, EAGAIN %d", calls, eagain);
	if (null_off)
		show_pos();
	else
		say("off = %lld", (long long)off);
}

/* A file of the scenario, opened as a server would: once to warm the
 * cache, closed, opened again (a hit with the library). */
static void open_file(bool warm)
{
	if (warm) {
		file = open(file_path, O_RDONLY);
		if (file < 0)
			die("open FILE");
		show("close(warm-up)", close(file));
	}
	file = open(file_path, O_RDONLY);
	if (file < 0)
		die("open FILE");
	show_pos();
}

static size_t file_size(void)
{
	off_t n = lseek(file, 0, SEEK_END);

	lseek(file, 0, SEEK_SET);
	return (size_t)n;
}

/* ---- scenarios ------------------------------------------------------ */

/* head by path HOW (corked or not), body by sendfile(&off), uncork. */
static void sc_head_body(const char *how, bool corked, size_t pad)
{
	size_t size;

	open_file(true);
	size = file_size();
	make_head("200 OK", size, pad);
	show_cork();
	if (corked)
		cork(1);
	write_head(how);
	body_offset(0, size, size);
	if (corked)
		cork(0);
}

/* busybox httpd: write(head), [lseek to a Range start], sendfile(NULL)
 * until 0. */
static void sc_busybox(bool warm, off_t range)
{
	size_t size;

	open_file(warm);
	size = file_size();
	make_head("200 OK", size - (size_t)range, 0);
	write_head("write");
	if (range)
		show("lseek(range)", lseek(file, range, SEEK_SET));
	body_null(INT_MAX - 0xffff);
}

/* A head with no body after it (304, 404, the answer to HEAD): the
 * client sends "NEXT\n" back once it has the whole head, so the server,
 * which now blocks by WAIT, must have flushed it by then or the wait ends
 * with a timeout instead of the request. */
static void nobody_head(const char *status)
{
	make_head(status, strcmp(status, "200 OK") ? 0 : 5000, 0);
}

static void sc_nobody(const char *status, const char *how, const char *wait)
{
	struct timeval tv = { CLIENT_WAIT_MS * 2 / 1000, 0 };
	char buf[16] = "";
	ssize_t r;
	int ep = -1;

	nobody_head(status);
	/* an event loop adds the socket before it writes (nginx: at accept) */
	if (!strcmp(wait, "epoll")) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		epoll_ctl(ep, EPOLL_CTL_ADD, sock, &(struct epoll_event){ .events = EPOLLIN });
	}
	write_head(how);
	if (!strcmp(wait, "poll")) {
		struct pollfd p = { .fd = sock, .events = POLLIN };

		show("poll", poll(&p, 1, CLIENT_WAIT_MS * 2));
	} else if (!strcmp(wait, "epoll")) {
		struct epoll_event ev;

		show("epoll_wait", epoll_wait(ep, &ev, 1, CLIENT_WAIT_MS * 2));
		close(ep);
	} else if (!strcmp(wait, "select")) {
		fd_set rd;

		FD_ZERO(&rd);
		FD_SET(sock, &rd);
		show("select", select(sock + 1, &rd, NULL, NULL, &tv));
	} else if (!strcmp(wait, "accept")) {
		int c;

		/* SO_RCVTIMEO bounds the accept of a failing run */
		setsockopt(lsn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		c = accept(lsn, NULL, NULL);
		show("accept >= 0", c < 0 ? c : 0);
		if (c >= 0) {
			r = show("read(second connection)", read(c, buf, sizeof(buf) - 1));
			if (r > 0)
				say("request: %.*s", (int)r - 1, buf);
			close(c);
		}
		return;
	}
	/* recv and read block on the socket itself, as a thread-per-
	 * connection server does; SO_RCVTIMEO bounds a failing run. */
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!strcmp(wait, "read"))
		r = show("read", read(sock, buf, sizeof(buf) - 1));
	else
		r = show("recv", recv(sock, buf, sizeof(buf) - 1, 0));
	if (r > 0)
		say("request: %.*s", (int)r - 1, buf);
}

/* Apache's event MPM: the worker thread writes the head, hands the
 * socket to the listener thread's epoll set (epoll_ctl) and waits on a
 * condition variable (no call the library sees); the listener waits in
 * epoll_wait, a blocking point of its own thread, not of the worker's. */
static int handoff_ep;
static ssize_t handoff_r[2];
static int handoff_err[2];
static char handoff_buf[16];

static void *listener_main(void *arg)
{
	struct epoll_event ev;

	(void)arg;
	handoff_r[0] = epoll_wait(handoff_ep, &ev, 1, CLIENT_WAIT_MS * 2);
	handoff_err[0] = errno;
	handoff_r[1] = recv(sock, handoff_buf, sizeof(handoff_buf) - 1, MSG_DONTWAIT);
	handoff_err[1] = errno;
	return NULL;
}

static void sc_handoff(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	pthread_t th;

	nobody_head("304 Not Modified");
	handoff_ep = epoll_create1(EPOLL_CLOEXEC);
	if (pthread_create(&th, NULL, listener_main, NULL) != 0)
		die("listener thread");
	write_head("writev");
	show("epoll_ctl(ADD socket)", epoll_ctl(handoff_ep, EPOLL_CTL_ADD, sock, &ev));
	pthread_join(th, NULL);     /* a futex wait, as a condition variable */
	close(handoff_ep);
	errno = handoff_err[0];
	show("epoll_wait (listener thread)", handoff_r[0]);
	errno = handoff_err[1];
	show("recv (listener thread)", handoff_r[1]);
	if (handoff_r[1] > 0)
		say("request: %.*s", (int)handoff_r[1] - 1, handoff_buf);
}

static const char body404[] = "<html>not found</html>\n";

/* A 404 whose small body comes by a second write after the head. */
static void sc_404_body(void)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char buf[16];
	ssize_t r;

	make_head("404 Not Found", sizeof(body404) - 1, 0);
	write_head("write");
	show("write(body)", write(sock, body404, sizeof(body404) - 1));
	show("poll", poll(&p, 1, CLIENT_WAIT_MS * 2));
	r = show("recv", recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT));
	if (r > 0)
		say("request: %.*s", (int)r - 1, buf);
}

/* sendfile at the end of the file returns 0 after a head (an empty file,
 * a Range at the end): the head must still reach the client, which
 * answers "NEXT\n" to it while the server waits in recv. HOW: "plain"
 * (an HTTP head, held) or "cork" (corked, uncorked after the sendfile). */
static void sc_eof(const char *how)
{
	struct timeval tv = { CLIENT_WAIT_MS * 2 / 1000, 0 };
	char buf[16];
	off_t off;
	ssize_t r;
	int t;

	open_file(true);
	off = (off_t)file_size();
	make_head("200 OK", 0, 0);
	if (!strcmp(how, "cork"))
		cork(1);
	write_head("write");
	show("sendfile(&off at the end)", sendfile(sock, file, &off, 4096));
	if (!strcmp(how, "cork"))
		cork(0);
	t = now_ms();
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = show("recv", recv(sock, buf, sizeof(buf) - 1, 0));
	if (r > 0)
		say("request: %.*s", (int)r - 1, buf);
	/* on loopback the answer takes well under a millisecond; a head
	 * left queued by MSG_MORE waits 200 ms for the kernel's timer */
	say("answered within %d ms: %s", EOF_ANSWER_MS,
	    now_ms() - t < EOF_ANSWER_MS ? "yes" : "no");
	say("~ answered in %d ms", now_ms() - t);
}

/* The file position: read, sendfile(NULL), sendfile(&off), read again,
 * lseek, sendfile(NULL) to the end; with a held head or without. */
static void sc_position(bool held)
{
	char buf[256];
	off_t off = 1000;
	ssize_t r;

	open_file(true);
	make_head("200 OK", 0, 0);
	r = show("read(100)", read(file, buf, 100));
	say("read bytes: %.*s", (int)(r > 0 ? r : 0), buf);
	show_pos();
	if (held) {
		cork(1);
		write_head("write");
	}
	show("sendfile(NULL, 200)", sendfile(sock, file, NULL, 200));
	show_pos();
	if (held)
		write_head("write");
	show("sendfile(&off=1000, 300)", sendfile(sock, file, &off, 300));
	say("off = %lld", (long long)off);
	show_pos();
	r = show("read(50)", read(file, buf, 50));
	say("read bytes: %.*s", (int)(r > 0 ? r : 0), buf);
	show_pos();
	show("lseek(0, SEEK_SET)", lseek(file, 0, SEEK_SET));
	if (held)
		write_head("write");
	body_null(4096);
	if (held)
		cork(0);
}

/* Non-blocking, a 4 KiB send buffer against a slow 4 KiB receiver: two
 * responses back to back, so that the second head meets a full socket. */
static void sc_nonblock(bool null_off, bool twice)
{
	size_t size;
	int r;

	open_file(true);
	size = file_size();
	/* A head of 7000 bytes (held: under 8 KiB) and the smallest send
	 * buffer (about 4.5 KiB): the socket splits the head too. */
	make_head("200 OK", size, 7000);
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &(int){ 2048 }, sizeof(int));
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	do {
		cork(1);
		write_head_nonblock();
		if (null_off)
			lseek(file, 0, SEEK_SET);
		body_nonblock(null_off, 0, size);
		cork(0);
		r = twice;
		twice = false;
	} while (r);
}

/* The slow receiver of a large file, blocking or not. */
static void sc_slow(bool nonblock)
{
	size_t size;

	open_file(true);
	size = file_size();
	make_head("200 OK", size, 0);
	cork(1);
	write_head("write");
	if (nonblock) {
		fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
		body_nonblock(false, 0, size);
	} else {
		body_offset(0, size, size);
	}
	cork(0);
}

/* One body call of a reset scenario, by path HOW. */
static ssize_t body_call(const char *how, off_t *off, size_t n)
{
	static char buf[1 << 16];
	ssize_t r;

	if (!strncmp(how, "sendfile", 8))
		return sendfile(sock, file, off, n);
	if (!strcmp(how, "recv"))
		return recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > sizeof(buf))
		n = sizeof(buf);
	r = pread(file, buf, n, *off);
	if (r <= 0)
		return r;
	if (!strcmp(how, "write"))
		r = write(sock, buf, (size_t)r);
	else
		r = send(sock, buf, (size_t)r, MSG_NOSIGNAL);
	if (r > 0)
		*off += r;
	return r;
}

/* The client reads the head and part of the body, then resets. The
 * server (non-blocking) sends until its socket is full, waits for the
 * reset, then makes two more body calls: what they return (ECONNRESET,
 * then EPIPE) and the SIGPIPEs they raise must be those of the real calls,
 * under the scenario's SIGPIPE disposition (a counting handler, SIG_IGN,
 * or the default, which kills). */
static void sc_reset(const char *headhow, const char *bodyhow, const char *sig,
		     int full_wr)
{
	struct pollfd p = { .fd = note_rd, .events = POLLIN };
	off_t off = 0;
	size_t size;
	ssize_t r;
	int i;

	if (!strcmp(sig, "ignore"))
		signal(SIGPIPE, SIG_IGN);
	else if (!strcmp(sig, "default"))
		signal(SIGPIPE, SIG_DFL);
	open_file(true);
	size = file_size();
	make_head("200 OK", size, 0);
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &(int){ 4096 }, sizeof(int));
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	cork(1);
	write_head(headhow);
	while ((r = body_call(bodyhow, &off, size - (size_t)off)) > 0)
		;
	show("body call when the socket is full", r);
	say("body sent before the reset: %s",
	    off > 0 && (size_t)off < size ? "part" : "all or nothing");
	if (write(full_wr, "f", 1) != 1 || poll(&p, 1, CLIENT_WAIT_MS * 2) != 1)
		say("the client did not reset");
	usleep(50 * 1000);      /* the RST is on loopback: 50 ms is plenty */
	for (i = 0; i < 2; i++) {
		int before = sigpipes;

		show(bodyhow, body_call(bodyhow, &off, size - (size_t)off));
		say("SIGPIPE received: %d", sigpipes - before);
	}
}

/* The client resets after the head was written and before the body:
 * without the library the head went into the socket buffer (the write
 * succeeded, no signal); with it the head is still held, and flushed by
 * the next blocking point (WAIT "poll"), the body calls or close. What
 * the body calls return (the connection's ECONNRESET once, then EPIPE)
 * and raise, and what close raises, must be the same: the held bytes
 * belong to calls that already succeeded. */
static void sc_early(const char *headhow, const char *wait, const char *bodyhow,
		     const char *sig, int full_wr)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	off_t off = 0;
	char c;
	size_t size;
	int i;

	if (!strcmp(sig, "default"))
		signal(SIGPIPE, SIG_DFL);
	open_file(true);
	size = file_size();
	make_head("200 OK", size, 0);
	cork(1);
	write_head(headhow);
	/* read() of a pipe is no blocking point for the library: the head
	 * is still held when the reset comes */
	if (write(full_wr, "f", 1) != 1 || read(note_rd, &c, 1) != 1)
		say("the client did not reset");
	usleep(50 * 1000);
	if (!strcmp(wait, "poll"))
		show("poll(socket, 0 ms) > 0", poll(&p, 1, 0) > 0);
	for (i = 0; i < 2 && strcmp(bodyhow, "none"); i++) {
		int before = sigpipes;

		show(bodyhow, body_call(bodyhow, &off, size - (size_t)off));
		say("SIGPIPE received: %d", sigpipes - before);
	}
}

/* A file over 4 GiB: sendfile with an offset past 2^32, then sendfile(NULL)
 * from a position past 2^32, and a read there. */
static void sc_big_offset(void)
{
	off_t start = ((off_t)1 << 32) + 1000;
	char buf[16];

	open_file(true);
	make_head("206 Partial Content", 2 << 20, 0);
	cork(1);
	write_head("write");
	body_offset(start, 1 << 20, 1 << 20);
	show("lseek(2^32 + 3000)", lseek(file, ((off_t)1 << 32) + 3000, SEEK_SET));
	show("sendfile(NULL, 1 MiB)", sendfile(sock, file, NULL, 1 << 20));
	show_pos();
	show("read(8)", read(file, buf, 8));
	show_pos();
	cork(0);
}

/* getsockopt(TCP_CORK) with the lengths a server might pass. */
static void sc_getsockopt_len(void)
{
	socklen_t lens[] = { 8, 4, 1, 0 };
	size_t i;

	cork(1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		long long v = 0;
		socklen_t len = lens[i];
		int r = getsockopt(sock, IPPROTO_TCP, TCP_CORK, &v, &len);

		if (r < 0)
			show("getsockopt(TCP_CORK)", r);
		else
			say("getsockopt(TCP_CORK, len %u) = 0 val=%lld len=%u",
			    (unsigned)lens[i], v, (unsigned)len);
	}
	show("setsockopt(TCP_CORK, 0, len 2)",
	     setsockopt(sock, IPPROTO_TCP, TCP_CORK, &(int){ 0 }, 2));
	show_cork();
	cork(0);
}

/* ---- the table ------------------------------------------------------ */

static int full_wr;

/* A server's mapping of a file that is truncated to 0 between its mmap
 * and its send: the kernel's copy stops at the mapping (EFAULT), a read in
 * user space would be SIGBUS. HOW is how the server writes it:
 *   one         writev(head, mapping): Apache (EnableMMAP, no sendfile)
 *   apart       write(head), then writev(mapping): Apache when its head
 *               went out first
 *   alone       writev(mapping) and no head: the rest of a body, after
 *               a short write
 *   more        write(head), then send(mapping, MSG_MORE)
 *   cork        TCP_CORK, writev(head, mapping), uncork
 *   cork-apart  TCP_CORK, write(head), writev(mapping), uncork
 * FILE is truncated: pass a scratch copy. */
static void sc_mmap_truncated(const char *how)
{
	bool corked = !strncmp(how, "cork", 4);
	bool apart = strstr(how, "apart") != NULL, more = !strcmp(how, "more");
	bool alone = !strcmp(how, "alone");
	struct iovec v[2];
	size_t size;
	void *map;

	open_file(true);
	size = file_size();
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, file, 0);
	if (map == MAP_FAILED)
		die("mmap FILE");
	if (truncate(file_path, 0) < 0)
		die("truncate FILE");
	make_head("200 OK", size, 0);
	v[0] = (struct iovec){ head, headlen };
	v[1] = (struct iovec){ map, size };
	if (corked)
		cork(1);
	if (more) {
		show("write(head)", write(sock, head, headlen));
		show("send(truncated mapping, MSG_MORE)", send(sock, map, size, MSG_MORE));
	} else if (apart || alone) {
		if (apart)
			show("write(head)", write(sock, head, headlen));
		show("writev(truncated mapping)", writev(sock, v + 1, 1));
	} else {
		show("writev(head, truncated mapping)", writev(sock, v, 2));
	}
	if (corked)
		cork(0);
	show("munmap", munmap(map, size));
}

/* Runs scenario NAME; false if there is none of that name. */
static bool run(const char *name)
{
	static const char *heads[] = {
		"write", "write2", "writev", "writev-iovmax", "send", "sendto",
		"sendmsg", "send-more", "sendto-more", "sendmsg-more", NULL,
	};
	char how[32], a[32], b[16], c[16], d[16];
	size_t i;

	for (i = 0; heads[i]; i++) {
		/* an HTTP head held uncorked must start with a 7-byte piece
		 * and fit the hold: 3000 bytes in 1024 pieces do */
		size_t pad = strstr(heads[i], "iovmax") ? 3000 : 0;

		snprintf(how, sizeof(how), "cork-%s", heads[i]);
		if (!strcmp(name, how)) {
			sc_head_body(heads[i], true, pad);
			return true;
		}
		snprintf(how, sizeof(how), "plain-%s", heads[i]);
		if (!strcmp(name, how)) {
			sc_head_body(heads[i], false, pad);
			return true;
		}
	}
	if (sscanf(name, "bighead-%31s", a) == 1) {
		/* bighead-cork-write, bighead-plain-writev-iovmax, ... */
		if (strncmp(a, "cork-", 5) && strncmp(a, "plain-", 6))
			return false;
		sc_head_body(strchr(a, '-') + 1, a[0] == 'c', BIG_HEAD);
	} else if (!strcmp(name, "busybox")) {
		sc_busybox(true, 0);
	} else if (!strcmp(name, "busybox-cold")) {
		sc_busybox(false, 0);
	} else if (!strcmp(name, "busybox-range")) {
		sc_busybox(true, 1000);
	} else if (sscanf(name, "nobody-%31[^-]-%15s", a, b) == 2) {
		if (!strcmp(a, "304"))
			sc_nobody("304 Not Modified", "write", b);
		else if (!strcmp(a, "404"))
			sc_nobody("404 Not Found", "writev", b);
		else if (!strcmp(a, "head"))
			sc_nobody("200 OK", "send", b);
		else
			return false;
	} else if (!strcmp(name, "handoff-304")) {
		sc_handoff();
	} else if (!strcmp(name, "404-body")) {
		sc_404_body();
	} else if (!strcmp(name, "eof-plain") || !strcmp(name, "eof-cork")) {
		sc_eof(name + 4);
	} else if (!strcmp(name, "pos-held")) {
		sc_position(true);
	} else if (!strcmp(name, "pos-plain")) {
		sc_position(false);
	} else if (!strcmp(name, "nb-offset")) {
		sc_nonblock(false, true);
	} else if (!strcmp(name, "nb-null")) {
		sc_nonblock(true, true);
	} else if (!strcmp(name, "slow-block")) {
		sc_slow(false);
	} else if (!strcmp(name, "slow-nonblock")) {
		sc_slow(true);
	} else if (sscanf(name, "reset-%31[^.].%15[^.].%15s", a, b, c) == 3) {
		/* reset-HEADHOW.BODYHOW.SIGPIPE, e.g. reset-write.sendfile.count */
		sc_reset(a, b, c, full_wr);
	} else if (sscanf(name, "early-%31[^.].%15[^.].%15[^.].%15s", a, d, b, c) == 4) {
		/* early-HEADHOW.WAIT.BODYHOW.SIGPIPE */
		sc_early(a, d, b, c, full_wr);
	} else if (!strcmp(name, "big-offset")) {
		sc_big_offset();
	} else if (!strcmp(name, "getsockopt-len")) {
		sc_getsockopt_len();
	} else if (sscanf(name, "mmap-truncated-%31s", a) == 1) {
		if (strcmp(a, "one") && strcmp(a, "apart") && strcmp(a, "alone") &&
		    strcmp(a, "more") &&
		    strcmp(a, "cork") && strcmp(a, "cork-apart"))
			return false;
		sc_mmap_truncated(a);
	} else {
		return false;
	}
	return true;
}

/* Client options a scenario needs before the connection is made. */
static void client_options(const char *name)
{
	char a[32];

	if (!strncmp(name, "nb-", 3) || !strncmp(name, "slow-", 5) ||
	    !strncmp(name, "reset-", 6))
		cl.rcvbuf = 4096;
	if (!strncmp(name, "nb-", 3))
		cl.slow_ms = 300;
	if (!strncmp(name, "slow-", 5))
		cl.slow_ms = 2000;
	/* the head and a little of the body; or nothing */
	if (!strncmp(name, "reset-", 6))
		cl.reset_after = 1000;
	if (!strncmp(name, "early-", 6))
		cl.reset_first = true;
	if (sscanf(name, "nobody-%31[^-]-", a) == 1) {
		nobody_head(!strcmp(a, "304") ? "304 Not Modified" :
			    !strcmp(a, "404") ? "404 Not Found" : "200 OK");
		cl.reply_after = headlen;
		cl.reconnect = strstr(name, "-accept") != NULL;
	}
	if (!strcmp(name, "handoff-304")) {
		nobody_head("304 Not Modified");
		cl.reply_after = headlen;
	}
	if (!strncmp(name, "eof-", 4)) {
		make_head("200 OK", 0, 0);
		cl.reply_after = headlen;
	}
	if (!strcmp(name, "404-body")) {
		make_head("404 Not Found", sizeof(body404) - 1, 0);
		cl.reply_after = headlen + sizeof(body404) - 1;
	}
}

static void connect_pair(void)
{
	socklen_t len = sizeof(cl.addr);

	cl.addr.sin_family = AF_INET;
	cl.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsn < 0 || bind(lsn, (void *)&cl.addr, sizeof(cl.addr)) < 0 ||
	    listen(lsn, 4) < 0 || getsockname(lsn, (void *)&cl.addr, &len) < 0)
		die("listener on 127.0.0.1");
	cl.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl.rcvbuf)
		setsockopt(cl.fd, SOL_SOCKET, SO_RCVBUF, &cl.rcvbuf, sizeof(int));
	if (connect(cl.fd, (void *)&cl.addr, sizeof(cl.addr)) < 0)
		die("connect");
	sock = accept(lsn, NULL, NULL);
	if (sock < 0)
		die("accept");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	pthread_t th;
	int note[2], full[2];

	if (argc != 4) {
		fprintf(stderr, "usage: sendpaths SCENARIO FILE OUT\n");
		return 2;
	}
	file_path = argv[2];
	cl.out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (cl.out < 0)
		die(argv[3]);
	if (pipe2(note, O_CLOEXEC) < 0 || pipe2(full, O_CLOEXEC) < 0)
		die("pipe");
	note_rd = note[0];
	cl.note = note[1];
	cl.full = full[0];
	full_wr = full[1];
	sigaction(SIGPIPE, &sa, NULL);
	client_options(argv[1]);
	connect_pair();
	if (pthread_create(&th, NULL, client_main, NULL) != 0)
		die("client thread");
	say("scenario %s", argv[1]);
	if (!run(argv[1])) {
		fprintf(stderr, "sendpaths: unknown scenario '%s'\n", argv[1]);
		return 2;
	}
	show("close(socket)", close(sock));
	pthread_join(th, NULL);
	say("client got %zu bytes%s%s", cl.got, cl.timed_out ? ", timed out" : "",
	    cl.reset ? ", then reset" : "");
	say("SIGPIPE total: %d", (int)sigpipes);
	return 0;
}
