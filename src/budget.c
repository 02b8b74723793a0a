/* budget.c - what the cache holds against its budgets (descriptors,
 * mapped bytes), the order of use its entries are evicted in, and the
 * descriptor budget growing with RLIMIT_NOFILE. All locked, but
 * cache_fits(). */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "fdtab.h"
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

static struct cache_inode *lru_head, *lru_tail;
static size_t nfds;            /* masters + pools + handed out */
static size_t nmapped;         /* bytes mapped (whole pages), copied, piped */
static uint64_t budget_next_ms; /* the next read of RLIMIT_NOFILE, at the earliest */

/* What n bytes of a file cost when mapped or held in a pipe: whole pages.
 * Counting file bytes let a budget of small files overshoot by up to a
 * page per entry. */
size_t cache_pages(size_t n)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return (n + page - 1) / page * page;
}

void cache_count(ssize_t nfd, ssize_t nbytes)
{
	nfds += (size_t)nfd;
	nmapped += (size_t)nbytes;
	STAT_ADD(fds_held, nfd);
	STAT_ADD(mapped_bytes, nbytes);
}

size_t cache_nfds(void)
{
	return nfds;
}

void lru_remove(struct cache_inode *ino)
{
	if (ino->prev)
		ino->prev->next = ino->next;
	else if (lru_head == ino)
		lru_head = ino->next;
	if (ino->next)
		ino->next->prev = ino->prev;
	else if (lru_tail == ino)
		lru_tail = ino->prev;
	ino->prev = ino->next = NULL;
}

static void lru_push(struct cache_inode *ino)
{
	ino->prev = NULL;
	ino->next = lru_head;
	if (lru_head)
		lru_head->prev = ino;
	lru_head = ino;
	if (!lru_tail)
		lru_tail = ino;
}

void lru_front(struct cache_inode *ino)
{
	if (lru_head == ino)
		return;
	lru_remove(ino);        /* a no-op for a new entry */
	lru_push(ino);
}

/* Entries looked at from the cold end for a victim, at most. Those the
 * server holds are moved to the front on the way (a descriptor held is a
 * use), so a cache full of them costs a short walk a miss, not the whole
 * list: lighttpd holds a descriptor of every file it served lately, and
 * at 4,096 entries the walks took 15% of its CPU. */
#define VICTIM_SCAN 32

struct cache_inode *lru_victim(const struct cache_inode *keep)
{
	struct cache_inode *ino, *prev;
	int n;

	for (ino = lru_tail, n = 0; ino && n < VICTIM_SCAN; ino = prev, n++) {
		prev = ino->prev;
		if (ino == keep)
			continue;
		if (cache_unused(ino))
			return ino;
		lru_front(ino);
	}
	return NULL;
}

static void evict(struct cache_inode *ino)
{
	cache_invalidate_locked(ino);
	STAT_INC(evictions);
}

/* Evicts the least recently used idle inode other than keep. */
static bool evict_one(const struct cache_inode *keep)
{
	struct cache_inode *ino = lru_victim(keep);

	if (ino)
		evict(ino);
	return ino != NULL;
}

/* Entries from the cold end of the LRU whose spare descriptors may go
 * before any entry is evicted. */
#define TRIM_SCAN 32

/* Closes one spare descriptor of one of the TRIM_SCAN least recently used
 * entries. A hot file keeps a spare per concurrent request, a cold one
 * needs none: its next hit costs one dup instead of a miss. At a budget
 * of 1024 descriptors this keeps about 1000 files instead of 600. */
static bool trim_one(const struct cache_inode *keep)
{
	struct cache_inode *ino;
	int n = 0;

	for (ino = lru_tail; ino && n < TRIM_SCAN; ino = ino->prev, n++) {
		if (ino != keep && ino->nfree) {
			cache_drop_fd(ino->pool[--ino->nfree]);
			return true;
		}
	}
	return false;
}

/* Makes room for nfd more descriptors and nbytes more mapped bytes; at
 * once false for what could never fit (evicting every entry first, as
 * it did, gained nothing: SENDCACHE_MAX_MAPPED=0 and a private copy). */
bool cache_make_room(size_t nfd, size_t nbytes, const struct cache_inode *keep)
{
	if (nfd > config.max_fds || nbytes > config.max_mapped)
		return false;
	while (nfds + nfd > config.max_fds || nmapped + nbytes > config.max_mapped) {
		if (nfds + nfd > config.max_fds && trim_one(keep))
			continue;
		if (!evict_one(keep))
			return false;
	}
	return true;
}

bool cache_room_from_spares(size_t nfd, size_t nbytes)
{
	while (nfds + nfd > config.max_fds && trim_one(NULL))
		;
	return cache_room(nfd, nbytes);
}

/* Descriptors given back at an EMFILE, at least: a server at its limit
 * asks again soon. */
#define GIVE_BACK_MIN 16

bool cache_give_back(void)
{
	struct cache_inode *ino, *prev;
	size_t was, want, left, freed;
	int saved = errno;

	pthread_mutex_lock(&cache_mutex);
	was = nfds;
	want = nfds / 8 > GIVE_BACK_MIN ? nfds / 8 : GIVE_BACK_MIN;
	while (was - nfds < want && trim_one(NULL))
		;
	/* The whole order, not VICTIM_SCAN of it: rare, and idle entries
	 * may lie behind many the server holds. */
	for (ino = lru_tail; ino && was - nfds < want; ino = prev) {
		prev = ino->prev;
		if (cache_unused(ino))
			evict(ino);
	}
	freed = was - nfds;
	left = nfds > 4 ? nfds : 4;
	if (freed && left < config.max_fds) {
		/* Until the next read of the limit (cache_budget_grew), a
		 * second on at the earliest. */
		STAT_ADD(fds_budget, (ssize_t)left - (ssize_t)config.max_fds);
		config.max_fds = left;
		budget_next_ms = cache_now_ms() + 1000;
	}
	STAT_ADD(fd_given_back, freed);
	pthread_mutex_unlock(&cache_mutex);
	errno = saved;
	return freed > 0;
}

/* Whether nfd more descriptors and nbytes more mapped bytes fit. */
bool cache_room(size_t nfd, size_t nbytes)
{
	return nfds + nfd <= config.max_fds && nmapped + nbytes <= config.max_mapped;
}

bool cache_fits(size_t nfd, size_t nbytes)
{
	bool fits;

	pthread_mutex_lock(&cache_mutex);
	fits = cache_room(nfd, nbytes);
	pthread_mutex_unlock(&cache_mutex);
	return fits;
}

/* When the descriptor budget is met: whether it grew since last read, as
 * a server that raises its RLIMIT_NOFILE after we start does (nginx's
 * worker_rlimit_nofile, in each worker). One getrlimit a second at most,
 * and only while the cache is full. */
bool cache_budget_grew(void)
{
	uint64_t now = cache_now_ms();
	size_t was = config.max_fds;

	if (now < budget_next_ms)
		return false;
	budget_next_ms = now + 1000;
	return cache_budget_reread() && config.max_fds > was;
}

bool cache_budget_reread(void)
{
	size_t was = config.max_fds;

	if (!config_refresh_fds())
		return false;
	STAT_ADD(fds_budget, (ssize_t)config.max_fds - (ssize_t)was);
	fdtab_set_base(config.max_fds);
	return true;
}
