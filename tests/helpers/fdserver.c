/* fdserver - a small HTTP file server that closes and replaces descriptor
 * numbers behind the library's back, for t4001.
 *
 *   fdserver PORT DOCROOT [EVERY]
 *
 * Blocking, single-threaded, keep-alive. Each GET is served the way nginx
 * serves a file (stat, open, fstat, TCP_CORK, write(head), sendfile,
 * uncork, close). After every EVERY-th response (default 1) it commits
 * one hazard of
 * DESIGN.md invariant 6 against the descriptors it did not open itself
 * (the library's pools and mappings): close_range, closefrom, dup2 of
 * /dev/null onto them (kept a while, then closed), syscall(SYS_close), or
 * syscall(SYS_close) followed by opens that take the freed numbers back.
 * A body that is not the file's bytes is the failure t4001 looks for.
 * Prints one line per hazard kind at exit (SIGTERM) on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "compat.h"

#define MAX_FOREIGN 256
#define MAX_HELD    64

static int listen_fd = -1, conn_fd = -1;
static const char *docroot;
static volatile sig_atomic_t stop;

/* Numbers we hold on purpose between requests (dup2 targets, reopened
 * numbers), closed a few requests later. */
static int held[MAX_HELD], nheld;

enum { H_CLOSE_RANGE, H_CLOSEFROM, H_DUP2, H_SYS_CLOSE, H_SYS_CLOSE_REUSE, H_KINDS };
static const char *const hazard_names[H_KINDS] = {
	"close_range", "closefrom", "dup2", "syscall_close", "syscall_close_reuse",
};
static long hazard_fds[H_KINDS];   /* foreign numbers each kind hit */

static int is_ours(int fd)
{
	int i;

	if (fd <= 2 || fd == listen_fd || fd == conn_fd)
		return 1;
	for (i = 0; i < nheld; i++)
		if (held[i] == fd)
			return 1;
	return 0;
}

/* The descriptors of this process that it did not open: the library's. */
static int foreign_fds(int *out, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0, fd, self;

	if (!d)
		return 0;
	self = dirfd(d);
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd != self && !is_ours(fd))
			out[n++] = fd;
	}
	closedir(d);
	return n;
}

static void release_held(int keep)
{
	while (nheld > keep)
		close(held[--nheld]);
}

static void hazard(unsigned long k)
{
	int fds[MAX_FOREIGN], n = foreign_fds(fds, MAX_FOREIGN), i, kind, nul;
	int lo = conn_fd > listen_fd ? conn_fd : listen_fd;

	kind = (int)(k % H_KINDS);
	if (n == 0)
		return;
	hazard_fds[kind] += n;
	switch (kind) {
	case H_CLOSE_RANGE:
		/* Everything above our own numbers, as a forking server's
		 * child does before exec. */
		release_held(0);
		close_range((unsigned)lo + 1, ~0U, 0);
		break;
	case H_CLOSEFROM:
		release_held(0);
		closefrom(lo + 1);
		break;
	case H_DUP2:
		nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		for (i = 0; i < n && nheld < MAX_HELD; i++)
			if (dup2(nul, fds[i]) == fds[i])
				held[nheld++] = fds[i];
		close(nul);
		break;
	case H_SYS_CLOSE:
		for (i = 0; i < n; i += 2)
			syscall(SYS_close, fds[i]);
		break;
	case H_SYS_CLOSE_REUSE:
		/* The kernel hands the lowest free numbers out again: the
		 * files opened now take the numbers just closed. */
		for (i = 0; i < n; i++)
			syscall(SYS_close, fds[i]);
		for (i = 0; i < n && nheld < MAX_HELD; i++) {
			int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

			if (fd < 0)
				break;
			held[nheld++] = fd;
		}
		break;
	}
	if (nheld > MAX_HELD / 2)
		release_held(0);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int reply_status(int code, const char *text)
{
	char head[128];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n", code, text);

	return send_all(conn_fd, head, (size_t)n);
}

/* Serves one GET of uri. Returns -1 when the connection must close. */
static int serve(const char *uri)
{
	char path[PATH_MAX], head[256];
	struct stat st;
	int fd, on = 1, off_ = 0, n;
	off_t off = 0;

	if (uri[0] != '/' || strstr(uri, ".."))
		return reply_status(400, "Bad Request");
	snprintf(path, sizeof(path), "%s%s", docroot, uri);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return reply_status(404, "Not Found");
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return reply_status(403, "Forbidden");
	if (fstat(fd, &st) != 0) {
		close(fd);
		return reply_status(500, "Internal Server Error");
	}
	setsockopt(conn_fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nServer: fdserver\r\n"
		     "Content-Length: %lld\r\n\r\n", (long long)st.st_size);
	if (send_all(conn_fd, head, (size_t)n) != 0)
		goto fail;
	while (off < st.st_size) {
		ssize_t s = sendfile(conn_fd, fd, &off, (size_t)(st.st_size - off));

		if (s < 0 && errno == EINTR)
			continue;
		if (s <= 0) {
			fprintf(stderr, "fdserver: sendfile %s: %s\n", uri,
				s ? strerror(errno) : "returned 0");
			goto fail;
		}
	}
	setsockopt(conn_fd, IPPROTO_TCP, TCP_CORK, &off_, sizeof(off_));
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_term };
	unsigned long requests = 0, every = 1, hazards = 0;
	char buf[8192];
	size_t have = 0;
	int one = 1, k;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: fdserver PORT DOCROOT [EVERY]\n");
		return 2;
	}
	docroot = argv[2];
	if (argc == 4 && (every = strtoul(argv[3], NULL, 10)) == 0)
		every = 1;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(listen_fd, 64) != 0) {
		perror("fdserver: bind");
		return 1;
	}
	while (!stop) {
		char *end, *sp;
		ssize_t r;

		if (conn_fd < 0) {
			conn_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			have = 0;
			if (conn_fd < 0)
				continue;
		}
		end = memmem(buf, have, "\r\n\r\n", 4);
		if (!end) {
			r = read(conn_fd, buf + have, sizeof(buf) - have - 1);
			if (r <= 0 || have + (size_t)r >= sizeof(buf) - 1) {
				close(conn_fd);
				conn_fd = -1;
			} else {
				have += (size_t)r;
			}
			continue;
		}
		*end = 0;
		sp = strchr(buf, ' ');
		if (strncmp(buf, "GET ", 4) || !sp || !strchr(sp + 1, ' ')) {
			reply_status(400, "Bad Request");
			close(conn_fd);
			conn_fd = -1;
			continue;
		}
		*strchr(sp + 1, ' ') = 0;
		if (serve(sp + 1) != 0) {
			close(conn_fd);
			conn_fd = -1;
		} else {
			have -= (size_t)(end + 4 - buf);
			memmove(buf, end + 4, have);
		}
		if (++requests % every == 0)
			hazard(hazards++);
	}
	release_held(0);
	fprintf(stderr, "fdserver: %lu requests\n", requests);
	for (k = 0; k < H_KINDS; k++)
		fprintf(stderr, "fdserver: hazard %s hit %ld foreign descriptors\n",
			hazard_names[k], hazard_fds[k]);
	return 0;
}
