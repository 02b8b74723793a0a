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

/* Initialises sendcache once (constructor, or the first wrapper called,
 * whichever comes first). Never fails: on any problem sendcache stays off
 * and every call is forwarded. */
void sc_init(void);

int sc_openat(int dirfd, const char *path, int flags, mode_t mode);
int sc_close(int fd);
int sc_close_range(unsigned lo, unsigned hi, int flags);
void sc_closefrom(int lo);
int sc_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int sc_fstat(int fd, struct stat *st);
int sc_xstat_version(int ver);

ssize_t sc_sendfile(int out, int in, off_t *off, size_t count);
ssize_t sc_write(int fd, const void *buf, size_t n);
ssize_t sc_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t sc_sendto(int fd, const void *buf, size_t n, int flags,
		  const struct sockaddr *to, socklen_t tolen);
ssize_t sc_sendmsg(int fd, const struct msghdr *msg, int flags);

ssize_t sc_read(int fd, void *buf, size_t n);
ssize_t sc_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t sc_recvfrom(int fd, void *buf, size_t n, int flags,
		    struct sockaddr *from, socklen_t *fromlen);
ssize_t sc_recvmsg(int fd, struct msghdr *msg, int flags);
off_t sc_lseek(int fd, off_t off, int whence);
ssize_t sc_pread(int fd, void *buf, size_t n, off_t off);
void *sc_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int sc_munmap(void *addr, size_t len);

int sc_setsockopt(int fd, int level, int opt, const void *val, socklen_t len);
int sc_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
int sc_shutdown(int fd, int how);

/* Arming a socket in an epoll set (ADD, MOD) flushes what it holds. */
int sc_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int sc_epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout);
int sc_epoll_pwait(int epfd, struct epoll_event *ev, int n, int timeout,
		   const sigset_t *mask);
int sc_epoll_pwait2(int epfd, struct epoll_event *ev, int n,
		    const struct timespec *timeout, const sigset_t *mask);
int sc_poll(struct pollfd *fds, nfds_t n, int timeout);
int sc_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
	     const sigset_t *mask);
int sc_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
int sc_pselect(int n, fd_set *r, fd_set *w, fd_set *e,
	       const struct timespec *ts, const sigset_t *mask);

int sc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags,
	       int use_accept4);
int sc_socket(int domain, int type, int proto);
int sc_socketpair(int domain, int type, int proto, int sv[2]);
int sc_pipe2(int fds[2], int flags, int use_pipe2);
int sc_dup(int fd);
int sc_dup3(int old, int new, int flags, int use_dup3);
int sc_fcntl(int fd, int cmd, void *arg);
int sc_epoll_create1(int flags, int size, int use_create1);
int sc_eventfd(unsigned initval, int flags);
FILE *sc_fdopen(int fd, const char *mode);

int sc_chdir(const char *path);
int sc_fchdir(int fd);

/* Changes of credentials: on success, what this process may open has
 * changed, so the whole cache is dropped. */
int sc_setuid(uid_t u);
int sc_setgid(gid_t g);
int sc_seteuid(uid_t u);
int sc_setegid(gid_t g);
int sc_setreuid(uid_t r, uid_t e);
int sc_setregid(gid_t r, gid_t e);
int sc_setresuid(uid_t r, uid_t e, uid_t s);
int sc_setresgid(gid_t r, gid_t e, gid_t s);
int sc_setgroups(size_t n, const gid_t *list);
int sc_initgroups(const char *user, gid_t g);

/* Changes of one thread's credentials (setfsuid, setfsgid, capset, and a
 * raw system call that changes credentials): the cache is dropped and, if
 * the process has other threads (which may now differ in what they may
 * open), opens and stats are no longer answered from it. Return what the
 * real call returned, errno as it left it. */
int sc_setfsuid(uid_t u);
int sc_setfsgid(gid_t g);
int sc_capset(void *hdr, void *data);
long sc_syscall(long n, const long a[6]);

#endif
