/* real.c - resolve libc's own functions once. */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct real_fns real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

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
	void *self = self_base();

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
	LOAD(mmap, "mmap");
	LOAD(munmap, "munmap");
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
	LOAD(syscall, "syscall");
}

void real_init(void)
{
	pthread_once(&real_once, real_resolve);
}
