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
#include <stdarg.h>
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

/* One pointer per SC_REAL of calls_def.h. */
struct real_fns {
#define SC_REAL(ret, name, params, missing) ret (*name) params;
#define SC_EXPORT(...)
#include "calls_def.h"
#undef SC_EXPORT
#undef SC_REAL
};

/* The resolved functions. Never NULL: before real_init() has resolved
 * one, and for good where libc lacks it (or it resolves back into this
 * library), it is real_missing's stand-in (calls_def.h: ENOSYS, or the
 * system call itself). */
extern struct real_fns real;

/* The stand-ins. */
extern const struct real_fns real_missing;

/* Set once every pointer of real is resolved (or known missing). */
extern bool real_ready;

/* Resolves every pointer once (pthread_once). Safe to call from any thread,
 * any number of times, before or after our constructor ran. A call made
 * while this thread is resolving (dlsym running another library's malloc,
 * which maps memory through our mmap) returns at once: what is not yet
 * resolved is its stand-in to that caller. */
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

/* True if libc's name was found: real.name is not its stand-in. */
#define REAL_HAS(name) (REAL.name != real_missing.name)

/* In a function (long n, ...): its six register-sized arguments into a[],
 * as the kernel reads them whatever the call takes. */
#define SYSCALL_ARGS(n, a)                              \
	do {                                            \
		va_list ap_;                            \
		int i_;                                 \
		va_start(ap_, n);                       \
		for (i_ = 0; i_ < 6; i_++)              \
			(a)[i_] = va_arg(ap_, long);    \
		va_end(ap_);                            \
	} while (0)


#endif
