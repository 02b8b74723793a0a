/* fresh.c - how a cached name or a remembered absence stays fresh (struct
 * fresh, cache_in.h): inotify where it sees every change, else a stat at
 * most every SENDCACHE_REVALIDATE_MS; names that changed lately read the
 * pending events at each lookup; a forked child trusts its parent's view
 * a while, then checks every name once (gen). */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "real.h"
#include "stats.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef SENDCACHE_SELFCHECK
#include <sys/ioctl.h>
#endif

/* Bumped when a forked child stops trusting its parent's view: every
 * name is checked once more. */
static unsigned gen;

uint64_t cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* After fork the child shares its parent's inotify instance, which the
 * parent read at most check_ms before forking (atfork_prepare): for
 * FORK_TRUST_MS after that read the child trusts what it inherited,
 * without reading events that are the parent's. A child that serves one
 * request and exits (busybox httpd) pays no syscall for freshness; a
 * longer-lived one then opens its own instance and checks every name once
 * (gen). The parent's view holds every change made before its read, so
 * the child is at most FORK_TRUST_MS late: inside the 50 ms bound, with
 * 10 ms to spare, and long enough for a child on a loaded machine to
 * serve its request (with 20 ms, children under load outlived it and paid
 * for an instance of their own). */
#define FORK_TRUST_MS 40

/* Under the lock: after a fork, the parent's view is trusted a while,
 * then dropped; otherwise pending inotify events are read. */
void fresh_refresh_locked(void)
{
	uint64_t now = cache_now_ms();

	if (__builtin_expect(cache_forked, 0)) {
		if (now - cache_fork_ms < FORK_TRUST_MS)
			return;
		cache_forked = false;
		gen++;
		watch_after_fork();
	}
	watch_poll(now, false);
}

/* A name that changed in the last HOT_MS is likely to change again (a
 * file being rewritten, a deploy under way): each lookup of it reads the
 * pending events first, one read(2) that says EAGAIN, instead of trusting
 * a view up to check_ms old. A server that stats, then opens, then maps
 * (Apache) otherwise met a file truncated or deleted check_ms ago in the
 * middle of its request: it answered 403 for a file just deleted, or sent
 * a head and closed for one just truncated, a hundred times more often
 * than without us. Names that do not change pay nothing. Kept by path
 * hash in a small table that outlives the entries an event drops; a
 * collision forgets a name, which then waits check_ms as before. */
#define HOT_MS 1000
#define HOT_SLOTS 256

static struct {
	uint64_t hash;
	uint64_t until_ms;
} hot[HOT_SLOTS];

void hot_mark(const char *path)
{
	uint64_t h = admit_hash(path);

	hot[h % HOT_SLOTS].hash = h;
	hot[h % HOT_SLOTS].until_ms = cache_now_ms() + HOT_MS;
}

/* Until when the path of hash h is hot (0: it is not). */
static uint64_t hot_until(uint64_t h)
{
	return hot[h % HOT_SLOTS].hash == h ? hot[h % HOT_SLOTS].until_ms : 0;
}

/* Reads pending events now if f's name is hot. A child that still shares
 * its parent's instance must not read it (refresh_locked). */
bool hot_poll(const struct fresh *f)
{
	uint64_t now;

	if (!f->hot_until_ms || cache_forked || (now = cache_now_ms()) >= f->hot_until_ms)
		return false;
	STAT_INC(hot_poll);
	watch_poll(now, true);
	return true;
}

/* Watches abs, unless this child still shares its parent's instance. */
bool fresh_watch(const char *abs)
{
	return !cache_forked && watch_path(abs);
}

/* Watches ino's own inode (through fd, one of its descriptors), unless
 * it is already watched by this process's instance. */
static bool inode_watch(struct cache_inode *ino, int fd)
{
	if (ino->wd >= 0 && ino->wgen == watch_gen())
		return true;
	if (cache_forked || fd < 0)
		return false;
	ino->wgen = watch_gen();
	ino->wd = watch_file(fd);
	watch_file_bind(ino->wd, ino->dev, ino->ino);
	return ino->wd >= 0;
}

bool fresh_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mode == b->st_mode &&
	       a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void fresh_init(struct fresh *f, bool watched, bool link, uint64_t hash)
{
	f->link = link;
	f->watched = watched && !link;
	f->gen = gen;
	f->checked_ms = cache_now_ms();
	f->hot_until_ms = hot_until(hash);
}

/* True when path must be checked by stat now (see struct fresh). ino:
 * the entry a name leads to, NULL for a negative. */
bool fresh_due(struct fresh *f, const char *path, struct cache_inode *ino)
{
	uint64_t now;

	if (f->watched && f->gen == gen)
		return false;
	now = cache_now_ms();
	if (f->gen == gen && now - f->checked_ms < config.revalidate_ms)
		return false;
	if (f->gen != gen) {
		f->gen = gen;
		f->watched = !f->link && fresh_watch(path) &&
			     (!ino || inode_watch(ino, ino->master));
	}
	f->checked_ms = now;
	STAT_INC(revalidate_stat);
	return true;
}

#ifdef SENDCACHE_SELFCHECK
/* Test builds only (build/tests/libsendcache-selfcheck.so, t4009): an
 * entry trusted by its watches must agree with the kernel whenever no
 * event is pending. A disagreement is a freshness bug even where no probe
 * of the fuzzer would see it: it says so and aborts. st: the snapshot of a
 * cached name, NULL for a negative of errno err. */
void fresh_selfcheck(const struct fresh *f, const char *path, int err,
		     const struct stat *st, int flags)
{
	struct stat now;
	int pending = -1, saved = errno, e;

	if (!f->watched || f->gen != gen || cache_forked || watch_fd() < 0 ||
	    ioctl(watch_fd(), FIONREAD, &pending) != 0 || pending != 0)
		return;
	e = real.fstatat(AT_FDCWD, path, &now, flags) == 0 ? 0 : errno;
	if (e != err || (st && !fresh_same_file(&now, st))) {
		fprintf(stderr, "sendcache selfcheck: %s: cached as %s, the "
			"kernel says %s, no event pending\n", path,
			st ? "a file" : strerror(err), e ? strerror(e) :
			(st ? "another file" : "it exists"));
		abort();
	}
	errno = saved;
}
#endif


bool fresh_watched(const struct fresh *f)
{
	return f->watched && f->gen == gen;
}
