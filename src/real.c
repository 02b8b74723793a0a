/* real.c - resolve libc's own functions once. */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct real_fns real;
bool real_ready;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* Set while this thread resolves: pthread_once called again from the same
 * thread would wait for itself. */
static __thread bool resolving;

/* Base address of this library, to refuse a lookup that lands on one of our
 * own functions (a second copy of us, or a broken RTLD_NEXT chain): calling
 * it would recurse forever. */
static void *self_base(void)
{
	Dl_info info;

	if (!dladdr((void *)real_init, &info))
		return NULL;
	return info.dli_fbase;
}

static void *load_sym(const char *name, void *self)
{
	Dl_info info;
	void *p = dlsym(RTLD_NEXT, name);

	if (p && self && dladdr(p, &info) && info.dli_fbase == self)
		return NULL;
	return p;
}

#define LOAD(field, name) \
	(*(void **)&real.field = load_sym(name, self))

static void real_resolve(void)
{
	void *self;

	resolving = true;
	self = self_base();
	/* What another library may call back into first, while dlsym runs. */
	LOAD(mmap, "mmap");
	LOAD(munmap, "munmap");
	LOAD(syscall, "syscall");
	LOAD(openat, "openat");
	LOAD(close, "close");
	LOAD(close_range, "close_range");
	LOAD(closefrom, "closefrom");
	LOAD(fstat, "fstat");
	LOAD(fstatat, "fstatat");
	LOAD(sendfile, "sendfile");
	LOAD(write, "write");
	LOAD(writev, "writev");
	LOAD(send, "send");
	LOAD(sendto, "sendto");
	LOAD(sendmsg, "sendmsg");
	LOAD(read, "read");
	LOAD(readv, "readv");
	LOAD(pread, "pread");
	LOAD(preadv, "preadv");
	LOAD(recv, "recv");
	LOAD(recvfrom, "recvfrom");
	LOAD(recvmsg, "recvmsg");
	LOAD(lseek, "lseek");
	LOAD(setsockopt, "setsockopt");
	LOAD(getsockopt, "getsockopt");
	LOAD(shutdown, "shutdown");
	LOAD(epoll_ctl, "epoll_ctl");
	LOAD(epoll_wait, "epoll_wait");
	LOAD(epoll_pwait, "epoll_pwait");
	LOAD(epoll_pwait2, "epoll_pwait2");
	LOAD(poll, "poll");
	LOAD(ppoll, "ppoll");
	LOAD(select, "select");
	LOAD(pselect, "pselect");
	LOAD(accept, "accept");
	LOAD(accept4, "accept4");
	LOAD(socket, "socket");
	LOAD(socketpair, "socketpair");
	LOAD(pipe, "pipe");
	LOAD(pipe2, "pipe2");
	LOAD(dup, "dup");
	LOAD(dup2, "dup2");
	LOAD(dup3, "dup3");
	LOAD(fcntl, "fcntl");
	LOAD(epoll_create, "epoll_create");
	LOAD(epoll_create1, "epoll_create1");
	LOAD(eventfd, "eventfd");
	LOAD(chdir, "chdir");
	LOAD(fchdir, "fchdir");
	LOAD(fdopen, "fdopen");
	LOAD(setuid, "setuid");
	LOAD(setgid, "setgid");
	LOAD(seteuid, "seteuid");
	LOAD(setegid, "setegid");
	LOAD(setreuid, "setreuid");
	LOAD(setregid, "setregid");
	LOAD(setresuid, "setresuid");
	LOAD(setresgid, "setresgid");
	LOAD(setgroups, "setgroups");
	LOAD(initgroups, "initgroups");
	LOAD(setfsuid, "setfsuid");
	LOAD(setfsgid, "setfsgid");
	LOAD(capset, "capset");
	__atomic_store_n(&real_ready, true, __ATOMIC_RELEASE);
	resolving = false;
}

void real_init(void)
{
	if (!resolving)
		pthread_once(&real_once, real_resolve);
}

long real_raw_syscall(long n, long a1, long a2, long a3, long a4, long a5,
		      long a6)
{
	long rc;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "=a"(rc)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;
	register long x4 __asm__("x4") = a5;
	register long x5 __asm__("x5") = a6;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	rc = x0;
#else
	(void)n, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6;
	rc = -ENOSYS;
#endif
	if (rc < 0 && rc > -4096) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}
