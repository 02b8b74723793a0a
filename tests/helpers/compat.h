/* tests/helpers/compat.h - what the helper programs use that glibc has
 * and musl (Debian 12's 1.2.3) has not: they are built with both (make
 * CC=musl-gcc). */
#ifndef SC_TESTS_COMPAT_H
#define SC_TESTS_COMPAT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __GLIBC__
#define errno_name strerrorname_np
#else
/* The errno names the tests compare; others as "E<number>". */
static inline const char *errno_name(int e)
{
	static char other[16];

	switch (e) {
	case EPERM: return "EPERM";             case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";             case EIO: return "EIO";
	case ENXIO: return "ENXIO";             case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";           case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";           case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";           case EXDEV: return "EXDEV";
	case ENOTDIR: return "ENOTDIR";         case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";           case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";           case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";             case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";           case EROFS: return "EROFS";
	case EPIPE: return "EPIPE";             case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";           case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";             case EOVERFLOW: return "EOVERFLOW";
	case ENOTSOCK: return "ENOTSOCK";       case EOPNOTSUPP: return "EOPNOTSUPP";
	case ECONNRESET: return "ECONNRESET";   case ENOTCONN: return "ENOTCONN";
	}
	snprintf(other, sizeof(other), "E%d", e);
	return other;
}

/* What a musl program calls: the system call. */
static inline int close_range(unsigned lo, unsigned hi, int flags)
{
	return (int)syscall(SYS_close_range, lo, hi, flags);
}

static inline void closefrom(int lo)
{
	syscall(SYS_close_range, (unsigned)lo, ~0U, 0);
}
#endif

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)        /* linux/fs.h */
#endif

#endif
