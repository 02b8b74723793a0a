/* fdtab.c - the per-process fd table. */
#define _GNU_SOURCE
#include "fdtab.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* A server can raise its soft limit up to the hard one, so size for the
 * hard limit, capped: 1M slots of 32 bytes is 32 MiB of address space, of
 * which only the pages of numbers in use are ever touched. */
#define FDTAB_MAX_SLOTS (1 << 20)

struct fd_slot *fdtab;
int fdtab_size;
static const struct fdtab_ops *ops;

bool fdtab_init(const struct fdtab_ops *o)
{
	struct rlimit rl;
	size_t n = 65536;
	void *p;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		n = rl.rlim_max == RLIM_INFINITY ? FDTAB_MAX_SLOTS : rl.rlim_max;
		if (n < rl.rlim_cur && rl.rlim_cur != RLIM_INFINITY)
			n = rl.rlim_cur;
		if (n > FDTAB_MAX_SLOTS)
			n = FDTAB_MAX_SLOTS;
	}
	p = real.mmap(NULL, n * sizeof(struct fd_slot), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	fdtab = p;
	fdtab_size = (int)n;
	ops = o;
	return true;
}

bool fdtab_lazy;

int fdtab_base = 3;

void fdtab_set_base(size_t budget)
{
	struct rlimit rl;
	size_t want = budget + FDTAB_SPARE, top;

	/* The kernel's table grows to the power of two above the highest
	 * number (8 bytes a slot) and fork copies it up to there: FDTAB_TOP
	 * (256 KiB), which a full cache of 16,384 descriptors from 1024 up
	 * cost too, or twice a larger budget. */
	top = want * 2 > FDTAB_TOP ? want * 2 : FDTAB_TOP;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < top)
		top = rl.rlim_cur;
	if (top > (size_t)fdtab_size)
		top = (size_t)fdtab_size;
	/* A budget that does not fit under the top (a limit raised past the
	 * hard one seen at start, a tiny one) gets the upper half: never the
	 * low numbers, the server's. */
	fdtab_base = top > want * 2 ? (int)(top - want) : (int)(top / 2);
	if (fdtab_base < 3)
		fdtab_base = 3;
}

int fdtab_dup_high(int fd)
{
	return real.fcntl(fd, F_DUPFD_CLOEXEC, fdtab_base);
}

/* Nothing known of the number: a fresh slot's state. */
static bool clean(const struct fd_slot *s)
{
	return s->kind == FD_UNKNOWN && !s->ino && !s->pos && !s->adopted &&
	       !s->hold && !s->corked;
}

void fdtab_born(int fd, int kind)
{
	struct fd_slot *s = fdtab_get(fd);

	if (!s)
		return;
	if (fdtab_is_cache(s))
		ops->lost(fd, s);
	if (s->hold || s->corked)       /* send keeps something for it */
		ops->send_end(fd, s, false);
	if (__atomic_load_n(&fdtab_lazy, __ATOMIC_RELAXED) && clean(s))
		return;         /* left unknown: send asks the kernel if need be */
	fdtab_mark(s, kind, NULL);
}

void fdtab_closing(int fd, struct fd_slot *s)
{
	if (fdtab_is_cache(s)) {
		ops->lost(fd, s);
		return;
	}
	if (s->hold || s->corked)
		ops->send_end(fd, s, true);
	if (!clean(s))          /* not written when it need not be */
		fdtab_mark(s, FD_UNKNOWN, NULL);
}

void fdtab_closing_range(unsigned lo, unsigned hi)
{
	unsigned fd;

	for (fd = lo; fd <= hi && fd < (unsigned)fdtab_size; fd++) {
		struct fd_slot *s = &fdtab[fd];

		if (s->kind != FD_UNKNOWN || s->hold)
			fdtab_closing((int)fd, s);
	}
}

int fdtab_classify(int fd, struct fd_slot *s)
{
	int v = 0, saved = errno;
	socklen_t len = sizeof(v);

	s->kind = FD_OTHER;
	if (real.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 &&
	    v == IPPROTO_TCP) {
		len = sizeof(v);
		if (real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 &&
		    (v == AF_INET || v == AF_INET6))
			s->kind = FD_TCP;
	}
	errno = saved;
	return s->kind;
}

/* The size of this process's table of descriptors in the kernel, which
 * only grows: every number it ever held is below it. fdtab_size if it
 * cannot be read. */
static int kernel_table_size(void)
{
	char buf[2048], *p;
	ssize_t n;
	int fd, size = 0;

	fd = real.openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fdtab_size;
	n = real.read(fd, buf, sizeof(buf) - 1);
	real.close(fd);
	if (n <= 0)
		return fdtab_size;
	buf[n] = 0;
	if (!(p = strstr(buf, "\nFDSize:")) || sscanf(p + 8, "%d", &size) != 1 ||
	    size <= 0 || size > fdtab_size)
		return fdtab_size;
	return size;
}

void fdtab_after_fork(void)
{
	int i, n = kernel_table_size();

	for (i = 0; i < n; i++) {
		struct fd_slot *s = &fdtab[i];

		/* Held bytes are the parent's to send: forgotten, not freed
		 * (a hold may be shared by duplicates), once per child. */
		if (s->kind < FD_HANDED &&
		    (s->kind || s->corked || s->hlock || s->hold))
			memset(s, 0, sizeof(*s));
	}
}
