/* real.c - resolve libc's own functions once. */
#define _GNU_SOURCE
#include "real.h"
#include "rawsys.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* The stand-ins (calls_def.h): ENOSYS, nothing for a function that
 * returns nothing (closefrom sets no errno), or the system call itself. */
#define MISSING_ERR(ret, name, params) \
	static ret missing_##name params { errno = ENOSYS; return -1; }
#define MISSING_NULLPTR(ret, name, params) \
	static ret missing_##name params { errno = ENOSYS; return NULL; }
#define MISSING_VOID(ret, name, params) \
	static ret missing_##name params { }
#define MISSING_RAW(ret, name, params)
#define SC_REAL(ret, name, params, missing) MISSING_##missing(ret, name, params)
#define SC_EXPORT(...)
#include "calls_def.h"
#undef SC_REAL

static void *missing_mmap(void *addr, size_t len, int prot, int flags, int fd,
			  off_t off)
{
	return (void *)raw_syscall(SYS_mmap, (long)addr, (long)len, prot,
					flags, fd, off);
}

static int missing_munmap(void *addr, size_t len)
{
	return (int)raw_syscall(SYS_munmap, (long)addr, (long)len, 0, 0,
				     0, 0);
}

/* Six register-sized arguments, as the kernel reads them. */
static long missing_syscall(long n, ...)
{
	long a[6];

	SYSCALL_ARGS(n, a);
	return raw_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

#define SC_REAL(ret, name, params, missing) .name = missing_##name,
const struct real_fns real_missing = {
#include "calls_def.h"
};
struct real_fns real = {
#include "calls_def.h"
};
#undef SC_REAL

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

/* Sets *slot to libc's name, or leaves its stand-in. */
static void load(void **slot, const char *name, void *self)
{
	void *p = load_sym(name, self);

	if (p)
		*slot = p;
}

static void real_resolve(void)
{
	void *self;

	resolving = true;
	self = self_base();
	/* In the list's order: mmap, munmap and syscall first, what another
	 * library may call back into while dlsym runs. */
#define SC_REAL(ret, name, params, missing) \
	load((void **)&real.name, #name, self);
#include "calls_def.h"
#undef SC_REAL
#undef SC_EXPORT
	__atomic_store_n(&real_ready, true, __ATOMIC_RELEASE);
	resolving = false;
}

void real_init(void)
{
	if (!resolving)
		pthread_once(&real_once, real_resolve);
}

