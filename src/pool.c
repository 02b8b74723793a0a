/* pool.c - the descriptors of a cached file: its master (the cache's
 * own), the spares of its pool, and those the server holds (HANDED):
 * handed out, taken back at close, found lost when the kernel reused the
 * number, detached when the server needs a description of its own. */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "fdtab.h"
#include "real.h"
#include "send.h"
#include "stats.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define POOL_MAX ((int)(sizeof(((struct cache_inode *)0)->pool) / sizeof(int)))

/* Closes a descriptor of ours and forgets it. */
void cache_drop_fd(int fd)
{
	fdtab_set(fd, FD_UNKNOWN, NULL);
	real.close(fd);
	cache_count(-1, 0);
}

/* A descriptor of ours for fd, from fdtab_base up (fdtab.h: why there),
 * or -1: the file then passes uncached rather than take a number the
 * server would have had. */
int cache_dup_high(int fd)
{
	int nfd = fdtab_dup_high(fd);

	if (nfd < 0 && errno == EINVAL) {
		/* The server lowered its soft limit under our base
		 * (lighttpd's server.max-fds): a budget and a base under
		 * the new one. */
		if (!cache_budget_reread())
			fdtab_set_base(config.max_fds);
		nfd = fdtab_dup_high(fd);
	}
	if (nfd >= 0 && !fdtab_get(nfd)) {
		real.close(nfd);
		return -1;
	}
	return nfd;
}

/* Marks s as a descriptor of ino the server holds, opened with flags. */
void pool_hand(struct fd_slot *s, struct cache_inode *ino, int flags,
	       bool adopted)
{
	fdtab_mark(s, FD_HANDED, ino);
	s->adopted = adopted;
	s->cloexec = (flags & O_CLOEXEC) != 0;
	/* What F_GETFL reports for a real open: the kernel adds O_LARGEFILE
	 * on 64-bit; O_CLOEXEC and O_NOCTTY are not status flags. */
	s->oflags = (flags & (O_ACCMODE | O_NONBLOCK)) | O_LARGEFILE;
	ino->handed++;
}

int pool_hand_out(struct cache_inode *ino, int flags)
{
	struct fd_slot *s;
	int fd;

	if (ino->nfree) {
		fd = ino->pool[--ino->nfree];
	} else if (ino->master >= 0 && !ino->master_out) {
		/* Our own descriptor, while the server holds no other: an
		 * entry costs one descriptor, not two (its dups share the
		 * open file description anyway). */
		fd = ino->master;
		ino->master_out = true;
	} else {
		if (ino->master < 0 || !cache_make_room(1, 0, ino)) {
			STAT_INC(open_full);
			return -1;
		}
		fd = cache_dup_high(ino->master);
		if (fd < 0)
			return -1;
		cache_count(1, 0);
		STAT_INC(fd_dup);
	}
	s = fdtab_get(fd);
	pool_hand(s, ino, flags, false);
	/* Mappings are not inherited across fork. A child in its first
	 * FORK_TRUST_MS may serve one request and exit (busybox httpd): a
	 * mapping would cost it mmap, madvise, page faults and their
	 * teardown at exit, more than the head + sendfile it saves. */
	if (!cache_map(ino) && !cache_forked)
		send_prepare(ino);
	return fd;
}

/* Our own descriptor for the file open at fd: a new open file description
 * through /proc (so no file status flag the server sets on its fd is
 * shared), or a dup where /proc is missing. */
int pool_open_master(int fd)
{
	char proc[32];
	int m, high;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	m = real.openat(AT_FDCWD, proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (m < 0)
		return cache_dup_high(fd);
	if (m >= fdtab_base)
		return m;
	high = cache_dup_high(m);
	real.close(m);
	return high;
}

int cache_fstat(struct fd_slot *s, struct stat *st)
{
	/* The server's descriptor keeps the inode alive and the snapshot
	 * never changes while it lives: no lock needed. */
	if (__atomic_load_n(&s->ino->stale, __ATOMIC_ACQUIRE))
		return -1;
	*st = s->ino->st;
	STAT_INC(stat_hit);
	return 0;
}

int cache_close(int fd, struct fd_slot *s)
{
	struct cache_inode *ino = s->ino;
	int rc = 0;

	cache_lock();
	ino->handed--;
	if (s->adopted) {
		fdtab_set(fd, FD_UNKNOWN, NULL);
		rc = real.close(fd);
		cache_release(ino);
	} else if (fd == ino->master) {
		ino->master_out = false;
		if (ino->stale) {
			ino->master = -1;
			cache_drop_fd(fd);
			cache_release(ino);
		} else {
			fdtab_set(fd, FD_OURS, ino);
			STAT_INC(close_kept);
		}
	} else if (!ino->stale && ino->nfree < POOL_MAX) {
		ino->pool[ino->nfree++] = fd;
		fdtab_set(fd, FD_POOL, ino);
		STAT_INC(close_kept);
	} else {
		cache_drop_fd(fd);
		cache_release(ino);
	}
	cache_unlock();
	return rc;
}

void cache_lost(int fd, struct fd_slot *s)
{
	struct cache_inode *ino = s->ino;
	int kind = s->kind, adopted = s->adopted, i;

	/* Bookkeeping only, so no poll: the inotify number may already name
	 * someone else's file, and inside a close_range a new instance would
	 * be closed with the rest. */
	pthread_mutex_lock(&cache_mutex);
	STAT_INC(fd_lost);
	fdtab_set(fd, FD_UNKNOWN, NULL);
	if (kind == FD_OURS && fd == watch_fd()) {
		watch_lost();
		cache_drop_all_locked();
		goto out;
	}
	if (!adopted)
		cache_count(-1, 0);
	if (!ino)
		goto out;
	if (kind == FD_POOL) {
		for (i = 0; i < ino->nfree; i++)
			if (ino->pool[i] == fd)
				ino->pool[i] = ino->pool[--ino->nfree];
		goto out;
	}
	if (kind == FD_HANDED)
		ino->handed--;
	if (fd == ino->master) {
		/* Frees ino if the server holds nothing else of it. */
		ino->master = -1;
		ino->master_out = false;
		if (!ino->stale)
			cache_invalidate_locked(ino);
		else
			cache_release(ino);
	} else if (kind == FD_OURS && send_lost(ino, fd)) {
		/* the pipe row's pipe: the entry lives on without it */
	} else {
		cache_release(ino);
	}
out:
	cache_unlock();
}

int cache_detach(int fd, struct fd_slot *s)
{
	struct cache_inode *ino = s->ino;
	char proc[32];
	int nfd, rc = -1;

	cache_lock();
	/* nfd lives until the dup3 below: a descriptor of ours too. A full
	 * cache still detaches (the server's descriptor must work). */
	cache_make_room(1, 0, ino);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	nfd = real.openat(AT_FDCWD, proc, (s->oflags & O_NONBLOCK) | O_RDONLY |
			  O_CLOEXEC);
	if (nfd < 0)
		goto out;
	if (real.dup3(nfd, fd, s->cloexec ? O_CLOEXEC : 0) < 0) {
		real.close(nfd);
		goto out;
	}
	real.close(nfd);
	real.lseek(fd, s->pos, SEEK_SET);
	if (!s->adopted)
		cache_count(-1, 0);
	fdtab_set(fd, FD_OTHER, NULL);
	STAT_INC(detach);
	ino->handed--;
	if (fd == ino->master) {
		/* The number is the server's now: the entry has no descriptor
		 * of its own left to dup or map from. */
		ino->master = -1;
		ino->master_out = false;
		if (!ino->stale) {
			cache_invalidate_locked(ino);
			rc = 0;
			goto out;
		}
	}
	cache_release(ino);
	rc = 0;
out:
	cache_unlock();
	return rc;
}
