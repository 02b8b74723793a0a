/* rawsys.h - a system call made without libc: for what must not go
 * through a name the library exports (syscall, fstatat...) or that libc
 * may lack, and before libc's functions are resolved. */
#ifndef SC_RAWSYS_H
#define SC_RAWSYS_H

#include <errno.h>

/* syscall(2) straight to the kernel. Returns -1 with errno set on error;
 * ENOSYS on an architecture this does not know. */
static inline long raw_syscall(long n, long a1, long a2, long a3, long a4,
				 long a5, long a6)
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

#endif
