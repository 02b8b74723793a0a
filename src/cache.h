/* cache.h - cached files: path and (dev, ino) -> persistent fd + mapping +
 * stat snapshot, and the descriptors handed out to the server.
 *
 * Handing out a descriptor costs no syscall: an open is given the entry's
 * own descriptor (its master) when the server holds no other, else a
 * spare from a small pool (F_DUPFD_CLOEXEC of the master, made when the
 * pool is empty); a close gives it back. All share one open file
 * description. The server's file position lives
 * in its fd slot (fdtab), so descriptors that share one open file
 * description never share a position the server can see.
 *
 * Every function takes the cache lock itself; none may be called with it
 * held. None can fail in a way the server sees: "not served" means the
 * caller forwards to the real call.
 */
#ifndef SC_CACHE_H
#define SC_CACHE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "mem.h"             /* before uthash.h: its tables use mem.c */
#include <uthash.h>

#include "fdtab.h"

struct cache_inode {
	dev_t dev;                /* key, with ino */
	ino_t ino;
	int master;               /* our descriptor; -1 once lost */
	bool master_out;          /* handed to the server as one of its own */
	bool stale;               /* invalidated: no new hits; freed at 0 handed */
	/* The writev row's (send_writev.c), lent to the server's mmap: */
	const char *map;          /* read-only MAP_SHARED mapping, or NULL; */
	size_t maplen;            /* this process's only if map_epoch is */
	unsigned map_epoch;       /* cache_map_epoch when mapped (cache_map) */
	struct stat st;           /* snapshot; immutable while the entry lives */
	int nfree;                /* spare descriptors in pool[] */
	int pool[4];
	int handed;               /* descriptors the server holds */
	int mrefs;                /* mappings of map the server holds */
	char *copy;               /* private copy of the file, or NULL */
	/* The pipe row's (send_pipe.c): */
	int pipe;                 /* read end of a pipe holding the file */
	size_t pipe_len;          /* bytes in it; 0: no pipe */
	bool pipe_failed;         /* could not have one: do not try again */
	struct cache_name *names; /* paths that lead here */
	int wd;                   /* watch_file() of the inode, or -1 */
	unsigned wgen;            /* watch_gen() when wd was made */
	uint64_t key;             /* admit_hash() of the name that made it */
	struct cache_inode *prev, *next;  /* LRU, most recent first */
	UT_hash_handle hh;        /* by (dev, ino) */
};

/* Bumped in a forked child: mappings made before the fork were not
 * inherited (MADV_DONTFORK), except those the server holds, and the child
 * forgets them all at once instead of writing to every entry (a page copy
 * each, in a child that may serve one request). */
extern unsigned cache_map_epoch;

/* ino's mapping in this process, or NULL. */
static inline const char *cache_map(const struct cache_inode *ino)
{
	return ino->map_epoch == cache_map_epoch ? ino->map : NULL;
}

/* Sets up the cache (cwd, inotify). Returns false if sendcache cannot
 * run; then nothing is ever served. */
bool cache_init(void);

/* fork(2), from the engine's handlers when this thread is awake: the
 * parent's before and after, the child's right after. */
void cache_fork_prepare(void);

/* True if this process has one thread: at fork, no lock need be taken
 * (nor its page written, copied then in parent and child). */
bool cache_fork_alone(void);
void cache_fork_parent(void);
void cache_fork_child(void);

/* A forked child wakes (engine.c): it takes its own counters, forgets
 * what its parent knew of descriptors other than the cache's, and trusts
 * its parent's view of files a while. Once per process; any thread. */
void cache_wake(void);

/* True once this process is awake: the first process, or a child after
 * cache_wake(). One getpid(). */
bool cache_awake(void);

/* While the cache holds fewer descriptors than this, a file is cached at
 * its first open, so a small site is served from its second request;
 * past it, at its second (admit.h) even while there is room. Caching a
 * file (a descriptor of our own, its stats, watches of new directories,
 * a mapping and the first response's page faults) cost 186 us of CPU
 * per file for nginx and 222 us over TLS: a fresh nginx serving its
 * first 1,000 distinct files used 311 ms of CPU against 125 ms alone
 * (TLS: 409 against 187). Worth it only for a file that will come
 * again. At 1024 the onehit stream of bench/site.sh ran at 0.75x over
 * TLS; at 64 the cost is bounded to about 12 ms in a process's life. */
#define CACHE_FIRST_USE_FDS 64

/* Returned by cache_open() and cache_stat() when the cache answers that the
 * call fails: errno is set to what the kernel said (ENOENT, ENOTDIR). */
#define CACHE_FAIL (-2)

/* A path as the cache looks it up: absolute, with its length and hash.
 * A call makes it once and hands it on, so that a miss reported to
 * cache_opened() or cache_failed() is not copied and hashed again (a file
 * seen once costs the server's own path plus little). The caller sets
 * state to CACHE_KEY_UNSET before the first call; the cache fills the
 * rest. A relative path's key is made again if the working directory
 * changed in between. */
enum { CACHE_KEY_UNSET, CACHE_KEY_BAD, CACHE_KEY_OK };

struct cache_key {
	int state;
	unsigned cwd_gen;         /* the working directory it was made in */
	unsigned drops;           /* cache_drops when it was made: a miss
				   * that began before a drop (a purge, a
				   * pause) caches nothing */
	size_t len;               /* of abs */
	uint64_t hash;            /* admit_hash(abs) */
	char abs[PATH_MAX];
};

/* Serves open(path, flags) from the cache. Returns a descriptor,
 * CACHE_FAIL (errno set) for a name known not to exist, or -1 if not
 * served (errno unchanged): the caller makes the real call and then
 * reports its result to cache_opened() with the same k. */
int cache_open(struct cache_key *k, const char *path, int flags);

/* After a real open(path, flags) returned fd (>= 0, or -1 with errno):
 * caches the file, or the name's absence (ENOENT, ENOTDIR), if cacheable.
 * Returns the descriptor open() returns: for a file it caches, one of the
 * cache's as at a hit (fd closed), or, failing that, fd adopted (tracked
 * as HANDED, really closed at close); else fd. Leaves errno as it is. */
int cache_opened(struct cache_key *k, const char *path, int flags, int fd);

/* The process was refused a descriptor (EMFILE) while the cache holds
 * some the server does not use: closes an eighth of them (at least 16),
 * spares first, then the least recently used entries, and holds the
 * budget at what is left until the limit is read again. True if any
 * went: the call is worth making again. errno is kept. */
bool cache_give_back(void);

/* Answers stat (nofollow false) or lstat from a snapshot. Returns 0 if
 * answered, CACHE_FAIL (errno set) for a name known not to exist (stat
 * only), -1 if not answered (errno unchanged). */
int cache_stat(struct cache_key *k, const char *path, struct stat *st,
	       bool nofollow);

/* A real stat of path (following links) failed with err: remembers the
 * name's absence if err is ENOENT or ENOTDIR. Leaves errno as it is. */
void cache_failed(struct cache_key *k, const char *path, int err);

/* pread(fd, buf, n, off) of a HANDED descriptor from the entry's private
 * copy (made at the first such read, one real pread): no mapped file
 * memory is read in user space, so a truncated file cannot raise SIGBUS.
 * Returns the bytes copied (0 at or past the end), or -1 if not served
 * (stale entry, file over copy_max, not watched by inotify, no memory):
 * the caller makes the real call. errno is left unchanged. */
ssize_t cache_pread(struct fd_slot *s, void *buf, size_t n, off_t off);

/* True if off is at or past the end of the file of HANDED slot s, as the
 * kernel would see it now (a fresh, watched entry): a sendfile from there
 * sends nothing. */
bool cache_at_eof(struct fd_slot *s, off_t off);

/* mmap(NULL, len, PROT_READ, MAP_SHARED or MAP_PRIVATE, fd, 0) of a HANDED
 * descriptor: the entry's own read-only mapping, reference-counted. The
 * same inode's page cache, so the bytes are those a real mapping shows.
 * Returns NULL if not served (no mapping, len beyond it, stale). */
void *cache_mmap(struct fd_slot *s, size_t len);

/* Mappings handed out by cache_mmap() and not yet unmapped. */
extern int cache_maps_out;

/* munmap(addr, len) of a mapping cache_mmap() handed out: drops one
 * reference. Returns false if addr is not one (the caller unmaps). */
bool cache_munmap(void *addr, size_t len);

/* SENDCACHE_PREWARM: caches the regular files under the configured
 * directories (recursively, within the budgets, without evicting, with no
 * admission test), so that processes forked later start hot. */
void cache_prewarm(void);

/* False while a forked child still trusts its parent's view (its first
 * 40 ms, cache_fork.c), when nothing it caches would be kept: a prewarm
 * waits for a later idle point. */
bool cache_may_prewarm(void);

/* The same for the directories of list, separated by sep (absolute;
 * others are skipped), until stop (if not NULL) says so before a file. */
void cache_prewarm_dirs(const char *list, char sep, bool (*stop)(void));

/* fstat of a HANDED descriptor. Returns 0 if answered, -1 if not. */
int cache_fstat(struct fd_slot *s, struct stat *st);

/* close() of a HANDED descriptor: back to its pool, or really closed if the
 * entry is stale or the pool full. Always succeeds (returns 0). */
int cache_close(int fd, struct fd_slot *s);

/* fd, which we tracked as POOL, OURS or HANDED, was closed or replaced
 * behind our back (close_range, dup2, syscall(SYS_close)): forget it
 * without closing it. The slot is left FD_UNKNOWN. */
void cache_lost(int fd, struct fd_slot *s);

/* Gives a HANDED descriptor its own open file description at the server's
 * position, and stops tracking it: for uses we do not model (F_SETFL,
 * fdopen, dup). Returns 0, or -1 with errno if that failed (the
 * descriptor is left as it was). */
int cache_detach(int fd, struct fd_slot *s);

/* The entry of a truncated mapping (EFAULT): drop it. */
void cache_invalidate(struct cache_inode *ino);

/* Credentials changed, or events were lost: drop every entry. */
void cache_drop_all(void);

/* Drops the entries and absences of each of the n paths (absolute, no
 * trailing '/' unless it is "/") and of every name under them, in one
 * pass over the entries (sendcache-ctl purge). */
void cache_purge(const char *const *paths, unsigned n);

/* The working directory changed: read it again (one getcwd). */
void cache_chdir(void);

#endif
