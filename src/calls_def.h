/* calls_def.h - every libc function sendcache interposes or calls, once.
 *
 * SC_REAL(ret, name, (params), missing)
 *     a libc function the library calls: real.name (real.h), resolved by
 *     dlsym(RTLD_NEXT) at the first call of any. Until then, and if libc
 *     lacks it, real.name is a stand-in that fails: missing is ERR (-1,
 *     errno ENOSYS), NULLPTR (NULL, ENOSYS), VOID (returns, errno as it
 *     was), or RAW (the
 *     system call itself, for mmap, munmap and syscall, which other
 *     libraries' constructors and dlsym's own malloc call first).
 * SC_EXPORT(ret, name, (params), { body })
 *     a name the library exports (preload.c; the version script is made
 *     from these): one spelling a server may import, forwarded to its
 *     engine function (engine.h). No policy here.
 *
 * SC_EXPORT_GLIBC(...)
 *     as SC_EXPORT, for a spelling only glibc's headers make a program
 *     import (LFS *64 names, __xstat, _FORTIFY_SOURCE's __*_chk): with
 *     another libc (musl, whose headers spell these as the plain names)
 *     it is no name of ours.
 *
 * Adding an interposed call: its SC_EXPORT line(s) here, an SC_REAL line
 * if libc's own is needed, and the sc_ function in engine.c.
 */

#ifndef SC_EXPORT_GLIBC
# ifdef __GLIBC__
#  define SC_EXPORT_GLIBC SC_EXPORT
# else
#  define SC_EXPORT_GLIBC(ret, name, params, body)
# endif
#endif

/* resolved first: what dlsym's own malloc and other libraries'
 * constructors call into while the rest is being resolved */
SC_REAL(void *, mmap, (void *addr, size_t len, int prot, int flags, int fd, off_t off), RAW)
SC_REAL(int, munmap, (void *addr, size_t len), RAW)
SC_REAL(long, syscall, (long n, ...), RAW)

/* open family */
SC_REAL(int, openat, (int dirfd, const char *path, int flags, ...), ERR)
SC_EXPORT(int, open, (const char *path, int flags, ...),
	{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(AT_FDCWD, path, flags, mode); })
SC_EXPORT_GLIBC(int, open64, (const char *path, int flags, ...),
	{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(AT_FDCWD, path, flags, mode); })
SC_EXPORT(int, openat, (int dirfd, const char *path, int flags, ...),
	{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(dirfd, path, flags, mode); })
SC_EXPORT_GLIBC(int, openat64, (int dirfd, const char *path, int flags, ...),
	{ mode_t mode = 0; OPEN_MODE(flags, mode); return sc_openat(dirfd, path, flags, mode); })
SC_EXPORT_GLIBC(int, __open_2, (const char *path, int flags),
	{ return sc_openat(AT_FDCWD, path, flags, 0); })
SC_EXPORT_GLIBC(int, __open64_2, (const char *path, int flags),
	{ return sc_openat(AT_FDCWD, path, flags, 0); })
SC_EXPORT_GLIBC(int, __openat_2, (int dirfd, const char *path, int flags),
	{ return sc_openat(dirfd, path, flags, 0); })
SC_EXPORT_GLIBC(int, __openat64_2, (int dirfd, const char *path, int flags),
	{ return sc_openat(dirfd, path, flags, 0); })
SC_EXPORT(int, creat, (const char *path, mode_t mode),
	{ return sc_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); })
SC_EXPORT_GLIBC(int, creat64, (const char *path, mode_t mode),
	{ return sc_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); })

/* close family */
SC_REAL(int, close, (int fd), ERR)
SC_REAL(int, close_range, (unsigned lo, unsigned hi, int flags), ERR)
SC_REAL(void, closefrom, (int lo), VOID)
SC_EXPORT(int, close, (int fd),
	{ return sc_close(fd); })
SC_EXPORT(int, close_range, (unsigned lo, unsigned hi, int flags),
	{ return sc_close_range(lo, hi, flags); })
SC_EXPORT(void, closefrom, (int lo),
	{ sc_closefrom(lo); })

/* stat family */
SC_REAL(int, fstat, (int fd, struct stat *st), ERR)
SC_REAL(int, fstatat, (int dirfd, const char *path, struct stat *st, int flags), ERR)
SC_EXPORT(int, stat, (const char *restrict path, struct stat *restrict st),
	{ return sc_fstatat(AT_FDCWD, path, st, 0); })
SC_EXPORT_GLIBC(int, stat64, (const char *restrict path, struct stat64 *restrict st),
	{ return sc_fstatat(AT_FDCWD, path, (struct stat *)st, 0); })
SC_EXPORT(int, lstat, (const char *restrict path, struct stat *restrict st),
	{ return sc_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); })
SC_EXPORT_GLIBC(int, lstat64, (const char *restrict path, struct stat64 *restrict st),
	{ return sc_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW); })
SC_EXPORT(int, fstatat, (int dirfd, const char *restrict path, struct stat *restrict st, int flags),
	{ return sc_fstatat(dirfd, path, st, flags); })
SC_EXPORT_GLIBC(int, fstatat64, (int dirfd, const char *restrict path, struct stat64 *restrict st, int flags),
	{ return sc_fstatat(dirfd, path, (struct stat *)st, flags); })
SC_EXPORT(int, fstat, (int fd, struct stat *st),
	{ return sc_fstat(fd, st); })
SC_EXPORT_GLIBC(int, fstat64, (int fd, struct stat64 *st),
	{ return sc_fstat(fd, (struct stat *)st); })

/* stat family as binaries built against glibc < 2.33 call it */
SC_EXPORT_GLIBC(int, __xstat, (int ver, const char *path, struct stat *st),
	{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, st, 0); })
SC_EXPORT_GLIBC(int, __xstat64, (int ver, const char *path, struct stat64 *st),
	{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, (struct stat *)st, 0); })
SC_EXPORT_GLIBC(int, __lxstat, (int ver, const char *path, struct stat *st),
	{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); })
SC_EXPORT_GLIBC(int, __lxstat64, (int ver, const char *path, struct stat64 *st),
	{ return sc_xstat_version(ver) ?: sc_fstatat(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW); })
SC_EXPORT_GLIBC(int, __fxstat, (int ver, int fd, struct stat *st),
	{ return sc_xstat_version(ver) ?: sc_fstat(fd, st); })
SC_EXPORT_GLIBC(int, __fxstat64, (int ver, int fd, struct stat64 *st),
	{ return sc_xstat_version(ver) ?: sc_fstat(fd, (struct stat *)st); })
SC_EXPORT_GLIBC(int, __fxstatat, (int ver, int dirfd, const char *path, struct stat *st, int flags),
	{ return sc_xstat_version(ver) ?: sc_fstatat(dirfd, path, st, flags); })
SC_EXPORT_GLIBC(int, __fxstatat64, (int ver, int dirfd, const char *path, struct stat64 *st, int flags),
	{ return sc_xstat_version(ver) ?: sc_fstatat(dirfd, path, (struct stat *)st, flags); })

/* sendfile family */
SC_REAL(ssize_t, sendfile, (int out, int in, off_t *off, size_t count), ERR)
SC_EXPORT(ssize_t, sendfile, (int out, int in, off_t *off, size_t count),
	{ return sc_sendfile(out, in, off, count); })
SC_EXPORT_GLIBC(ssize_t, sendfile64, (int out, int in, off64_t *off, size_t count),
	{ return sc_sendfile(out, in, (off_t *)off, count); })

/* write family */
SC_REAL(ssize_t, write, (int fd, const void *buf, size_t n), ERR)
SC_REAL(ssize_t, writev, (int fd, const struct iovec *iov, int iovcnt), ERR)
SC_REAL(ssize_t, send, (int fd, const void *buf, size_t n, int flags), ERR)
SC_REAL(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen), ERR)
SC_REAL(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), ERR)
SC_EXPORT(ssize_t, write, (int fd, const void *buf, size_t n),
	{ return sc_write(fd, buf, n); })
SC_EXPORT(ssize_t, writev, (int fd, const struct iovec *iov, int iovcnt),
	{ return sc_writev(fd, iov, iovcnt); })
SC_EXPORT(ssize_t, send, (int fd, const void *buf, size_t n, int flags),
	{ return sc_sendto(fd, buf, n, flags, NULL, 0); })
SC_EXPORT(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t tolen),
	{ return sc_sendto(fd, buf, n, flags, to, tolen); })
SC_EXPORT(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags),
	{ return sc_sendmsg(fd, msg, flags); })

/* read family: a socket's held bytes go out first; a cached file keeps
 * the server's own position */
SC_REAL(ssize_t, read, (int fd, void *buf, size_t n), ERR)
SC_REAL(ssize_t, readv, (int fd, const struct iovec *iov, int iovcnt), ERR)
SC_REAL(ssize_t, recvfrom, (int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *fromlen), ERR)
SC_REAL(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags), ERR)
SC_EXPORT(ssize_t, read, (int fd, void *buf, size_t n),
	{ return sc_read(fd, buf, n); })
SC_EXPORT_GLIBC(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t buflen),
	{ (void)buflen; return sc_read(fd, buf, n); })
SC_EXPORT(ssize_t, readv, (int fd, const struct iovec *iov, int iovcnt),
	{ return sc_readv(fd, iov, iovcnt); })
SC_EXPORT(ssize_t, recv, (int fd, void *buf, size_t n, int flags),
	{ return sc_recvfrom(fd, buf, n, flags, NULL, NULL); })
SC_EXPORT_GLIBC(ssize_t, __recv_chk, (int fd, void *buf, size_t n, size_t buflen, int flags),
	{ (void)buflen; return sc_recvfrom(fd, buf, n, flags, NULL, NULL); })
SC_EXPORT(ssize_t, recvfrom, (int fd, void *restrict buf, size_t n, int flags, struct sockaddr *restrict from, socklen_t *restrict fromlen),
	{ return sc_recvfrom(fd, buf, n, flags, from, fromlen); })
SC_EXPORT_GLIBC(ssize_t, __recvfrom_chk, (int fd, void *restrict buf, size_t n, size_t buflen, int flags, struct sockaddr *restrict from, socklen_t *restrict fromlen),
	{ (void)buflen; return sc_recvfrom(fd, buf, n, flags, from, fromlen); })
SC_EXPORT(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags),
	{ return sc_recvmsg(fd, msg, flags); })
/* pread family: a small cached file is read from the entry's copy */
SC_REAL(ssize_t, pread, (int fd, void *buf, size_t n, off_t off), ERR)
SC_REAL(ssize_t, preadv, (int fd, const struct iovec *iov, int iovcnt, off_t off), ERR)
SC_EXPORT(ssize_t, pread, (int fd, void *buf, size_t n, off_t off),
	{ return sc_pread(fd, buf, n, off); })
SC_EXPORT_GLIBC(ssize_t, pread64, (int fd, void *buf, size_t n, off64_t off),
	{ return sc_pread(fd, buf, n, off); })
SC_EXPORT_GLIBC(ssize_t, __pread_chk, (int fd, void *buf, size_t n, off_t off, size_t buflen),
	{ (void)buflen; return sc_pread(fd, buf, n, off); })
SC_EXPORT_GLIBC(ssize_t, __pread64_chk, (int fd, void *buf, size_t n, off64_t off, size_t buflen),
	{ (void)buflen; return sc_pread(fd, buf, n, off); })

/* mmap family: a cached file's mapping is handed out, not made again */
SC_EXPORT(void *, mmap, (void *addr, size_t len, int prot, int flags, int fd, off_t off),
	{ return sc_mmap(addr, len, prot, flags, fd, off); })
SC_EXPORT_GLIBC(void *, mmap64, (void *addr, size_t len, int prot, int flags, int fd, off64_t off),
	{ return sc_mmap(addr, len, prot, flags, fd, off); })
SC_EXPORT(int, munmap, (void *addr, size_t len),
	{ return sc_munmap(addr, len); })

/* the file position of a handed-out descriptor is the server's own */
SC_REAL(off_t, lseek, (int fd, off_t off, int whence), ERR)
SC_EXPORT(off_t, lseek, (int fd, off_t off, int whence),
	{ return sc_lseek(fd, off, whence); })
SC_EXPORT_GLIBC(off64_t, lseek64, (int fd, off64_t off, int whence),
	{ return sc_lseek(fd, off, whence); })

/* socket options: TCP_CORK lives in user space */
SC_REAL(int, setsockopt, (int fd, int level, int opt, const void *val, socklen_t len), ERR)
SC_REAL(int, getsockopt, (int fd, int level, int opt, void *val, socklen_t *len), ERR)
SC_REAL(int, shutdown, (int fd, int how), ERR)
SC_EXPORT(int, setsockopt, (int fd, int level, int opt, const void *val, socklen_t len),
	{ return sc_setsockopt(fd, level, opt, val, len); })
SC_EXPORT(int, getsockopt, (int fd, int level, int opt, void *restrict val, socklen_t *restrict len),
	{ return sc_getsockopt(fd, level, opt, val, len); })
SC_EXPORT(int, shutdown, (int fd, int how),
	{ return sc_shutdown(fd, how); })

/* blocking points: held bytes are flushed first */
SC_REAL(int, epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev), ERR)
SC_REAL(int, epoll_wait, (int epfd, struct epoll_event *ev, int n, int timeout), ERR)
SC_REAL(int, epoll_pwait, (int epfd, struct epoll_event *ev, int n, int timeout, const sigset_t *mask), ERR)
SC_REAL(int, epoll_pwait2, (int epfd, struct epoll_event *ev, int n, const struct timespec *timeout, const sigset_t *mask), ERR)
SC_REAL(int, poll, (struct pollfd *fds, nfds_t n, int timeout), ERR)
SC_REAL(int, ppoll, (struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask), ERR)
SC_REAL(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv), ERR)
SC_REAL(int, pselect, (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts, const sigset_t *mask), ERR)
SC_REAL(int, accept, (int fd, struct sockaddr *addr, socklen_t *len), ERR)
SC_REAL(int, accept4, (int fd, struct sockaddr *addr, socklen_t *len, int flags), ERR)
SC_EXPORT(int, epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev),
	{ return sc_epoll_ctl(epfd, op, fd, ev); })
SC_EXPORT(int, epoll_wait, (int epfd, struct epoll_event *ev, int n, int timeout),
	{ return sc_epoll_wait(epfd, ev, n, timeout); })
SC_EXPORT(int, epoll_pwait, (int epfd, struct epoll_event *ev, int n, int timeout, const sigset_t *mask),
	{ return sc_epoll_pwait(epfd, ev, n, timeout, mask); })
SC_EXPORT(int, epoll_pwait2, (int epfd, struct epoll_event *ev, int n, const struct timespec *timeout, const sigset_t *mask),
	{ return sc_epoll_pwait2(epfd, ev, n, timeout, mask); })
SC_EXPORT(int, poll, (struct pollfd *fds, nfds_t n, int timeout),
	{ return sc_poll(fds, n, timeout); })
SC_EXPORT(int, ppoll, (struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask),
	{ return sc_ppoll(fds, n, timeout, mask); })
SC_EXPORT(int, select, (int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e, struct timeval *restrict tv),
	{ return sc_select(n, r, w, e, tv); })
SC_EXPORT(int, pselect, (int n, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e, const struct timespec *restrict ts, const sigset_t *restrict mask),
	{ return sc_pselect(n, r, w, e, ts, mask); })
SC_EXPORT(int, accept, (int fd, struct sockaddr *restrict addr, socklen_t *restrict len),
	{ return sc_accept4(fd, addr, len, 0, 0); })
SC_EXPORT(int, accept4, (int fd, struct sockaddr *restrict addr, socklen_t *restrict len, int flags),
	{ return sc_accept4(fd, addr, len, flags, 1); })

/* calls that hand back descriptors: a number we thought ours is lost */
SC_REAL(int, socket, (int domain, int type, int proto), ERR)
SC_REAL(int, socketpair, (int domain, int type, int proto, int sv[2]), ERR)
SC_REAL(int, pipe, (int fds[2]), ERR)
SC_REAL(int, pipe2, (int fds[2], int flags), ERR)
SC_REAL(int, dup, (int fd), ERR)
SC_REAL(int, dup2, (int old, int new), ERR)
SC_REAL(int, dup3, (int old, int new, int flags), ERR)
SC_REAL(int, fcntl, (int fd, int cmd, ...), ERR)
SC_REAL(int, epoll_create, (int size), ERR)
SC_REAL(int, epoll_create1, (int flags), ERR)
SC_REAL(int, eventfd, (unsigned initval, int flags), ERR)
SC_REAL(FILE *, fdopen, (int fd, const char *mode), NULLPTR)
SC_EXPORT(int, socket, (int domain, int type, int proto),
	{ return sc_socket(domain, type, proto); })
SC_EXPORT(int, socketpair, (int domain, int type, int proto, int sv[2]),
	{ return sc_socketpair(domain, type, proto, sv); })
SC_EXPORT(int, pipe, (int fds[2]),
	{ return sc_pipe2(fds, 0, 0); })
SC_EXPORT(int, pipe2, (int fds[2], int flags),
	{ return sc_pipe2(fds, flags, 1); })
SC_EXPORT(int, dup, (int fd),
	{ return sc_dup(fd); })
SC_EXPORT(int, dup2, (int old, int new),
	{ return sc_dup3(old, new, 0, 0); })
SC_EXPORT(int, dup3, (int old, int new, int flags),
	{ return sc_dup3(old, new, flags, 1); })
SC_EXPORT(int, fcntl, (int fd, int cmd, ...),
	{ va_list ap; void *arg; va_start(ap, cmd); arg = va_arg(ap, void *); va_end(ap); return sc_fcntl(fd, cmd, arg); })
SC_EXPORT_GLIBC(int, fcntl64, (int fd, int cmd, ...),
	{ va_list ap; void *arg; va_start(ap, cmd); arg = va_arg(ap, void *); va_end(ap); return sc_fcntl(fd, cmd, arg); })
SC_EXPORT(int, epoll_create, (int size),
	{ return sc_epoll_create1(0, size, 0); })
SC_EXPORT(int, epoll_create1, (int flags),
	{ return sc_epoll_create1(flags, 0, 1); })
SC_EXPORT(int, eventfd, (unsigned initval, int flags),
	{ return sc_eventfd(initval, flags); })
SC_EXPORT(FILE *, fdopen, (int fd, const char *mode),
	{ return sc_fdopen(fd, mode); })

/* the working directory, for cwd-relative paths */
SC_REAL(int, chdir, (const char *path), ERR)
SC_REAL(int, fchdir, (int fd), ERR)
SC_EXPORT(int, chdir, (const char *path),
	{ return sc_chdir(path); })
SC_EXPORT(int, fchdir, (int fd),
	{ return sc_fchdir(fd); })

/* credentials: what may be opened changes */
SC_REAL(int, setuid, (uid_t u), ERR)
SC_REAL(int, setgid, (gid_t g), ERR)
SC_REAL(int, seteuid, (uid_t u), ERR)
SC_REAL(int, setegid, (gid_t g), ERR)
SC_REAL(int, setreuid, (uid_t r, uid_t e), ERR)
SC_REAL(int, setregid, (gid_t r, gid_t e), ERR)
SC_REAL(int, setresuid, (uid_t r, uid_t e, uid_t s), ERR)
SC_REAL(int, setresgid, (gid_t r, gid_t e, gid_t s), ERR)
SC_REAL(int, setgroups, (size_t n, const gid_t *list), ERR)
SC_REAL(int, initgroups, (const char *user, gid_t g), ERR)
SC_REAL(int, setfsuid, (uid_t u), ERR)
SC_REAL(int, setfsgid, (gid_t g), ERR)
SC_REAL(int, capset, (void *hdr, void *data), ERR)
SC_EXPORT(int, setuid, (uid_t u),
	{ return sc_setuid(u); })
SC_EXPORT(int, setgid, (gid_t g),
	{ return sc_setgid(g); })
SC_EXPORT(int, seteuid, (uid_t u),
	{ return sc_seteuid(u); })
SC_EXPORT(int, setegid, (gid_t g),
	{ return sc_setegid(g); })
SC_EXPORT(int, setreuid, (uid_t r, uid_t e),
	{ return sc_setreuid(r, e); })
SC_EXPORT(int, setregid, (gid_t r, gid_t e),
	{ return sc_setregid(r, e); })
SC_EXPORT(int, setresuid, (uid_t r, uid_t e, uid_t s),
	{ return sc_setresuid(r, e, s); })
SC_EXPORT(int, setresgid, (gid_t r, gid_t e, gid_t s),
	{ return sc_setresgid(r, e, s); })
SC_EXPORT(int, setgroups, (size_t n, const gid_t *list),
	{ return sc_setgroups(n, list); })
SC_EXPORT(int, initgroups, (const char *user, gid_t g),
	{ return sc_initgroups(user, g); })
SC_EXPORT(int, setfsuid, (uid_t u),
	{ return sc_setfsuid(u); })
SC_EXPORT(int, setfsgid, (gid_t g),
	{ return sc_setfsgid(g); })
SC_EXPORT(int, capset, (void *hdr, void *data),
	{ return sc_capset(hdr, data); })

/* syscall(2): six register-sized arguments whatever the call takes, as
 * the kernel reads them; only credential changes are looked at. */
SC_EXPORT(long, syscall, (long n, ...),
	{ long a[6]; SYSCALL_ARGS(n, a); return sc_syscall(n, a); })
