/* engine.h - one implementation per family of interposed calls.
 *
 * preload/ forwards every exported spelling (open, open64, __open_2, ...)
 * to one of these. Each keeps the real call's contract: same return value,
 * same errno, for everything the server can observe (DESIGN.md §3.1).
 */
#ifndef SC_ENGINE_H
#define SC_ENGINE_H

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* The code a forked child runs while it sleeps (engine.c): every call
 * through an exported name, which then passes to libc. Kept together, in
 * one section the linker places beside the library's exit code, which
 * every child runs too: each other page of code a child runs is one more
 * page fault, 30-40 us on a small VM, in a request of 1.2 ms (t4012). */
#define SC_CHILD_TEXT __attribute__((section(".text.hot.sc_child")))

/* Initialises sendcache once (constructor, or the first wrapper called,
 * whichever comes first). Never fails: on any problem sendcache stays off
 * and every call is forwarded. */
void sc_init(void);

SC_CHILD_TEXT int sc_openat(int dirfd, const char *path, int flags, mode_t mode);
SC_CHILD_TEXT int sc_close(int fd);
SC_CHILD_TEXT int sc_close_range(unsigned lo, unsigned hi, int flags);
SC_CHILD_TEXT void sc_closefrom(int lo);
SC_CHILD_TEXT int sc_fstatat(int dirfd, const char *path, struct stat *st, int flags);
SC_CHILD_TEXT int sc_fstat(int fd, struct stat *st);
SC_CHILD_TEXT int sc_xstat_version(int ver);

SC_CHILD_TEXT ssize_t sc_sendfile(int out, int in, off_t *off, size_t count);
SC_CHILD_TEXT ssize_t sc_write(int fd, const void *buf, size_t n);
SC_CHILD_TEXT ssize_t sc_writev(int fd, const struct iovec *iov, int iovcnt);
SC_CHILD_TEXT ssize_t sc_sendto(int fd, const void *buf, size_t n, int flags,
		  const struct sockaddr *to, socklen_t tolen);
SC_CHILD_TEXT ssize_t sc_sendmsg(int fd, const struct msghdr *msg, int flags);

SC_CHILD_TEXT ssize_t sc_read(int fd, void *buf, size_t n);
SC_CHILD_TEXT ssize_t sc_readv(int fd, const struct iovec *iov, int iovcnt);
SC_CHILD_TEXT ssize_t sc_recvfrom(int fd, void *buf, size_t n, int flags,
		    struct sockaddr *from, socklen_t *fromlen);
SC_CHILD_TEXT ssize_t sc_recvmsg(int fd, struct msghdr *msg, int flags);
SC_CHILD_TEXT off_t sc_lseek(int fd, off_t off, int whence);
SC_CHILD_TEXT ssize_t sc_pread(int fd, void *buf, size_t n, off_t off);
SC_CHILD_TEXT void *sc_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
SC_CHILD_TEXT int sc_munmap(void *addr, size_t len);

SC_CHILD_TEXT int sc_setsockopt(int fd, int level, int opt, const void *val, socklen_t len);
SC_CHILD_TEXT int sc_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
SC_CHILD_TEXT int sc_shutdown(int fd, int how);

/* Arming a socket in an epoll set (ADD, MOD) flushes what it holds. */
SC_CHILD_TEXT int sc_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
SC_CHILD_TEXT int sc_epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout);
SC_CHILD_TEXT int sc_epoll_pwait(int epfd, struct epoll_event *ev, int n, int timeout,
		   const sigset_t *mask);
SC_CHILD_TEXT int sc_epoll_pwait2(int epfd, struct epoll_event *ev, int n,
		    const struct timespec *timeout, const sigset_t *mask);
SC_CHILD_TEXT int sc_poll(struct pollfd *fds, nfds_t n, int timeout);
SC_CHILD_TEXT int sc_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
	     const sigset_t *mask);
SC_CHILD_TEXT int sc_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
SC_CHILD_TEXT int sc_pselect(int n, fd_set *r, fd_set *w, fd_set *e,
	       const struct timespec *ts, const sigset_t *mask);

SC_CHILD_TEXT int sc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags,
	       int use_accept4);
SC_CHILD_TEXT int sc_socket(int domain, int type, int proto);
SC_CHILD_TEXT int sc_socketpair(int domain, int type, int proto, int sv[2]);
SC_CHILD_TEXT int sc_pipe2(int fds[2], int flags, int use_pipe2);
SC_CHILD_TEXT int sc_dup(int fd);
SC_CHILD_TEXT int sc_dup3(int old, int new, int flags, int use_dup3);
SC_CHILD_TEXT int sc_fcntl(int fd, int cmd, void *arg);
SC_CHILD_TEXT int sc_epoll_create1(int flags, int size, int use_create1);
SC_CHILD_TEXT int sc_eventfd(unsigned initval, int flags);
FILE *sc_fdopen(int fd, const char *mode);

SC_CHILD_TEXT int sc_chdir(const char *path);
SC_CHILD_TEXT int sc_fchdir(int fd);

/* Changes of credentials: on success, what this process may open has
 * changed, so the whole cache is dropped. */
SC_CHILD_TEXT int sc_setuid(uid_t u);
SC_CHILD_TEXT int sc_setgid(gid_t g);
SC_CHILD_TEXT int sc_seteuid(uid_t u);
SC_CHILD_TEXT int sc_setegid(gid_t g);
SC_CHILD_TEXT int sc_setreuid(uid_t r, uid_t e);
SC_CHILD_TEXT int sc_setregid(gid_t r, gid_t e);
SC_CHILD_TEXT int sc_setresuid(uid_t r, uid_t e, uid_t s);
SC_CHILD_TEXT int sc_setresgid(gid_t r, gid_t e, gid_t s);
SC_CHILD_TEXT int sc_setgroups(size_t n, const gid_t *list);
int sc_initgroups(const char *user, gid_t g);

/* Changes of one thread's credentials (setfsuid, setfsgid, capset, and a
 * raw system call that changes credentials): the cache is dropped and, if
 * the process has other threads (which may now differ in what they may
 * open), opens and stats are no longer answered from it. Return what the
 * real call returned, errno as it left it. */
SC_CHILD_TEXT int sc_setfsuid(uid_t u);
SC_CHILD_TEXT int sc_setfsgid(gid_t g);
SC_CHILD_TEXT int sc_capset(void *hdr, void *data);
SC_CHILD_TEXT long sc_syscall(long n, const long a[6]);

#endif
