/* preload.c - the exported libc names: one-line forwarders, no policy.
 *
 * Every spelling a server may import (open64, __open64_2, sendfile64,
 * the pre-2.33 __xstat family, ...) forwards to one implementation in
 * src/engine.c. The names and their bodies are src/calls_def.h's; only
 * they are exported (the version script is made from the same list).
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
#include "../src/real.h"           /* SYSCALL_ARGS */

/* Beside the engine functions they call: a forked child runs both. */
#define EXPORT __attribute__((visibility("default"))) SC_CHILD_TEXT

#ifdef __GLIBC__       /* (musl 1.2.4 and later have no stat64, off64_t) */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "stat and stat64 share one layout on this ABI");
_Static_assert(sizeof(off_t) == sizeof(off64_t), "64-bit off_t");
#endif

/* The mode argument exists only when the flags create a file (glibc's
 * test; other libcs do not spell it). */
#ifndef __OPEN_NEEDS_MODE
#define __OPEN_NEEDS_MODE(flags) \
	(((flags) & O_CREAT) != 0 || ((flags) & O_TMPFILE) == O_TMPFILE)
#endif

#define OPEN_MODE(flags, mode)                                  \
	do {                                                    \
		va_list ap;                                     \
		if (__OPEN_NEEDS_MODE(flags)) {                 \
			va_start(ap, flags);                    \
			mode = va_arg(ap, mode_t);              \
			va_end(ap);                             \
		}                                               \
	} while (0)

/* Every SC_EXPORT of the list, as an exported function. */
#define SC_REAL(...)
#define SC_EXPORT(ret, name, params, ...) EXPORT ret name params __VA_ARGS__
#include "../src/calls_def.h"
#undef SC_EXPORT
#undef SC_REAL
