/* engine.c - one implementation per family of interposed calls.
 *
 * Each function answers from the cache or the send engine when it can and
 * otherwise makes the real call with the caller's arguments untouched.
 * Every descriptor a call hands back passes through fdtab_born(), which is how a
 * number we thought we owned, closed behind our back and reused, is found
 * out (DESIGN.md §3.6).
 */
#define _GNU_SOURCE
#include "engine.h"
#include "engine_in.h"
#include "cache.h"
#include "config.h"
#include "fdtab.h"
#include "fmaps.h"
#include "mem.h"
#include "pipe.h"
#include "real.h"
#include "send.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int sc_state = SC_UNINIT;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Set while this thread runs do_init(): a call that init itself makes
 * through an interposed name (a library function calling close, say) goes
 * straight to libc instead of waiting on the init it is part of. */
static __thread bool in_init;

/* A forked child is asleep: its calls go to libc as if sendcache were off
 * and nothing of ours is written in it, until it acts as a server process
 * does: it waits (a blocking point), forks, runs a new thread, changes
 * credentials, maps a file, or calls on a descriptor of the cache's or a
 * socket we hold bytes or a cork for. A child that serves one
 * connection and exits (busybox httpd) never wakes: each page of ours it
 * wrote would be copied from its parent at every fork, 13 us a page on a
 * small VM, more than anything the cache could save it (README, "Servers"; CHANGES.md).
 * Kept per thread, in memory a fork writes anyway: after fork the child
 * runs only the forking thread, and any other thread wakes the process at
 * its first call. */
__thread uint8_t thread_state;

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

/* What the end of a descriptor means to the cache and to send. */
static const struct fdtab_ops fd_ops = {
	.lost = cache_lost,
	.send_end = send_end,
};

static void do_init(void)
{
	in_init = true;
	real_init();
	config_load();
	if (config.disabled || !REAL_HAS(openat) || !REAL_HAS(close) ||
	    !REAL_HAS(fcntl) || !REAL_HAS(sendmsg) || !REAL_HAS(mmap) ||
	    !REAL_HAS(munmap) || !fdtab_init(&fd_ops) || !cache_init()) {
		sc_state = SC_OFF;
		in_init = false;
		return;
	}
	stats_init();
	ctl_init();
	if (config.prewarm[0])
		cache_prewarm();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	thread_state = T_AWAKE;
	sc_state = SC_ON;
	in_init = false;
}

void sc_init(void)
{
	pthread_once(&init_once, do_init);
}

/* A call on fd wakes a sleeping child: the descriptor is the cache's, or
 * a socket whose bytes or cork we keep. */
SC_CHILD_TEXT static bool wakes(int fd)
{
	struct fd_slot *s = fdtab_get(fd);

	return s && (fdtab_is_cache(s) || send_tracks(s));
}

/* This thread's first call, or one of a sleeping child's that must wake
 * it: the forking thread's own leftovers go (its pipe, its held sends are
 * its parent's), then the process's (cache_wake, once). The call it comes
 * from is forwarded next and must find errno as the caller left it. */
static void wake(void)
{
	int saved = errno;

	if (thread_state == T_ASLEEP) {
		pipe_after_fork();
		send_after_fork();
	}
	cache_wake();
	thread_state = T_AWAKE;
	errno = saved;
}

/* on() and kin when this thread is not awake: starts sendcache, wakes
 * (always if force, else if fd1 or fd2 wakes), or says to pass. */
SC_CHILD_TEXT bool on_slow(bool force, int fd1, int fd2)
{
	if (thread_state != T_AWAKE) {
		if (sc_state == SC_UNINIT) {
			if (in_init)
				return false;
			sc_init();
		}
		if (sc_state != SC_ON)
			return false;
		if (thread_state == T_ASLEEP && !force && !wakes(fd1) &&
		    !wakes(fd2))
			return false;
		wake();
	}
	if (ctl_changed())
		ctl_notice();
	return true;
}

static bool fork_locks;  /* the locks are held across this fork */

/* fork(2): the parent lets no bytes of this thread wait in user space
 * and readies the cache; the child goes to sleep. A sleeping child that
 * forks wakes first: it is a server's parent (nginx's master after it
 * daemonized), not a child serving one connection. */
static void fork_prepare(void)
{
	bool locks;

	if (!on_wake())
		return;
	send_flush_thread();
	/* Written only when it changes: each page the parent writes after
	 * a fork is one more fault (its fork made the page read-only). */
	locks = !cache_fork_alone();
	if (fork_locks != locks)
		fork_locks = locks;
	ctl_fork_prepare();
	cache_fork_prepare();   /* may free: before mem's lock */
	stats_fork_prepare();
	mem_fork_prepare();
}

static void fork_parent(void)
{
	if (thread_state == T_AWAKE) {
		mem_fork_parent();
		cache_fork_parent();
		ctl_fork_parent();
	}
}

/* The child of a process of one thread runs only this of ours, in this
 * file: each other page of the library's code it ran would be one more
 * fault (the kernel maps code anew in a child as it runs it). */
SC_CHILD_TEXT static void fork_child(void)
{
	if (thread_state != T_AWAKE)
		return;
	if (fork_locks) {
		mem_fork_child();
		cache_fork_child();
		ctl_fork_child();
	}
	thread_state = T_ASLEEP;
}

__attribute__((constructor)) static void sc_ctor(void)
{
	sc_init();
}

__attribute__((destructor)) static void sc_dtor(void)
{
	/* A child that slept through its life has nothing of ours to end. */
	if (sc_state != SC_ON ||
	    (thread_state != T_AWAKE && !cache_awake()))
		return;
	send_flush_thread();
	if (config.stats_file[0])
		stats_dump_file();
	stats_exit();
}

static bool absolute_or_cwd(int dirfd, const char *path)
{
	return path && (dirfd == AT_FDCWD || path[0] == '/');
}

/* Set once a thread of several changed its own credentials only
 * (setfsuid, capset, a raw setuid...): what one thread may open another
 * may not, and the cache is the process's, so paths are no longer
 * answered from it. */
bool creds_per_thread;

/* True if a lookup of path may be answered from the cache. Paused
 * (sendcache-ctl pause), none may, and the call costs what it does
 * without sendcache. */
static bool cacheable_path(int dirfd, const char *path)
{
	if (ctl_is_paused()) {
		STAT_INC(pass_paused);
		return false;
	}
	return absolute_or_cwd(dirfd, path) &&
	       !__atomic_load_n(&creds_per_thread, __ATOMIC_ACQUIRE);
}

/* open and stat through the cache keep their path (struct cache_key,
 * PATH_MAX) in a frame of their own, not in the exported call's: a call
 * that passes (a forked child asleep) then runs libc's 4 KiB higher on the
 * stack, on pages the fork copied already, not on one more it must copy
 * (a page fault, 30-40 us on a small VM: t4012). */
static __attribute__((noinline)) int openat_on(int dirfd, const char *path,
					       int flags, mode_t mode)
{
	struct cache_key k;
	bool cacheable;
	int fd;

	k.state = CACHE_KEY_UNSET;
	if ((cacheable = cacheable_path(dirfd, path))) {
		fd = cache_open(&k, path, flags);
		if (fd >= 0)
			return fd;
		if (fd == CACHE_FAIL)
			return -1;
	}
	do
		fd = REAL.openat(dirfd, path, flags, mode);
	while (emfile_again(fd));
	if (fd >= 0)
		fdtab_born(fd, FD_OTHER);
	if (cacheable)
		fd = cache_opened(&k, path, flags, fd);
	return fd;
}

int sc_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	if (!on())
		return REAL.openat(dirfd, path, flags, mode);
	return openat_on(dirfd, path, flags, mode);
}

int sc_close(int fd)
{
	struct fd_slot *s = fdtab_get(fd);

	if (!s || !on_fd(fd, -1))
		return REAL.close(fd);
	switch (s->kind) {
	case FD_HANDED:
		return cache_close(fd, s);
	case FD_POOL:
	case FD_OURS:
		/* Not open as far as the server can know. */
		errno = EBADF;
		return -1;
	}
	fdtab_closing(fd, s);
	return REAL.close(fd);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)   /* linux/close_range.h; not in musl */
#endif

/* Where libc lacks them, nothing is closed: nothing is forgotten. */
int sc_close_range(unsigned lo, unsigned hi, int flags)
{
	if (REAL_HAS(close_range) && on_wake() && !(flags & CLOSE_RANGE_CLOEXEC))
		fdtab_closing_range(lo, hi);
	return REAL.close_range(lo, hi, flags);
}

void sc_closefrom(int lo)
{
	if (REAL_HAS(closefrom) && on_wake() && lo >= 0)
		fdtab_closing_range((unsigned)lo, UINT_MAX);
	REAL.closefrom(lo);
}

/* stat of a name the cache may answer (openat_on: a frame of its own). */
static __attribute__((noinline)) int fstatat_on(int dirfd, const char *path,
						struct stat *st, int flags)
{
	struct cache_key k;
	int rc;

	/* Not "= { ... }": that would clear all of k.abs. */
	k.state = CACHE_KEY_UNSET;
	rc = cache_stat(&k, path, st, (flags & AT_SYMLINK_NOFOLLOW) != 0);
	if (rc == 0)
		return 0;
	if (rc == CACHE_FAIL)
		return -1;
	rc = REAL.fstatat(dirfd, path, st, flags);
	if (rc < 0 && flags == 0)
		cache_failed(&k, path, errno);
	return rc;
}

int sc_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (path && path[0] == 0 && (flags & AT_EMPTY_PATH) && on_fd(dirfd, -1))
		return sc_fstat(dirfd, st);
	if (on() && cacheable_path(dirfd, path) && !(flags & ~AT_SYMLINK_NOFOLLOW))
		return fstatat_on(dirfd, path, st, flags);
	return REAL.fstatat(dirfd, path, st, flags);
}

int sc_fstat(int fd, struct stat *st)
{
	struct fd_slot *s = fdtab_get(fd);

	if (!s || !on_fd(fd, -1))
		return REAL.fstat(fd, st);
	if (s->kind == FD_HANDED && cache_fstat(s, st) == 0)
		return 0;
	if (s->kind == FD_POOL || s->kind == FD_OURS) {
		errno = EBADF;
		return -1;
	}
	return REAL.fstat(fd, st);
}

int sc_xstat_version(int ver)
{
	/* _STAT_VER_KERNEL and _STAT_VER_LINUX on x86_64, as glibc checks. */
	if (ver == 0 || ver == 1)
		return 0;
	errno = EINVAL;
	return -1;
}

ssize_t sc_sendfile(int out, int in, off_t *off, size_t count)
{
	struct fd_slot *is = fdtab_get(in), *os;

	if (!on_fd(out, in))
		return REAL.sendfile(out, in, off, count);
	/* The call that tells a server looping until 0 (busybox httpd) that
	 * the file is done: the kernel would send nothing and say 0. */
	if (is && is->kind == FD_HANDED && (os = send_tcp_slot(out)) != NULL &&
	    !send_holds(os) && cache_at_eof(is, off ? *off : is->pos)) {
		STAT_INC(sendfile_eof);
		return 0;
	}
	return send_sendfile(out, in, off, count);
}

/* Flags the engine can hold or merge; anything else (MSG_OOB,
 * MSG_ZEROCOPY, MSG_FASTOPEN, ...) flushes and goes to the kernel. */
#define PLAIN_FLAGS (MSG_MORE | MSG_NOSIGNAL | MSG_DONTWAIT)

/* The TCP slot of fd if the engine may take a write with these flags;
 * otherwise flushes what fd holds and returns NULL. */
static struct fd_slot *offerable(int fd, int flags, bool plain)
{
	struct fd_slot *s;

	if (!on_fd(fd, -1) || !(s = send_tcp_slot(fd)))
		return NULL;
	if (plain && !(flags & ~PLAIN_FLAGS))
		return s;
	send_flush_fd(fd, s);
	return NULL;
}

ssize_t sc_write(int fd, const void *buf, size_t n)
{
	struct iovec v = { (void *)buf, n };
	struct fd_slot *s = offerable(fd, 0, true);
	ssize_t r;

	if (s && send_offer(fd, s, &v, 1, 0, &r))
		return r;
	return REAL.write(fd, buf, n);
}

ssize_t sc_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct fd_slot *s = offerable(fd, 0, iovcnt > 0 && iovcnt <= IOV_MAX);
	ssize_t r;

	if (s && send_offer(fd, s, iov, iovcnt, 0, &r))
		return r;
	return REAL.writev(fd, iov, iovcnt);
}

ssize_t sc_sendto(int fd, const void *buf, size_t n, int flags,
		  const struct sockaddr *to, socklen_t tolen)
{
	struct iovec v = { (void *)buf, n };
	struct fd_slot *s = offerable(fd, flags, to == NULL);
	ssize_t r;

	if (s && send_offer(fd, s, &v, 1, flags, &r))
		return r;
	return REAL.sendto(fd, buf, n, flags, to, tolen);
}

ssize_t sc_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	bool plain = msg && !msg->msg_name && !msg->msg_controllen &&
		     msg->msg_iovlen > 0 && msg->msg_iovlen <= IOV_MAX;
	struct fd_slot *s = offerable(fd, flags, plain);
	ssize_t r;

	if (s && send_offer(fd, s, msg->msg_iov, (int)msg->msg_iovlen, flags, &r))
		return r;
	return REAL.sendmsg(fd, msg, flags);
}

/* Before the server reads from a socket, what it wrote must be out.
 * Returns true (errno set) if the read must fail with the connection's
 * error, which that flush took from the kernel. */
static bool before_read(int fd)
{
	struct fd_slot *s = fdtab_get(fd);

	if (!s || !send_has_hold(s))
		return false;
	send_flush_fd(fd, s);
	return send_take_error(s);
}

ssize_t sc_read(int fd, void *buf, size_t n)
{
	struct fd_slot *s = fdtab_get(fd);
	ssize_t r;

	if (!on_fd(fd, -1))
		return REAL.read(fd, buf, n);
	if (s && s->kind == FD_HANDED) {
		r = cache_pread(s, buf, n, s->pos);
		if (r < 0)
			r = REAL.pread(fd, buf, n, s->pos);
		if (r > 0)
			s->pos += r;
		return r;
	}
	if (before_read(fd))
		return -1;
	return REAL.read(fd, buf, n);
}

ssize_t sc_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct fd_slot *s = fdtab_get(fd);
	ssize_t r;

	if (!on_fd(fd, -1))
		return REAL.readv(fd, iov, iovcnt);
	if (s && s->kind == FD_HANDED && REAL_HAS(preadv)) {
		r = REAL.preadv(fd, iov, iovcnt, s->pos);
		if (r > 0)
			s->pos += r;
		return r;
	}
	if (before_read(fd))
		return -1;
	return REAL.readv(fd, iov, iovcnt);
}

ssize_t sc_recvfrom(int fd, void *buf, size_t n, int flags,
		    struct sockaddr *from, socklen_t *fromlen)
{
	if (on_fd(fd, -1) && before_read(fd))
		return -1;
	return REAL.recvfrom(fd, buf, n, flags, from, fromlen);
}

ssize_t sc_recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (on_fd(fd, -1) && before_read(fd))
		return -1;
	return REAL.recvmsg(fd, msg, flags);
}

ssize_t sc_pread(int fd, void *buf, size_t n, off_t off)
{
	struct fd_slot *s = fdtab_get(fd);
	ssize_t r;

	if (s && on_fd(fd, -1) && s->kind == FD_HANDED &&
	    (r = cache_pread(s, buf, n, off)) >= 0)
		return r;
	return REAL.pread(fd, buf, n, off);
}

/* mmap and munmap are called before our constructor (the dynamic
 * loader's own are internal, but other libraries' constructors and our
 * own set-up are not): they never start sendcache, and reach the kernel
 * even before libc's names are resolved (real.h's stand-ins). */
void *sc_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	bool file = fd >= 0 && !(flags & MAP_ANONYMOUS);
	struct fd_slot *s;
	void *p = NULL;

	/* A sleeping child that maps a file wakes: its mapping must be
	 * recorded (fmaps.h) before any send of ours may look at it. */
	if (file && sc_state == SC_ON)
		on_wake();
	/* What a server does to map a file it sends (Apache): the whole
	 * file, read-only, anywhere. Anything else is the kernel's. */
	if (fd >= 0 && sc_state == SC_ON && !addr && prot == PROT_READ &&
	    off == 0 && (flags == MAP_SHARED || flags == MAP_PRIVATE) &&
	    (s = fdtab_get(fd)) != NULL && s->kind == FD_HANDED)
		p = cache_mmap(s, len);
	if (!p)
		p = REAL.mmap(addr, len, prot, flags, fd, off);
	/* A mapping of a file, the cache's or the kernel's: its bytes are
	 * for the kernel to read (fmaps.h). */
	if (p != MAP_FAILED && file && sc_state != SC_OFF)
		fmaps_add(p, len);
	return p;
}

int sc_munmap(void *addr, size_t len)
{
	/* Records go before the mapping does: once it is gone, a new
	 * mapping may take its addresses and must keep its own record. */
	if (__atomic_load_n(&cache_maps_out, __ATOMIC_RELAXED) > 0 &&
	    sc_state == SC_ON && on_wake()) {
		fmaps_remove(addr, len);
		if (cache_munmap(addr, len))
			return 0;
	}
	if (sc_state != SC_OFF)
		fmaps_unmapping(addr, len);
	return REAL.munmap(addr, len);
}

off_t sc_lseek(int fd, off_t off, int whence)
{
	struct fd_slot *s = fdtab_get(fd);
	off_t base;

	if (!s || !on_fd(fd, -1) || s->kind != FD_HANDED)
		return REAL.lseek(fd, off, whence);
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = s->pos;
		break;
	case SEEK_END:
		if (!__atomic_load_n(&s->ino->stale, __ATOMIC_ACQUIRE)) {
			base = s->ino->st.st_size;
			break;
		}
		/* fall through */
	default:
		/* SEEK_DATA, SEEK_HOLE, a stale size: ask the kernel on a
		 * descriptor of the server's own. */
		if (cache_detach(fd, s) < 0)
			return -1;
		return REAL.lseek(fd, off, whence);
	}
	if ((off > 0 && base > LLONG_MAX - off) || base + off < 0) {
		errno = off > 0 ? EOVERFLOW : EINVAL;
		return -1;
	}
	s->pos = base + off;
	return s->pos;
}

int sc_setsockopt(int fd, int level, int opt, const void *val, socklen_t len)
{
	struct fd_slot *s;

	/* A cork a sleeping child set in the kernel would outlive its
	 * waking, when corks are ours to keep: it wakes first. */
	if (level != IPPROTO_TCP || (opt != TCP_CORK && opt != TCP_ULP &&
				     opt != TCP_NODELAY) || !on_wake())
		return REAL.setsockopt(fd, level, opt, val, len);
	if ((opt == TCP_CORK || opt == TCP_ULP) &&
	    val && (s = send_tcp_slot(fd)) != NULL) {
		if (opt == TCP_CORK && len >= (socklen_t)sizeof(int)) {
			if (!send_cork_here(s))
				return send_kernel_cork(fd, s,
							*(const int *)val != 0);
			send_cork(fd, s, *(const int *)val != 0);
			return 0;
		}
		/* kTLS: the kernel encrypts from here on; leave it alone. */
		send_flush_fd(fd, s);
		if (opt == TCP_ULP)
			fdtab_mark(s, FD_OTHER, NULL);
	}
	if (opt == TCP_NODELAY && val &&
	    len >= (socklen_t)sizeof(int) && (s = send_tcp_slot(fd)) != NULL)
		send_nodelay(s, *(const int *)val != 0);
	return REAL.setsockopt(fd, level, opt, val, len);
}

int sc_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	struct fd_slot *s;
	int v;

	if (level == IPPROTO_TCP && val && len &&
	    (opt == TCP_CORK || opt == TCP_NODELAY) && on_fd(fd, -1) &&
	    (s = send_tcp_slot(fd)) != NULL && send_sockopt_kept(s, opt, &v)) {
		/* As the kernel does (do_tcp_getsockopt): the first
		 * min(*len, sizeof(int)) bytes of the int, that length back. */
		socklen_t n = *len < sizeof(int) ? *len : sizeof(int);

		memcpy(val, &v, n);
		*len = n;
		return 0;
	}
	return REAL.getsockopt(fd, level, opt, val, len);
}

int sc_shutdown(int fd, int how)
{
	struct fd_slot *s = fdtab_get(fd);

	/* Flushes first; an error it meets stays for the next call. */
	if (s && on_fd(fd, -1) && send_has_hold(s))
		send_flush_fd(fd, s);
	return REAL.shutdown(fd, how);
}

int sc_chdir(const char *path)
{
	int rc = REAL.chdir(path);

	if (rc == 0 && on())
		cache_chdir();
	return rc;
}

int sc_fchdir(int fd)
{
	int rc = REAL.fchdir(fd);

	if (rc == 0 && on())
		cache_chdir();
	return rc;
}

