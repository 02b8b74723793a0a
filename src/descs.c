/* descs.c - calls that hand back descriptors (socket, pipe, dup, fcntl,
 * epoll_create, eventfd) or share one (fdopen): each new number passes
 * through fdtab_born(), which finds a number of ours closed behind our back and
 * reused; a cached descriptor about to be shared gets a description of
 * its own first; a call refused for the descriptor limit is made again
 * once the cache gave some back (emfile_again). */
#define _GNU_SOURCE
#include "engine.h"
#include "engine_in.h"
#include "cache.h"
#include "fdtab.h"
#include "real.h"
#include "send.h"

#include <errno.h>
#include <fcntl.h>

int sc_socket(int domain, int type, int proto)
{
	int fd;

	do
		fd = REAL.socket(domain, type, proto);
	while (emfile_again(fd));

	if (fd >= 0 && on())
		fdtab_born(fd, FD_UNKNOWN);
	return fd;
}

int sc_socketpair(int domain, int type, int proto, int sv[2])
{
	int rc;

	do
		rc = REAL.socketpair(domain, type, proto, sv);
	while (emfile_again(rc));

	if (rc == 0 && on()) {
		fdtab_born(sv[0], FD_UNKNOWN);
		fdtab_born(sv[1], FD_UNKNOWN);
	}
	return rc;
}

int sc_pipe2(int fds[2], int flags, int use_pipe2)
{
	int rc;

	do
		rc = use_pipe2 ? REAL.pipe2(fds, flags) : REAL.pipe(fds);
	while (emfile_again(rc));

	if (rc == 0 && on()) {
		fdtab_born(fds[0], FD_OTHER);
		fdtab_born(fds[1], FD_OTHER);
	}
	return rc;
}

/* A HANDED descriptor about to be duplicated or changed in ways we do not
 * model gets an open file description of its own first. */
static int own_description(int fd)
{
	struct fd_slot *s = fdtab_get(fd);

	if (s && s->kind == FD_HANDED)
		return cache_detach(fd, s);
	if (s && (s->kind == FD_POOL || s->kind == FD_OURS)) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

/* The kind a duplicate of fd starts with: the same socket or file. */
static int kind_of(int fd)
{
	struct fd_slot *s = fdtab_get(fd);

	return s && (s->kind == FD_TCP || s->kind == FD_OTHER) ? s->kind
							       : FD_UNKNOWN;
}

int sc_dup(int fd)
{
	int nfd;

	if (on_fd(fd, -1) && own_description(fd) < 0)
		return -1;
	do
		nfd = REAL.dup(fd);
	while (emfile_again(nfd));
	if (nfd >= 0 && on())
		fdtab_born(nfd, kind_of(fd));
	return nfd;
}

int sc_dup3(int old, int new, int flags, int use_dup3)
{
	struct fd_slot *s = fdtab_get(new);
	int rc;

	if (on_fd(old, new)) {
		if (own_description(old) < 0)
			return -1;
		/* The kernel will close whatever is at new: if it is ours,
		 * forget it first so no one hands it out meanwhile. */
		if (s && old != new)
			fdtab_closing(new, s);
	}
	rc = use_dup3 ? REAL.dup3(old, new, flags) : REAL.dup2(old, new);
	if (rc >= 0 && on() && old != new)
		fdtab_born(rc, kind_of(old));
	return rc;
}

int sc_fcntl(int fd, int cmd, void *arg)
{
	struct fd_slot *s = fdtab_get(fd);
	int rc;

	if (s && on_fd(fd, -1) && s->kind == FD_HANDED) {
		switch (cmd) {
		case F_GETFD:
			return s->cloexec ? FD_CLOEXEC : 0;
		case F_SETFD:
			s->cloexec = ((long)arg & FD_CLOEXEC) != 0;
			return 0;
		case F_GETFL:
			return s->oflags;
		case F_SETFL:
		case F_DUPFD:
		case F_DUPFD_CLOEXEC:
			if (cache_detach(fd, s) < 0)
				return -1;
			break;
		}
	} else if (s && on() && (s->kind == FD_POOL || s->kind == FD_OURS)) {
		errno = EBADF;
		return -1;
	}
	do
		rc = REAL.fcntl(fd, cmd, arg);
	while ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && emfile_again(rc));
	if (rc >= 0 && on() && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fdtab_born(rc, FD_UNKNOWN);
	return rc;
}

int sc_epoll_create1(int flags, int size, int use_create1)
{
	int fd;

	do
		fd = use_create1 ? REAL.epoll_create1(flags) : REAL.epoll_create(size);
	while (emfile_again(fd));

	if (fd >= 0 && on())
		fdtab_born(fd, FD_OTHER);
	return fd;
}

int sc_eventfd(unsigned initval, int flags)
{
	int fd;

	do
		fd = REAL.eventfd(initval, flags);
	while (emfile_again(fd));

	if (fd >= 0 && on())
		fdtab_born(fd, FD_OTHER);
	return fd;
}

FILE *sc_fdopen(int fd, const char *mode)
{
	/* stdio reads through libc's internal read(), which we never see:
	 * the descriptor needs its own position in the kernel. */
	if (on_fd(fd, -1) && own_description(fd) < 0)
		return NULL;
	return REAL.fdopen(fd, mode);
}
