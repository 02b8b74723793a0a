/* cache_in.h - what the cache's own files share, not for other modules.
 *
 * cache.c holds the tables, the lock and the budgets; body.c makes and
 * frees what an entry's bytes are sent from (mapping, copy, pipe);
 * prewarm.c fills the tables through cache.h's functions. Functions
 * marked "locked" are called with the lock held.
 */
#ifndef SC_CACHE_IN_H
#define SC_CACHE_IN_H

#include "cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Set while SENDCACHE_PREWARM fills the cache: what it names is wanted
 * (no admission test) and gets a descriptor, no mapping. */
extern bool cache_prewarming;

/* True if nfd more descriptors and nbytes more mapped bytes fit the
 * budgets without evicting. Takes the lock. */
bool cache_fits(size_t nfd, size_t nbytes);

/* The lock, with pending changes read after taking it. */
void cache_lock(void);
void cache_unlock(void);

/* Locked: nfd descriptors and nbytes more in the budgets' counts (and
 * the fds_held and mapped_bytes counters); negative to give back. */
void cache_count(ssize_t nfd, ssize_t nbytes);

/* Locked: evicts idle entries other than keep until nfd descriptors and
 * nbytes fit. False if they cannot. */
bool cache_make_room(size_t nfd, size_t nbytes, const struct cache_inode *keep);

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

/* body.c, all locked. */
size_t body_map_need(off_t size);                 /* bytes body_map maps */
void body_map(struct cache_inode *ino);           /* maps it, if it fits */
void body_free(struct cache_inode *ino);          /* mapping, pipe, copy */
void body_pipe_lost(struct cache_inode *ino);     /* its pipe was closed */
void body_fork_prepare(void);                     /* held maps go along */
void body_fork_parent(void);
void body_wake(void);                             /* a child's own maps */

#endif
