/* libother.c - another preloaded library whose constructor, run before
 * sendcache's, makes one call of every kind sendcache interposes (stat
 * first, as wrappers and profilers do) and prints what each returned.
 * t1004 compares the transcript with and without sendcache loaded. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include "helpers/compat.h"

static FILE *out;

/* One line per call: its name and what it gave (never a descriptor
 * number: the library may hold descriptors of its own). */
static void say(const char *name, long rc)
{
	if (rc < 0)
		fprintf(out, "%s -1 %s\n", name, strerror(errno));
	else
		fprintf(out, "%s %ld\n", name, rc);
}

static void files(const char *dir)
{
	char path[4096], link[4096], buf[64] = "";
	struct stat st;
	int fd, fd2, p[2];
	void *m;
	FILE *f;

	snprintf(path, sizeof(path), "%s/file.txt", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	say("stat", stat(path, &st) ?: (long)st.st_size);
	say("lstat-link", lstat(link, &st) ?: (long)S_ISLNK(st.st_mode));
	say("fstatat", fstatat(AT_FDCWD, path, &st, 0) ?: (long)st.st_size);
	say("stat-missing", stat("/nonexistent/x", &st));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	say("open", fd >= 0);
	say("fstat", fstat(fd, &st) ?: (long)st.st_size);
	say("read", read(fd, buf, 5));
	say("lseek", lseek(fd, 0, SEEK_CUR));
	say("pread", pread(fd, buf, 5, 6));
	say("pread-bytes", strncmp(buf, "bytes", 5));
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	say("mmap", m == MAP_FAILED ? -1 : memcmp(m, "other bytes", 11));
	say("munmap", m == MAP_FAILED ? -1 : munmap(m, (size_t)st.st_size));
	fd2 = dup(fd);
	say("dup", fd2 >= 0);
	say("dup2", dup2(fd, fd2) == fd2);
	say("dup3", dup3(fd, fd2, O_CLOEXEC) == fd2);
	say("fcntl-getfl", fcntl(fd, F_GETFL) & O_ACCMODE);
	say("close-dup", close(fd2));
	say("pipe2", pipe2(p, O_CLOEXEC));
	say("sendfile", sendfile(p[1], fd, &(off_t){ 0 }, 11));
	say("pipe-read", read(p[0], buf, sizeof(buf)));
	say("close", close(p[0]) | close(p[1]));
	f = fdopen(dup(fd), "r");
	say("fdopen", f ? (long)(fgets(buf, sizeof(buf), f) != NULL) : -1);
	if (f)
		fclose(f);
	say("close-file", close(fd));
	say("close-again", close(fd));
	say("chdir", chdir(dir));
	say("creat", (fd = creat("made.txt", 0600)) >= 0);
	say("write", write(fd, "made\n", 5));
	say("close-made", close(fd));
	say("unlink", unlink("made.txt"));
}

static void sockets(void)
{
	struct iovec iov = { .iov_base = "iov", .iov_len = 3 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd pfd;
	fd_set r;
	char buf[16];
	int sv[2], s, ep, efd, n = 8192;
	socklen_t len = sizeof(n);

	say("socket", (s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0);
	say("accept-unbound", accept4(s, NULL, NULL, 0));
	say("close-socket", close(s));
	say("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	say("setsockopt", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &n, len));
	say("getsockopt", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &n, &len) ?: n);
	say("send", send(sv[0], "send", 4, 0));
	say("sendto", sendto(sv[0], "to", 2, 0, NULL, 0));
	say("sendmsg", sendmsg(sv[0], &mh, 0));
	say("writev", writev(sv[0], &iov, 1));
	pfd = (struct pollfd){ .fd = sv[1], .events = POLLIN };
	say("poll", poll(&pfd, 1, 1000));
	say("ppoll", ppoll(&pfd, 1, &(struct timespec){ 1, 0 }, NULL));
	FD_ZERO(&r);
	FD_SET(sv[1], &r);
	say("select", select(sv[1] + 1, &r, NULL, NULL, &(struct timeval){ 1, 0 }));
	say("pselect", pselect(sv[1] + 1, &r, NULL, NULL,
			       &(struct timespec){ 1, 0 }, NULL));
	say("epoll_create1", (ep = epoll_create1(EPOLL_CLOEXEC)) >= 0);
	say("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev));
	say("epoll_wait", epoll_wait(ep, &ev, 1, 1000));
	say("epoll_pwait", epoll_pwait(ep, &ev, 1, 1000, NULL));
	say("close-epoll", close(ep));
	say("recv", recv(sv[1], buf, 4, 0));
	say("recvfrom", recvfrom(sv[1], buf, 2, 0, NULL, NULL));
	iov = (struct iovec){ .iov_base = buf, .iov_len = 3 };
	say("recvmsg", recvmsg(sv[1], &mh, 0));
	say("readv", readv(sv[1], &iov, 1));
	say("shutdown", shutdown(sv[0], SHUT_WR));
	say("read-eof", read(sv[1], buf, sizeof(buf)));
	say("close-pair", close(sv[0]) | close(sv[1]));
	say("eventfd", (efd = eventfd(0, EFD_CLOEXEC)) >= 0);
	say("close-eventfd", close(efd));
}

static void process(void)
{
	say("syscall-getpid", syscall(SYS_getpid) == getpid());
	say("setgid-same", setgid(getgid()));
	say("setuid-same", setuid(getuid()));
	say("close_range-unused", close_range(900, 910, 0));
}

__attribute__((constructor)) static void other(void)
{
	const char *dir = getenv("OTHER_DIR");

	if (!dir)
		return;
	out = stdout;
	files(dir);
	sockets();
	process();
	fflush(out);
}
