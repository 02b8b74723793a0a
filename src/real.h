/* real.h - libc's own functions, resolved once with dlsym(RTLD_NEXT).
 *
 * Every call sendcache makes on the server's behalf, or for itself, goes
 * through these pointers, never through the interposed names, so our own
 * opens and fstats can never recurse into the engine.
 */
#ifndef SC_REAL_H
#define SC_REAL_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

struct real_fns {
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	int (*fstat)(int, struct stat *);
	int (*fstatat)(int, const char *, struct stat *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*preadv)(int, const struct iovec *, int, off_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	off_t (*lseek)(int, off_t, int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*shutdown)(int, int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int,
			    const struct timespec *, const sigset_t *);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
		     const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
		       const struct timespec *, const sigset_t *);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*pipe)(int[2]);
	int (*pipe2)(int[2], int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*epoll_create)(int);
	int (*epoll_create1)(int);
	int (*eventfd)(unsigned, int);
	int (*chdir)(const char *);
	int (*fchdir)(int);
	FILE *(*fdopen)(int, const char *);
	int (*setuid)(uid_t);
	int (*setgid)(gid_t);
	int (*seteuid)(uid_t);
	int (*setegid)(gid_t);
	int (*setreuid)(uid_t, uid_t);
	int (*setregid)(gid_t, gid_t);
	int (*setresuid)(uid_t, uid_t, uid_t);
	int (*setresgid)(gid_t, gid_t, gid_t);
	int (*setgroups)(size_t, const gid_t *);
	int (*initgroups)(const char *, gid_t);
	int (*setfsuid)(uid_t);
	int (*setfsgid)(gid_t);
	int (*capset)(void *, void *);
	long (*syscall)(long, ...);
};

/* The resolved functions. Valid after real_init(); a symbol that cannot be
 * found (or that resolves back into this library) is left NULL and the
 * wrapper fails with ENOSYS instead of crashing the host. */
extern struct real_fns real;

/* Set once every pointer of real is resolved (or known missing). */
extern bool real_ready;

/* Resolves every pointer once (pthread_once). Safe to call from any thread,
 * any number of times, before or after our constructor ran. A call made
 * while this thread is resolving (dlsym running another library's malloc,
 * which maps memory through our mmap) returns at once: what is not yet
 * resolved is NULL to that caller. */
void real_init(void);

/* The entry points' view of real: resolved first if need be, so a call
 * made by another library's constructor before ours runs is forwarded,
 * not dropped on a NULL pointer. One load and a branch once resolved. */
static inline struct real_fns *real_need(void)
{
	if (__builtin_expect(!__atomic_load_n(&real_ready, __ATOMIC_ACQUIRE), 0))
		real_init();
	return &real;
}
#define REAL (*real_need())

/* syscall(2) straight to the kernel, for the few calls that must work
 * before libc's names are resolved (the library's own syscall, mmap and
 * munmap are interposed names). Returns -1 with errno set on error; ENOSYS
 * on an architecture this does not know. */
long real_raw_syscall(long n, long a1, long a2, long a3, long a4, long a5,
		      long a6);

#endif
