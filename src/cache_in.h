/* cache_in.h - what the cache's own files share, not for other modules.
 *
 * cache.c holds the tables and admission, budget.c the budgets and the
 * order of use, pool.c an entry's descriptors; body.c makes and frees
 * the copy a server reads and lends the writev row's mapping to its mmap
 * (the send rows make and free the mapping and the pipe: send.h);
 * prewarm.c fills the tables through cache.h's functions. Functions
 * marked "locked" are called with the lock held.
 */
#ifndef SC_CACHE_IN_H
#define SC_CACHE_IN_H

#include "admit.h"
#include "cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The name and negative tables hash with admit_hash, folded to 32 bits:
 * a looked-up path's hash is computed once (struct cache_key) and serves
 * both tables, the hot-name table and the admission sketch. */
#undef HASH_FUNCTION
#define HASH_FUNCTION(keyptr, keylen, hashv) \
	((hashv) = hash_fold(admit_hash_len((const char *)(keyptr), (keylen))))

static inline unsigned hash_fold(uint64_t h)
{
	return (unsigned)(h ^ (h >> 32));
}

/* Which hashes the name and negative tables may hold: a count per
 * 16-bit slice of the folded hash (its high half; uthash picks buckets by
 * the low bits). A path that is in neither table, as is every request for
 * a file the cache does not hold, is then one load instead of walks down
 * two buckets' chains, whose every link was a CPU cache miss: those walks
 * were 2.9% of nginx's samples on a one-hit stream over HTTPS. A count that
 * reached its maximum stays there: a false "maybe" costs only the walk. */
extern uint8_t cache_maybe[1u << 16];

static inline void maybe_add(unsigned hashv)
{
	uint8_t *c = &cache_maybe[hashv >> 16];

	if (*c < UINT8_MAX)
		(*c)++;
}

static inline void maybe_del(unsigned hashv)
{
	uint8_t *c = &cache_maybe[hashv >> 16];

	if (*c < UINT8_MAX)
		(*c)--;
}

static inline bool maybe_held(uint64_t h)
{
	return cache_maybe[hash_fold(h) >> 16] != 0;
}

/* The entry of k's path in the name or the negative table, or NULL. */
#define TABLE_FIND(table, k, out)                                          \
	do {                                                               \
		(out) = NULL;                                              \
		if (maybe_held((k)->hash))                                 \
			HASH_FIND_BYHASHVALUE(hh, table, (k)->abs, (k)->len, \
					      hash_fold((k)->hash), out);  \
	} while (0)

/* How a cached name (or a remembered absence) stays fresh: by inotify
 * (watched), else by a stat at most every revalidate_ms; and once after a
 * fork, since events before the child's own watches were added may be
 * lost. Watched means every directory of the path is a real directory of a
 * local filesystem, watched, and the name itself is not a symlink: then
 * every change that can alter what the path names is an event. A symlink
 * anywhere (its target's directories are not watched) or a filesystem
 * inotify does not fully see (watch_fs_complete) means stat. */
struct fresh {
	bool watched;
	bool link;                /* the name is a symlink: never watched */
	unsigned gen;             /* != cache gen: verify once (after fork) */
	uint64_t checked_ms;      /* last stat check */
	uint64_t hot_until_ms;    /* changed lately: see hot_until() */
};

/* Freshness (fresh.c), all locked. */
/* After a fork, the parent's view is trusted a while, then dropped;
 * otherwise pending inotify events are read. At each cache_lock(). */
void fresh_refresh_locked(void);
/* f's name is watched by this process's own inotify instance. */
bool fresh_watched(const struct fresh *f);
/* Same file, same size, mode, owner, mtime and ctime. */
bool fresh_same_file(const struct stat *a, const struct stat *b);
void fresh_init(struct fresh *f, bool watched, bool link, uint64_t hash);
/* True when path must be checked by stat now. ino: the entry a name
 * leads to, NULL for a negative. */
bool fresh_due(struct fresh *f, const char *path, struct cache_inode *ino);
/* Watches abs, unless this child still shares its parent's instance. */
bool fresh_watch(const char *abs);
/* Reads pending events now if f's name changed lately (true if read). */
bool hot_poll(const struct fresh *f);
/* path changed: lookups of it read pending events first for a while. */
void hot_mark(const char *path);

/* Test builds (SENDCACHE_SELFCHECK): an entry trusted by its watches
 * must agree with the kernel whenever no event is pending; else aborts. */
#ifdef SENDCACHE_SELFCHECK
void fresh_selfcheck(const struct fresh *f, const char *path, int err,
		     const struct stat *st, int flags);
#else
#define fresh_selfcheck(f, path, err, st, flags) ((void)0)
#endif

/* Set while SENDCACHE_PREWARM fills the cache: what it names is wanted
 * (no admission test) and gets a descriptor, no mapping. */
extern __thread bool cache_prewarming;

/* True if nfd more descriptors and nbytes more mapped bytes fit the
 * budgets without evicting. Takes the lock. */
bool cache_fits(size_t nfd, size_t nbytes);

/* The lock of both tables; cache_lock() also reads pending changes. */
extern pthread_mutex_t cache_mutex;

/* A forked child still trusting its parent's view, and since when
 * (cache_fork.c sets them at wake; cache.c's refresh ends the view). */
extern bool cache_forked;
/* Set when a lookup is answered or a file cached, not by a prewarm
 * (cache_fork.c's judge);
 * written once, so that a page is not written at each call. */
extern bool cache_used;

static inline void cache_note_used(void)
{
	if (!cache_prewarming && !__atomic_load_n(&cache_used, __ATOMIC_RELAXED))
		__atomic_store_n(&cache_used, true, __ATOMIC_RELAXED);
}
extern uint64_t cache_fork_ms;

/* CLOCK_MONOTONIC_COARSE in milliseconds (fresh.c). */
uint64_t cache_now_ms(void);

/* Locked: reads the working directory relative names resolve in. */
void cache_cwd_read_locked(void);

/* cache_fork.c: this process is the cache's (at init). */
void cache_fork_init(void);

/* The lock, with pending changes read after taking it. */
void cache_lock(void);
void cache_unlock(void);

/* The server holds no descriptor and no mapping of ino. */
static inline bool cache_unused(const struct cache_inode *ino)
{
	return ino->handed == 0 && ino->mrefs == 0;
}

/* budget.c, locked. */
/* nfd descriptors and nbytes more in the budgets' counts (and the
 * fds_held and mapped_bytes counters); negative to give back. */
void cache_count(ssize_t nfd, ssize_t nbytes);
/* Descriptors held: masters, pools, handed out. */
size_t cache_nfds(void);
/* Whether nfd more descriptors and nbytes more mapped bytes fit. */
bool cache_room(size_t nfd, size_t nbytes);
/* Evicts idle entries other than keep until nfd descriptors and nbytes
 * fit. False if they cannot. */
bool cache_make_room(size_t nfd, size_t nbytes, const struct cache_inode *keep);
/* Room for nfd more descriptors and nbytes more mapped bytes from the
 * spares of the least recently used entries alone: no entry evicted. */
bool cache_room_from_spares(size_t nfd, size_t nbytes);
/* With the cache full: whether the descriptor budget grew (RLIMIT_NOFILE
 * raised; read at most once a second). */
bool cache_budget_grew(void);
/* Reads RLIMIT_NOFILE again; if the budget changed, counts it in
 * fds_budget, places the cache's numbers under it and returns true. */
bool cache_budget_reread(void);
/* ino is the most recently used; a new entry is added. */
void lru_front(struct cache_inode *ino);
/* ino leaves the order of use. */
void lru_remove(struct cache_inode *ino);
/* The least recently used entry but keep the server holds nothing of,
 * among the 32 least recently used (those it holds are moved to
 * the front on the way), or NULL. */
struct cache_inode *lru_victim(const struct cache_inode *keep);

/* Locked: frees ino if it left the tables and nothing of it is held. */
void cache_release(struct cache_inode *ino);

/* Locked: true if every name of ino is watched by this process: a copy
 * or an answer without a syscall is then as fresh as inotify. */
bool cache_all_watched(const struct cache_inode *ino);

/* What n bytes cost when mapped or held in a pipe: whole pages. */
size_t cache_pages(size_t n);

/* A copy of fd at or above the cache's base number, or -1. */
int cache_dup_high(int fd);

/* Locked: closes a descriptor of the cache's and counts it out. */
void cache_drop_fd(int fd);

/* Locked: every entry and negative goes (credentials changed, events
 * lost). */
void cache_drop_all_locked(void);

/* Locked: takes ino out of the tables: no new hits. Freed now if the
 * server holds none of its descriptors, else at the last close. */
void cache_invalidate_locked(struct cache_inode *ino);

/* pool.c, locked. */
/* A descriptor of ino for the server, opened with flags, or -1. */
int pool_hand_out(struct cache_inode *ino, int flags);
/* Marks s as a descriptor of ino the server holds (adopted: the server's
 * own open, really closed at its close). */
void pool_hand(struct fd_slot *s, struct cache_inode *ino, int flags,
	       bool adopted);
/* The cache's own descriptor for the file open at fd, or -1. */
int pool_open_master(int fd);

/* body.c, all locked. */
void body_free(struct cache_inode *ino);          /* copy, the rows' (send.h) */
void body_fork_prepare(void);                     /* held maps go along */
void body_fork_parent(void);
void body_wake(void);                             /* a child's own maps */

#endif
