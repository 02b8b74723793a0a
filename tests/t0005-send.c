/* t0005-send: held-back headers and merged sends on a real loopback TCP
 * connection, through the engine's entry points: user-space cork, merged
 * writev, MSG_MORE, HTTP heads flushed at blocking points, sendfile
 * positions, partial writes on a full socket, a file truncated under its
 * mapping. The client side uses plain libc. */
#include "tap/files.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "config.h"
#include "engine.h"
#include "stats.h"

static int srv, cli;
static char dir[64];

static void connect_pair(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = sc_socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len)) {
		printf("Bail out! no loopback listener\n");
		exit(1);
	}
	cli = socket(AF_INET, SOCK_STREAM, 0);
	/* A small receive window, so that the partial-write test fills the
	 * connection with a body the merge path still takes. */
	setsockopt(cli, SOL_SOCKET, SO_RCVBUF, &(int){ 4096 }, sizeof(int));
	if (connect(cli, (void *)&a, sizeof(a))) {
		printf("Bail out! connect failed\n");
		exit(1);
	}
	srv = sc_accept4(l, NULL, NULL, 0, 1);
	sc_close(l);
}

/* Bytes waiting at the client, without blocking. */
static ssize_t pending(void)
{
	char b[1];
	ssize_t n = recv(cli, b, 1, MSG_DONTWAIT | MSG_PEEK);

	return n < 0 ? 0 : n;
}

/* Reads exactly n bytes at the client (2 s at most). */
static int client_read(char *buf, size_t n)
{
	size_t got = 0;
	struct pollfd p = { .fd = cli, .events = POLLIN };

	while (got < n && poll(&p, 1, 2000) == 1) {
		ssize_t r = recv(cli, buf + got, n - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got == n;
}

/* A cached file of size bytes (pattern by offset); returns a handed fd. */
static int cached_file(const char *name, size_t size, char **data)
{
	char p[128];
	size_t i;
	int fd;

	*data = malloc(size + 1);
	for (i = 0; i < size; i++)
		(*data)[i] = (char)('a' + (i * 7 + i / 251) % 26);
	(*data)[size] = 0;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	file_put(p, *data);
	fd = sc_openat(AT_FDCWD, p, O_RDONLY, 0);   /* miss: fills */
	sc_close(fd);
	return sc_openat(AT_FDCWD, p, O_RDONLY, 0); /* hit */
}

static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
#define HEADLEN (sizeof(head) - 1)

static void test_cork_merge(void)
{
	char *data, buf[2100];
	int one = 1, v = -1, fd = cached_file("k1", 1000, &data);
	socklen_t len = sizeof(v);
	uint64_t merged = stats_cur->merged_writev;
	off_t off = 0;

	is_int(sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0, "cork accepted");
	ok(sc_getsockopt(srv, IPPROTO_TCP, TCP_CORK, &v, &len) == 0 && v == 1,
	   "getsockopt(TCP_CORK) returns what the server set");
	len = sizeof(v);
	ok(getsockopt(srv, IPPROTO_TCP, TCP_CORK, &v, &len) == 0 && v == 0,
	   "the kernel socket itself is not corked");
	is_int(sc_write(srv, head, HEADLEN), HEADLEN, "a corked header is reported written");
	is_int(pending(), 0, "and held back");
	is_int(sc_sendfile(srv, fd, &off, 1000), 1000, "sendfile returns body bytes only");
	is_int(off, 1000, "and advances the offset");
	is_int(stats_cur->merged_writev, merged + 1, "one merged writev");
	ok(client_read(buf, HEADLEN + 1000) && !memcmp(buf, head, HEADLEN) &&
	   !memcmp(buf + HEADLEN, data, 1000), "the client got header + body, in order");
	one = 0;
	is_int(sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0, "uncork");
	is_int(pending(), 0, "nothing more on the wire");

	/* sendfile with a NULL offset uses the server's own position. */
	is_int(sc_sendfile(srv, fd, NULL, 300), 300, "sendfile(NULL) sends 300");
	is_int(sc_lseek(fd, 0, SEEK_CUR), 300, "and moves the fd's position");
	is_int(sc_sendfile(srv, fd, NULL, 5000), 700, "the rest of the file");
	is_int(sc_sendfile(srv, fd, NULL, 5000), 0, "then 0 at end of file");
	ok(client_read(buf, 1000) && !memcmp(buf, data, 1000), "bytes in file order");
	sc_close(fd);
	free(data);
}

static void test_heads_and_more(void)
{
	static const char h304[] = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n";
	char buf[128];

	is_int(sc_write(srv, h304, sizeof(h304) - 1), sizeof(h304) - 1, "a lone HTTP head");
	is_int(pending(), 0, "is held back");
	sc_poll(NULL, 0, 0);
	ok(client_read(buf, sizeof(h304) - 1) && !memcmp(buf, h304, sizeof(h304) - 1),
	   "and flushed at the next blocking point");

	is_int(sc_sendto(srv, "abc", 3, MSG_MORE, NULL, 0), 3, "send with MSG_MORE");
	is_int(pending(), 0, "is held back");
	is_int(sc_sendto(srv, "defg", 4, 0, NULL, 0), 4, "the next send returns its own bytes");
	ok(client_read(buf, 7) && !memcmp(buf, "abcdefg", 7), "both went out, in order");

	is_int(sc_write(srv, "plain", 5), 5, "a write that is not a head");
	ok(client_read(buf, 5) && !memcmp(buf, "plain", 5), "goes straight out");
}

static void test_large_file(void)
{
	size_t size = config.merge_max + 4096;
	char *data, *buf = malloc(size + HEADLEN);
	int one = 1, fd = cached_file("big", size, &data);
	uint64_t real_sf = stats_cur->sendfile_real;
	off_t off = 0;
	ssize_t r, sent = 0;

	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sc_write(srv, head, HEADLEN);
	while (sent < (ssize_t)size && (r = sc_sendfile(srv, fd, &off, size)) > 0)
		sent += r;
	is_int(sent, size, "a file above the merge size is sent whole");
	ok(stats_cur->sendfile_real > real_sf, "by the real sendfile");
	ok(client_read(buf, HEADLEN + size) && !memcmp(buf, head, HEADLEN) &&
	   !memcmp(buf + HEADLEN, data, size), "header first, then the body");
	one = 0;
	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sc_close(fd);
	free(data);
	free(buf);
}

/* A full socket: partial writes, EAGAIN never 0, header before body. */
static void test_partial(void)
{
	size_t size = 120000;
	char *data, *buf = malloc(size + HEADLEN);
	int one = 1, small = 4096, fd = cached_file("part", size, &data);
	int eagain = 0, zero = 0, flags = fcntl(srv, F_GETFL);
	size_t got = 0;
	off_t off = 0;

	setsockopt(srv, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	fcntl(srv, F_SETFL, flags | O_NONBLOCK);
	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sc_write(srv, head, HEADLEN);
	while ((size_t)off < size) {
		ssize_t r = sc_sendfile(srv, fd, &off, size - (size_t)off);

		if (r == 0)
			zero++;
		if (r < 0 && errno == EAGAIN)
			eagain++;
		if (r < 0 && errno != EAGAIN)
			break;
		if (r <= 0) {   /* drain a little at the client, like a slow reader */
			ssize_t n = recv(cli, buf + got, 8192, 0);

			if (n > 0)
				got += (size_t)n;
			if (zero > 3)
				break;
		}
	}
	is_int(off, size, "the whole body went out through partial writes");
	is_int(zero, 0, "sendfile never returned 0 before the end");
	ok(eagain > 0, "and said EAGAIN when the socket was full (%d times)", eagain);
	ok(client_read(buf + got, size + HEADLEN - got) && !memcmp(buf, head, HEADLEN) &&
	   !memcmp(buf + HEADLEN, data, size), "the client got header then body, byte-exact");
	one = 0;
	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	fcntl(srv, F_SETFL, flags);
	sc_close(fd);
	free(data);
	free(buf);
}

/* The file shrinks under its mapping before inotify is read: the server
 * gets what the real sendfile says (0: truncated), never SIGBUS. */
static void test_truncated(void)
{
	char *data, buf[256], p[128];
	int one = 1, fd = cached_file("trunc", 2000, &data);
	off_t off = 0;
	ssize_t r;

	snprintf(p, sizeof(p), "%s/trunc", dir);
	if (truncate(p, 0) != 0)
		diag("truncate failed");
	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sc_write(srv, head, HEADLEN);
	r = sc_sendfile(srv, fd, &off, 2000);
	is_int(r, 0, "sendfile from a truncated file returns 0, as the kernel's does");
	ok(client_read(buf, HEADLEN) && !memcmp(buf, head, HEADLEN), "the header still went out");
	is_int(pending(), 0, "and no byte of the old body");
	one = 0;
	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sc_close(fd);
	free(data);
}

static void test_close_flushes(void)
{
	char buf[64];
	int one = 1;

	sc_setsockopt(srv, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sc_write(srv, "last words", 10);
	is_int(pending(), 0, "held while corked");
	is_int(sc_close(srv), 0, "close");
	ok(client_read(buf, 10) && !memcmp(buf, "last words", 10), "close flushed first");
	ok(recv(cli, buf, 1, 0) == 0, "then the connection ended");
}

int main(void)
{
	plan(39);
	snprintf(dir, sizeof(dir), "%s", tmpdir_make());
	connect_pair();
	test_cork_merge();
	test_heads_and_more();
	test_large_file();
	test_truncated();
	test_partial();
	test_close_flushes();
	close(cli);
	tmpdir_remove(dir);
	return done_testing();
}
