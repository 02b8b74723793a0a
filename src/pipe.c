/* pipe.c - tee + splice from a cached pipe, through a per-thread scratch
 * pipe. */
#define _GNU_SOURCE
#include "pipe.h"
#include "fdtab.h"
#include "config.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* The thread's scratch pipe and its size; created at first use, closed
 * when the thread exits. A cached pipe holds at most pipe-max-size, so a
 * scratch pipe of that size takes any of them. */
static __thread int scratch[2] = { -1, -1 };
static __thread size_t scratch_size;
static pthread_key_t scratch_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void scratch_close(void)
{
	if (scratch[0] < 0)
		return;
	fdtab_set(scratch[0], FD_UNKNOWN, NULL);
	fdtab_set(scratch[1], FD_UNKNOWN, NULL);
	real.close(scratch[0]);
	real.close(scratch[1]);
	scratch[0] = scratch[1] = -1;
	scratch_size = 0;
}

static void thread_gone(void *unused)
{
	(void)unused;
	scratch_close();
}

static void make_key(void)
{
	pthread_key_create(&scratch_key, thread_gone);
}

/* A scratch pipe with room for n bytes of whole pages, or false. */
static bool scratch_get(size_t n)
{
	int size;

	if (scratch[0] >= 0 && scratch_size >= n)
		return true;
	scratch_close();
	if (real.pipe2(scratch, O_CLOEXEC | O_NONBLOCK) < 0) {
		scratch[0] = scratch[1] = -1;
		return false;
	}
	fdtab_set(scratch[0], FD_OURS, NULL);
	fdtab_set(scratch[1], FD_OURS, NULL);
	size = real.fcntl(scratch[1], F_SETPIPE_SZ, (int)n);
	if (size < 0 || (size_t)size < n) {
		scratch_close();
		return false;
	}
	scratch_size = (size_t)size;
	pthread_once(&key_once, make_key);
	pthread_setspecific(scratch_key, scratch);
	return true;
}

ssize_t pipe_send(int out, int src, size_t n)
{
	ssize_t t, r;
	int saved = errno;

	/* A page more than the bytes: tee duplicates whole buffers. */
	if (!scratch_get(n + PIPE_PAGE))
		goto decline;
	t = tee(src, scratch[1], n, SPLICE_F_NONBLOCK);
	if (t != (ssize_t)n) {
		scratch_close();
		goto decline;
	}
	/* Blocking or not as the socket is, like sendfile. */
	r = splice(scratch[0], NULL, out, NULL, n, 0);
	if (r != (ssize_t)n) {
		saved = errno;
		scratch_close();        /* drop what the socket did not take */
		errno = saved;
	}
	return r;
decline:
	errno = saved;
	return -2;
}

void pipe_after_fork(void)
{
	/* The descriptors are the parent's pipe too: close ours of it (the
	 * parent keeps its own), so the two never mix bytes. */
	scratch_close();
}

/* Largest pipe an unprivileged process may ask for (fs.pipe-max-size),
 * read once; root could go beyond it, but should not be different. */
static size_t pipe_max_size(void)
{
	static size_t max;
	char buf[32];
	ssize_t n;
	int fd;

	if (max)
		return max;
	max = 1 << 20;
	fd = real.openat(AT_FDCWD, "/proc/sys/fs/pipe-max-size", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = real.read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			max = strtoul(buf, NULL, 10);
		}
		real.close(fd);
	}
	return max;
}

bool pipe_fits(size_t size)
{
	/* One page of room beyond the file: the pipe's buffers are whole
	 * pages, and the scratch pipe it is teed into has the same size. */
	return size > 0 && size <= config.pipe_max &&
	       size + PIPE_PAGE <= pipe_max_size();
}
