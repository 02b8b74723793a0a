/* cache.c - the file cache: names, inodes, descriptor pools, budgets.
 *
 * Two tables: names (absolute path -> inode) and inodes ((dev, ino) ->
 * master fd, mapping, stat snapshot, pool). Hard links and symlinks share
 * an inode. One mutex guards both; the hit path takes it once per call and
 * makes no syscall. An invalidated inode leaves the tables at once and is
 * freed when the server has closed every descriptor it was handed.
 */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "neg.h"
#include "admit.h"
#include "config.h"
#include "path.h"
#include "real.h"
#include "send.h"
#include "stats.h"
#include "watch.h"
#include "mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* maybe_held()'s counts (cache_in.h). */
uint8_t cache_maybe[1u << 16];


struct cache_name {
	struct cache_inode *ino;
	struct cache_name *next;  /* the other names of ino */
	bool is_link;             /* the last component is a symlink */
	uint64_t key;             /* admit_hash(path) */
	struct fresh fresh;
	UT_hash_handle hh;
	char path[];
};

pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct cache_name *names;
static struct cache_inode *inodes;
static char cwd[PATH_MAX];
static bool cwd_ok;
static unsigned cwd_gen;       /* bumped when cwd changes (struct cache_key) */
static unsigned cache_drops;   /* bumped when entries are dropped by the lot */
bool cache_forked;            /* a child still trusting its parent's view */
uint64_t cache_fork_ms;       /* age of the view a child inherited */
int cache_maps_out;            /* cache_mmap() references, atomic */


void cache_lock(void)
{
	pthread_mutex_lock(&cache_mutex);
	fresh_refresh_locked();
}

void cache_unlock(void)
{
	pthread_mutex_unlock(&cache_mutex);
}

static bool make_abs(char *out, const char *path)
{
	return path_make(out, PATH_MAX, cwd_ok ? cwd : NULL, path);
}

/* The last absolute path a key was made of: servers look a name up
 * twice in a row (stat, then open: nginx's try_files, Apache), and the
 * second key is then a copy, not checked and hashed again. */
static struct {
	size_t len;               /* 0: none */
	uint64_t hash;
	char abs[PATH_MAX];
} last_key;

/* Under the lock: fills k for path, unless it was made already (for a
 * relative path: in the same working directory). False if path cannot
 * be cached (not a clean path, no working directory). */
static bool key_make(struct cache_key *k, const char *path)
{
	if (k->state != CACHE_KEY_UNSET &&
	    (path[0] == '/' || k->cwd_gen == cwd_gen))
		return k->state == CACHE_KEY_OK;
	k->cwd_gen = cwd_gen;
	k->drops = cache_drops;
	if (path[0] == '/' && last_key.len && !strcmp(path, last_key.abs)) {
		k->len = last_key.len;
		k->hash = last_key.hash;
		memcpy(k->abs, path, k->len + 1);
		k->state = CACHE_KEY_OK;
		return true;
	}
	if (!make_abs(k->abs, path)) {
		k->state = CACHE_KEY_BAD;
		return false;
	}
	k->len = strlen(k->abs);
	k->hash = admit_hash_len(k->abs, k->len);
	k->state = CACHE_KEY_OK;
	if (path[0] == '/') {
		last_key.len = k->len;
		last_key.hash = k->hash;
		memcpy(last_key.abs, k->abs, k->len + 1);
	}
	return true;
}

static void inode_free(struct cache_inode *ino)
{
	while (ino->nfree)
		cache_drop_fd(ino->pool[--ino->nfree]);
	if (ino->master >= 0)
		cache_drop_fd(ino->master);
	body_free(ino);
	mem_free(ino);
}

/* Takes ino out of the tables: no new hits. Freed now if the server holds
 * none of its descriptors, else at the last close. */
void cache_invalidate_locked(struct cache_inode *ino)
{
	struct cache_name *n, *next;

	if (ino->stale)
		return;
	__atomic_store_n(&ino->stale, true, __ATOMIC_RELEASE);
	watch_file_put(ino->wd, ino->wgen);
	ino->wd = -1;
	for (n = ino->names; n; n = next) {
		next = n->next;
		maybe_del(n->hh.hashv);
		HASH_DEL(names, n);
		mem_free(n);
	}
	ino->names = NULL;
	HASH_DEL(inodes, ino);
	lru_remove(ino);
	STAT_SUB(entries, 1);
	while (ino->nfree)
		cache_drop_fd(ino->pool[--ino->nfree]);
	if (cache_unused(ino))
		inode_free(ino);
}

/* ino lost a user: free it if it was the last of a stale entry. */
void cache_release(struct cache_inode *ino)
{
	if (ino->stale && cache_unused(ino))
		inode_free(ino);
}

/* True if name is path or lies under it. */
static bool under(const char *name, const char *path, size_t len)
{
	return !strncmp(name, path, len) &&
	       (name[len] == 0 || name[len] == '/' || path[len - 1] == '/');
}

static bool under_any(const char *name, const char *const *paths, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (under(name, paths[i], strlen(paths[i])))
			return true;
	return false;
}

/* Drops every entry with a name at or under one of the n paths, in one
 * pass by inode: dropping one frees its names, never the next inode.
 * Returns the entries dropped. */
static unsigned drop_under(const char *const *paths, unsigned n)
{
	struct cache_inode *ino, *tmp;
	struct cache_name *nm;
	unsigned dropped = 0;

	HASH_ITER(hh, inodes, ino, tmp)
		for (nm = ino->names; nm; nm = nm->next)
			if (under_any(nm->path, paths, n)) {
				cache_invalidate_locked(ino);
				dropped++;
				break;
			}
	return dropped;
}

static void cache_changed(const char *path, bool subtree)
{
	struct cache_name *n;
	size_t len = strlen(path);

	hot_mark(path);
	neg_changed(path, len, subtree);
	if (subtree) {
		STAT_ADD(inval_inotify, drop_under(&path, 1));
		return;
	}
	HASH_FIND_STR(names, path, n);
	if (n) {
		cache_invalidate_locked(n->ino);
		STAT_INC(inval_inotify);
	}
}

static void cache_file_changed(dev_t dev, ino_t ino_nr)
{
	struct { dev_t dev; ino_t ino; } key = { dev, ino_nr };
	struct cache_inode *ino;
	struct cache_name *n;

	HASH_FIND(hh, inodes, &key, sizeof(dev_t) + sizeof(ino_t), ino);
	if (!ino)
		return;
	for (n = ino->names; n; n = n->next)
		hot_mark(n->path);
	cache_invalidate_locked(ino);
	STAT_INC(inval_inotify);
}

void cache_drop_all_locked(void)
{
	cache_drops++;
	neg_drop_all();
	while (inodes)
		cache_invalidate_locked(inodes);
	STAT_INC(inval_all);
}

void cache_drop_all(void)
{
	cache_lock();
	cache_drop_all_locked();
	cache_unlock();
}

void cache_purge(const char *const *paths, unsigned n)
{
	unsigned i;

	cache_lock();
	cache_drops++;
	for (i = 0; i < n; i++)
		if (paths[i][0] == '/')
			neg_changed(paths[i], strlen(paths[i]), true);
	drop_under(paths, n);
	cache_unlock();
}

/* Checks a name by stat when due. Returns false if it is no longer valid
 * (the entry is dropped). */
static bool revalidate(struct cache_name *n)
{
	struct stat st;
	int saved = errno;
	bool same;

	if (!fresh_due(&n->fresh, n->path, n->ino))
		return true;
	/* A name that was no symlink must still be none: lstat, which for
	 * anything else is stat. A symlink put in its place pointing to the
	 * same file passed a stat, and lstat was then answered with the
	 * file's stat instead of the link's. */
	same = real.fstatat(AT_FDCWD, n->path, &st,
			    n->is_link ? 0 : AT_SYMLINK_NOFOLLOW) == 0 &&
	       fresh_same_file(&st, &n->ino->st);
	errno = saved;
	if (!same) {
		cache_invalidate_locked(n->ino);
		STAT_INC(inval_revalidate);
	}
	return same;
}

static struct cache_name *lookup(const struct cache_key *k)
{
	struct cache_name *n;

	TABLE_FIND(names, k, n);
	/* The events read may drop n. */
	if (n && hot_poll(&n->fresh))
		TABLE_FIND(names, k, n);
	if (n)
		fresh_selfcheck(&n->fresh, n->path, 0, &n->ino->st,
			  n->is_link ? 0 : AT_SYMLINK_NOFOLLOW);
	if (!n || !revalidate(n))
		return NULL;
	/* Not in a child in its parent's view: moving the entry would write
	 * (and copy) pages for an order the child will not use. */
	if (!cache_forked)
		lru_front(n->ino);
	return n;
}

void cache_failed(struct cache_key *k, const char *path, int err)
{
	int saved = errno;

	if (err != ENOENT && err != ENOTDIR)
		return;
	cache_lock();
	if (key_make(k, path) && k->drops == cache_drops)
		neg_add(k, err, path[0] == '/');
	cache_unlock();
	errno = saved;
}

/* Only plain read-only opens are served: anything that could make the
 * real call refuse, create, truncate or behave differently goes to the
 * kernel (DESIGN.md §3.3). */
static bool cacheable_flags(int flags)
{
	return (flags & ~(O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_LARGEFILE)) ==
	       O_RDONLY;
}


/* Set while this thread prewarms: other threads' misses still go by
 * admission. */
__thread bool cache_prewarming;

int cache_open(struct cache_key *k, const char *path, int flags)
{
	struct cache_name *n;
	int fd = -1, saved = errno, err = 0;

	if (!cacheable_flags(flags))
		return -1;

	cache_lock();
	if (key_make(k, path)) {
		if ((n = lookup(k)) != NULL) {
			fd = pool_hand_out(n->ino, flags);
			if (!cache_forked)
				admit_touch(n->key);
			cache_note_used();
		} else if ((err = neg_find(k)) != 0)
			saved = err;
	}
	cache_unlock();
	errno = saved;
	if (fd >= 0)
		STAT_INC(open_hit);
	if (err) {
		STAT_INC(neg_hit);
		return CACHE_FAIL;
	}
	return fd;
}

static struct cache_inode *inode_new(int fd, const struct stat *st)
{
	struct cache_inode *ino;

	/* Room for 2: open_master holds the /proc open and its high dup at
	 * once, and the budget holds at every instant, not only after. */
	if (!cache_make_room(2, 0, NULL) || !(ino = mem_zalloc(sizeof(*ino))))
		return NULL;
	ino->master = pool_open_master(fd);
	if (ino->master < 0) {
		mem_free(ino);
		return NULL;
	}
	fdtab_set(ino->master, FD_OURS, ino);
	cache_count(1, 0);
	ino->dev = st->st_dev;
	ino->ino = st->st_ino;
	ino->st = *st;
	ino->wd = -1;
	send_prepare(ino);
	HASH_ADD(hh, inodes, dev, sizeof(dev_t) + sizeof(ino_t), ino);
	lru_front(ino);
	STAT_INC(entries);
	return ino;
}


/* Room without evicting, and a file seen often enough for it. */
static bool fits_now(unsigned freq, size_t need)
{
	return cache_room(2, need) &&
	       (cache_nfds() < CACHE_FIRST_USE_FDS || freq >= 2);
}

/* Whether the file at the name of key, which maps need bytes, may be
 * cached now (admit.h): while there is room for it without evicting, at
 * its first open in a cache of under CACHE_FIRST_USE_FDS descriptors
 * and at its second in a larger one; otherwise if it was asked
 * for more often lately than the entry it would evict. Counts this
 * request, except in a child still in its parent's view (a forked
 * server's child writing the table would copy its pages). */
static bool admitted(uint64_t key, size_t need)
{
	const struct cache_inode *victim;
	unsigned freq;

	freq = cache_forked ? admit_freq(key) + 1 : admit_touch(key);
	if (cache_prewarming || config.admit_all || fits_now(freq, need))
		return true;
	if (cache_budget_grew() && fits_now(freq, need))
		return true;
	if ((victim = lru_victim(NULL)) != NULL)
		/* A file seen once beats no victim: no need to count the
		 * victim's requests (100 instructions of a one-hit miss). */
		return freq >= 2 && admit_beats(freq, admit_freq(victim->key));
	/* The entries looked at are busy (lighttpd holds a descriptor of
	 * each file in its stat cache): room only from spares, found now,
	 * before the watches and stats an entry costs (6 system calls a
	 * miss for nothing). An idle entry further on is not evicted for a
	 * file not weighed against it. */
	return cache_room_from_spares(2, need);
}

static void name_add(struct cache_inode *ino, const struct cache_key *k,
		     bool watched, bool is_link)
{
	struct cache_name *n = mem_alloc(sizeof(*n) + k->len + 1);

	if (!n)
		return;
	memcpy(n->path, k->abs, k->len + 1);
	n->ino = ino;
	n->is_link = is_link;
	n->key = k->hash;
	fresh_init(&n->fresh, watched, is_link, k->hash);
	n->next = ino->names;
	ino->names = n;
	HASH_ADD_BYHASHVALUE(hh, names, path[0], k->len, hash_fold(k->hash), n);
	maybe_add(n->hh.hashv);
}

/* Under the lock: whether the file k names, open as fd and not cached,
 * should be: not in a young child, admitted by frequency (admit.h),
 * a regular file. Fills *st from fd when true; counts the reason when
 * false. */
static bool worth_caching(const struct cache_key *k, int fd, struct stat *st)
{
	bool have_st = false;
	size_t need;

	/* A child in its first FORK_TRUST_MS (a fork-per-connection server's
	 * child serves one request and exits) gains nothing from an entry:
	 * making it costs an open through /proc, three stats, a hash insert
	 * and the pages it copies, for a file read once. Its parent's
	 * entries still serve it. */
	if (cache_forked) {
		STAT_INC(open_pass_forked);
		return false;
	}
	/* Near the end of the mapping budget the file's size decides whether
	 * it fits without evicting: admitted at any size there, files larger
	 * than the room left evicted the lot in turn (a walk over 315 MB of
	 * 70 to 140 KB files through 256 MB: 3.4 times slower than nginx
	 * alone). Elsewhere a file that passes costs no fstat. */
	need = 1;
	if (!cache_room(0, send_map_most())) {
		if (real.fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
			STAT_INC(open_pass_type);
			return false;
		}
		have_st = true;
		need = send_map_need(st->st_size);
	}
	if (!admitted(k->hash, need)) {
		STAT_INC(open_pass_cold);
		return false;
	}
	/* A regular file only, before any watch: a directory open read-only
	 * got here too, and its inode watch was the very watch of that
	 * directory on the way (one wd per inode), which giving it back
	 * removed; nothing then reported changes in the directory. */
	if (!have_st && (real.fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
		STAT_INC(open_pass_type);
		return false;
	}
	return true;
}

int cache_opened(struct cache_key *k, const char *path, int flags, int fd)
{
	struct stat st, pst, lst;
	struct cache_inode *ino;
	struct cache_name *n;
	bool watched;
	int saved = errno, fwd = -1, ret = fd;
	unsigned fgen = watch_gen();
	const char *abs;

	if (fd < 0 && cacheable_flags(flags)) {
		cache_failed(k, path, saved);
		return fd;
	}
	if (fd < 0 || !cacheable_flags(flags)) {
		if (fd >= 0)
			STAT_INC(open_pass_flags);
		return fd;
	}
	cache_lock();
	if (!key_make(k, path)) {
		STAT_INC(open_pass_path);
		goto out;
	}
	abs = k->abs;
	/* The open began before a drop (sendcache-ctl purge or pause) and
	 * may have found what the drop was for. */
	if (k->drops != cache_drops) {
		STAT_INC(open_pass_type);
		goto out;
	}
	TABLE_FIND(names, k, n);
	if (n)
		goto out;
	if (!worth_caching(k, fd, &st))
		goto out;
	/* Watch first, then look at the path: a change after the watch is an
	 * event, a change before it shows as a mismatch below. The snapshot
	 * is the stat of the path taken after the watches. */
	watched = fresh_watch(abs);
	if (watched)
		fwd = watch_file(fd);
	if (real.fstatat(AT_FDCWD, abs, &pst, 0) != 0 ||
	    pst.st_dev != st.st_dev || pst.st_ino != st.st_ino ||
	    real.fstatat(AT_FDCWD, abs, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
		STAT_INC(open_pass_type);
		goto out;
	}
	st = pst;
	/* Bytes we keep would go stale on such a filesystem with nothing to
	 * tell us: the server reads them afresh, as without us. */
	if (!watch_fs_complete(fd, st.st_dev)) {
		STAT_INC(open_pass_fs);
		goto out;
	}
	watch_file_bind(fwd, st.st_dev, st.st_ino);
	HASH_FIND(hh, inodes, &st.st_dev, sizeof(dev_t) + sizeof(ino_t), ino);
	if (ino && !fresh_same_file(&ino->st, &st)) {
		cache_invalidate_locked(ino);
		ino = NULL;
	}
	if (!ino && (ino = inode_new(fd, &st)) != NULL)
		ino->key = k->hash;
	if (!ino) {
		STAT_INC(open_full);
		goto out;
	}
	if (fwd >= 0 && !(ino->wd >= 0 && ino->wgen == fgen)) {
		ino->wd = fwd;          /* the entry's watch from now on */
		ino->wgen = fgen;
		fwd = -1;
	}
	name_add(ino, k, watched && ino->wd >= 0 && ino->wgen == fgen,
		 S_ISLNK(lst.st_mode));
	cache_note_used();
	STAT_INC(open_miss);
	/* The server gets one of ino's descriptors, numbered high, in place
	 * of the kernel's, as at a hit: a server that keeps its files open
	 * (lighttpd's stat cache, one descriptor a file) would otherwise
	 * fill the low numbers, and its sockets take the numbers above, past
	 * a table sized by a limit of its own (fdtab.h). Else the kernel's
	 * is adopted: one of ino's too, and closed for real. */
	if ((ret = pool_hand_out(ino, flags)) >= 0) {
		fdtab_set(fd, FD_UNKNOWN, NULL);
		real.close(fd);
	} else {
		ret = fd;
		if (fdtab_get(fd))
			pool_hand(fdtab_get(fd), ino, flags, true);
	}
out:
	watch_file_put(fwd, fgen);     /* not needed: the entry has one */
	cache_unlock();
	errno = saved;
	return ret;
}

int cache_stat(struct cache_key *k, const char *path, struct stat *st,
	       bool nofollow)
{
	struct cache_name *n;
	int rc = -1, saved = errno, err;

	cache_lock();
	if (key_make(k, path)) {
		if ((n = lookup(k)) != NULL) {
			if (!(nofollow && n->is_link)) {
				*st = n->ino->st;
				rc = 0;
				cache_note_used();
			}
		} else if (!nofollow && (err = neg_find(k)) != 0) {
			/* lstat of a dangling symlink succeeds: negatives
			 * answer only lookups that follow links. */
			saved = err;
			rc = CACHE_FAIL;
		}
	}
	cache_unlock();
	if (rc == 0)
		STAT_INC(stat_hit);
	if (rc == CACHE_FAIL)
		STAT_INC(neg_hit);
	errno = saved;
	return rc;
}

/* True when every name of ino is watched by this process's inotify
 * instance (or trusted after a fork, see cache_lock): an in-place write
 * then reaches us as an event within check_ms, and a copy of the file can
 * stand in for it. */
bool cache_all_watched(const struct cache_inode *ino)
{
	const struct cache_name *n;

	for (n = ino->names; n; n = n->next)
		if (!fresh_watched(&n->fresh))
			return false;
	return ino->names != NULL;
}

void cache_invalidate(struct cache_inode *ino)
{
	cache_lock();
	cache_invalidate_locked(ino);
	cache_unlock();
}

/* Under the lock: the working directory relative names resolve in. */
void cache_cwd_read_locked(void)
{
	cwd_ok = getcwd(cwd, sizeof(cwd)) != NULL;
	cwd_gen++;
}

void cache_chdir(void)
{
	pthread_mutex_lock(&cache_mutex);
	cache_cwd_read_locked();
	pthread_mutex_unlock(&cache_mutex);
}

/* What watch.c reports changes to. */
static const struct watch_ops reports = {
	.changed = cache_changed,
	.file_changed = cache_file_changed,
	.lost_all = cache_drop_all_locked,
};

bool cache_init(void)
{
	cwd_ok = getcwd(cwd, sizeof(cwd)) != NULL;
	fdtab_set_base(config.max_fds);
	STAT_ADD(fds_budget, config.max_fds);
	watch_init(&reports);
	cache_fork_init();
	return true;
}
