/* preload.c - the exported libc names: one-line forwarders, no policy.
 *
 * Every spelling a server may import (open64, __open64_2, sendfile64,
 * the pre-2.33 __xstat family, ...) forwards to one implementation in
 * src/engine.c. Only these names are exported (sendcache.map).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/engine.h"

#define EXPORT __attribute__((visibility("default")))

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "stat and stat64 share one layout on this ABI");
_Static_assert(sizeof(off_t) == sizeof(off64_t), "64-bit off_t");

/* The mode argument exists only when the flags create a file. */
#define OPEN_MODE(flags, mode)                                  \
	do {                                                    \
		va_list ap;                                     \
		if (__OPEN_NEEDS_MODE(flags)) {                 \
			va_start(ap, flags);                    \
			mode = va_arg(ap, mode_t);              \
			va_end(ap);                             \
		}                                               \
	} while (0)

/* open family */
EXPORT int open(const char *path, int flags, ...)
{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(AT_FDCWD, path, flags, mode); }
EXPORT int open64(const char *path, int flags, ...)
{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(AT_FDCWD, path, flags, mode); }
EXPORT int openat(int dirfd, const char *path, int flags, ...)
{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(dirfd, path, flags, mode); }
EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(dirfd, path, flags, mode); }
EXPORT int __open_2(const char *path, int flags) { return sc_openat(AT_FDCWD, path, flags, 0); }
EXPORT int __open64_2(const char *path, int flags) { return sc_openat(AT_FDCWD, path, flags, 0); }
EXPORT int __openat_2(int dirfd, const char *path, int flags) { return sc_openat(dirfd, path, flags, 0); }
EXPORT int __openat64_2(int dirfd, const char *path, int flags) { return sc_openat(dirfd, path, flags, 0); }
EXPORT int creat(const char *path, mode_t mode) { return sc_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
EXPORT int creat64(const char *path, mode_t mode) { return sc_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

/* close family */
EXPORT int close(int fd) { return sc_close(fd); }
EXPORT int close_range(unsigned lo, unsigned hi, int flags) { return sc_close_range(lo, hi, flags); }
EXPORT void closefrom(int lo) { sc_closefrom(lo); }

/* stat family */
EXPORT int stat(const char *restrict path, struct stat *restrict st) { return sc_fstatat(AT_FDCWD, path, st, 0); }
EXPORT int stat64(const char *restrict path, struct stat64 *restrict st) { return sc_fstatat(AT_FDCWD, path, (struct stat *)st, 0); }
EXPORT int lstat(const char *restrict path, struct stat *restrict st) { return sc_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
EXPORT int lstat64(const char *restrict path, struct stat64 *restrict st) { return sc_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW); }
EXPORT int fstatat(int dirfd, const char *restrict path, struct stat *restrict st, int flags) { return sc_fstatat(dirfd, path, st, flags); }
EXPORT int fstatat64(int dirfd, const char *restrict path, struct stat64 *restrict st, int flags) { return sc_fstatat(dirfd, path, (struct stat *)st, flags); }
EXPORT int fstat(int fd, struct stat *st) { return sc_fstat(fd, st); }
EXPORT int fstat64(int fd, struct stat64 *st) { return sc_fstat(fd, (struct stat *)st); }

/* stat family as binaries built against glibc < 2.33 call it */
EXPORT int __xstat(int ver, const char *path, struct stat *st)
{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, st, 0); }
EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, (struct stat *)st, 0); }
EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW); }
EXPORT int __fxstat(int ver, int fd, struct stat *st)
{ return sc_xstat_version(ver) ?: sc_fstat(fd, st); }
EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{ return sc_xstat_version(ver) ?: sc_fstat(fd, (struct stat *)st); }
EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{ return sc_xstat_version(ver) ?: sc_fstatat(dirfd, path, st, flags); }
EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{ return sc_xstat_version(ver) ?: sc_fstatat(dirfd, path, (struct stat *)st, flags); }

/* sendfile family */
EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count) { return sc_sendfile(out, in, off, count); }
EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count) { return sc_sendfile(out, in, (off_t *)off, count); }

/* write family */
EXPORT ssize_t write(int fd, const void *buf, size_t n) { return sc_write(fd, buf, n); }
EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt) { return sc_writev(fd, iov, iovcnt); }
EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) { return sc_sendto(fd, buf, n, flags, NULL, 0); }
EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen) { return sc_sendto(fd, buf, n, flags, to, tolen); }
EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) { return sc_sendmsg(fd, msg, flags); }

/* read family: a socket's held bytes go out first; a cached file keeps
 * the server's own position */
EXPORT ssize_t read(int fd, void *buf, size_t n) { return sc_read(fd, buf, n); }
EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) { (void)buflen; return sc_read(fd, buf, n); }
EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt) { return sc_readv(fd, iov, iovcnt); }
EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) { return sc_recvfrom(fd, buf, n, flags, NULL, NULL); }
EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags) { (void)buflen; return sc_recvfrom(fd, buf, n, flags, NULL, NULL); }
EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t n, int flags, struct sockaddr *restrict from, socklen_t *restrict fromlen) { return sc_recvfrom(fd, buf, n, flags, from, fromlen); }
EXPORT ssize_t __recvfrom_chk(int fd, void *restrict buf, size_t n, size_t buflen, int flags, struct sockaddr *restrict from, socklen_t *restrict fromlen) { (void)buflen; return sc_recvfrom(fd, buf, n, flags, from, fromlen); }
EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) { return sc_recvmsg(fd, msg, flags); }
/* pread family: a small cached file is read from the entry's copy */
EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) { return sc_pread(fd, buf, n, off); }
EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off) { return sc_pread(fd, buf, n, off); }
EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) { (void)buflen; return sc_pread(fd, buf, n, off); }
EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen) { (void)buflen; return sc_pread(fd, buf, n, off); }

/* mmap family: a cached file's mapping is handed out, not made again */
EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) { return sc_mmap(addr, len, prot, flags, fd, off); }
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) { return sc_mmap(addr, len, prot, flags, fd, off); }
EXPORT int munmap(void *addr, size_t len) { return sc_munmap(addr, len); }

EXPORT off_t lseek(int fd, off_t off, int whence) { return sc_lseek(fd, off, whence); }
EXPORT off64_t lseek64(int fd, off64_t off, int whence) { return sc_lseek(fd, off, whence); }

/* socket options: TCP_CORK lives in user space */
EXPORT int setsockopt(int fd, int level, int opt, const void *val, socklen_t len) { return sc_setsockopt(fd, level, opt, val, len); }
EXPORT int getsockopt(int fd, int level, int opt, void *restrict val, socklen_t *restrict len) { return sc_getsockopt(fd, level, opt, val, len); }
EXPORT int shutdown(int fd, int how) { return sc_shutdown(fd, how); }

/* blocking points: held bytes are flushed first */
EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) { return sc_epoll_ctl(epfd, op, fd, ev); }
EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout) { return sc_epoll_wait(epfd, ev, n, timeout); }
EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int n, int timeout, const sigset_t *mask) { return sc_epoll_pwait(epfd, ev, n, timeout, mask); }
EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int n, const struct timespec *timeout, const sigset_t *mask) { return sc_epoll_pwait2(epfd, ev, n, timeout, mask); }
EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) { return sc_poll(fds, n, timeout); }
EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask) { return sc_ppoll(fds, n, timeout, mask); }
EXPORT int select(int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e, struct timeval *restrict tv) { return sc_select(n, r, w, e, tv); }
EXPORT int pselect(int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e, const struct timespec *restrict ts, const sigset_t *restrict mask) { return sc_pselect(n, r, w, e, ts, mask); }
EXPORT int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len) { return sc_accept4(fd, addr, len, 0, 0); }
EXPORT int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict len, int flags) { return sc_accept4(fd, addr, len, flags, 1); }

/* calls that hand back descriptors: a number we thought ours is lost */
EXPORT int socket(int domain, int type, int proto) { return sc_socket(domain, type, proto); }
EXPORT int socketpair(int domain, int type, int proto, int sv[2]) { return sc_socketpair(domain, type, proto, sv); }
EXPORT int pipe(int fds[2]) { return sc_pipe2(fds, 0, 0); }
EXPORT int pipe2(int fds[2], int flags) { return sc_pipe2(fds, flags, 1); }
EXPORT int dup(int fd) { return sc_dup(fd); }
EXPORT int dup2(int old, int new) { return sc_dup3(old, new, 0, 0); }
EXPORT int dup3(int old, int new, int flags) { return sc_dup3(old, new, flags, 1); }
EXPORT int fcntl(int fd, int cmd, ...)
{ va_list ap; void *arg; va_start(ap, cmd); arg = va_arg(ap, void *); va_end(ap); return sc_fcntl(fd, cmd, arg); }
EXPORT int fcntl64(int fd, int cmd, ...)
{ va_list ap; void *arg; va_start(ap, cmd); arg = va_arg(ap, void *); va_end(ap); return sc_fcntl(fd, cmd, arg); }
EXPORT int epoll_create(int size) { return sc_epoll_create1(0, size, 0); }
EXPORT int epoll_create1(int flags) { return sc_epoll_create1(flags, 0, 1); }
EXPORT int eventfd(unsigned initval, int flags) { return sc_eventfd(initval, flags); }
EXPORT FILE *fdopen(int fd, const char *mode) { return sc_fdopen(fd, mode); }

/* the working directory, for cwd-relative paths */
EXPORT int chdir(const char *path) { return sc_chdir(path); }
EXPORT int fchdir(int fd) { return sc_fchdir(fd); }

/* credentials: what may be opened changes */
EXPORT int setuid(uid_t u) { return sc_setuid(u); }
EXPORT int setgid(gid_t g) { return sc_setgid(g); }
EXPORT int seteuid(uid_t u) { return sc_seteuid(u); }
EXPORT int setegid(gid_t g) { return sc_setegid(g); }
EXPORT int setreuid(uid_t r, uid_t e) { return sc_setreuid(r, e); }
EXPORT int setregid(gid_t r, gid_t e) { return sc_setregid(r, e); }
EXPORT int setresuid(uid_t r, uid_t e, uid_t s) { return sc_setresuid(r, e, s); }
EXPORT int setresgid(gid_t r, gid_t e, gid_t s) { return sc_setresgid(r, e, s); }
EXPORT int setgroups(size_t n, const gid_t *list) { return sc_setgroups(n, list); }
EXPORT int initgroups(const char *user, gid_t g) { return sc_initgroups(user, g); }
EXPORT int setfsuid(uid_t u) { return sc_setfsuid(u); }
EXPORT int setfsgid(gid_t g) { return sc_setfsgid(g); }
EXPORT int capset(void *hdr, void *data) { return sc_capset(hdr, data); }

/* syscall(2): six register-sized arguments whatever the call takes, as
 * the kernel reads them; only credential changes are looked at. */
EXPORT long syscall(long n, ...)
{
	long a[6];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return sc_syscall(n, a);
}
