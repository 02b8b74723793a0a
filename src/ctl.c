/* ctl.c - acting on sendcache-ctl's control block (ctl.h).
 *
 * The block is untrusted input (DESIGN.md 11): any process of the
 * instance can write it. It is read into private memory, checked, and
 * can only make a process do less: drop entries, pass calls to libc. The
 * directories to prewarm are not in it; they are in a file beside the
 * segment that only the segment's owner or root can have written, and a
 * process running as root does not act on them at all.
 */
#define _GNU_SOURCE
#include "ctl.h"
#include "cache.h"
#include "real.h"
#include "shm.h"
#include "stats.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const uint64_t no_gen;
const uint64_t *ctl_gen = &no_gen;
uint64_t ctl_seen;
bool ctl_paused;
bool ctl_prewarm_due;

static struct sc_shm_ctl *block;
/* What this process acted on: the block's purges and prewarms. */
static uint64_t purges_seen, prewarms_seen;
/* A prewarm asked for and not done: this process ran as root when it was
 * due. A child that leaves root (nginx's worker) does it (ctl_creds). */
static bool prewarm_wanted;
static uint32_t ack_state;
static pthread_mutex_t ctl_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Set while this thread acts on the block or prewarms: a signal
 * handler's call that comes back here goes on without waiting on its own
 * thread. */
static __thread bool in_notice;

/* A private copy of the block (under ctl_mutex). */
static struct sc_shm_ctl copy;

/* Copies of a block being rewritten all the while: given up, the process
 * acts at a later call. */
#define READ_TRIES 4

void ctl_init(void)
{
	block = stats_ctl();
	if (!block)
		return;
	ctl_gen = &block->gen;
	/* Purges asked for before this process began have nothing of its
	 * to drop (SENDCACHE_PREWARM comes after this); a pause is still
	 * taken at the first call, which finds the generation unseen. */
	purges_seen = __atomic_load_n(&block->purges, __ATOMIC_RELAXED);
}

/* Set by a parent that took the lock to fork: it has other threads, and
 * is not in a signal handler that interrupted its own ctl_notice. A
 * parent with one thread writes nothing here at fork, so that a child
 * serving one connection copies no page of ours (t4012). */
static bool fork_locked;

void ctl_fork_prepare(void)
{
	if (!in_notice && !cache_fork_alone()) {
		pthread_mutex_lock(&ctl_mutex);
		fork_locked = true;
	}
}

void ctl_fork_parent(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_unlock(&ctl_mutex);
	}
}

void ctl_fork_child(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_init(&ctl_mutex, NULL);
	}
}

void ctl_creds(void)
{
	if (prewarm_wanted)
		__atomic_store_n(&ctl_prewarm_due, true, __ATOMIC_RELAXED);
}

/* Copies the block into copy: false while sendcache-ctl writes it (the
 * generation is odd, or changed during the copy). */
static bool read_block(void)
{
	int i;

	for (i = 0; i < READ_TRIES; i++) {
		copy.gen = __atomic_load_n(&block->gen, __ATOMIC_ACQUIRE);
		if (copy.gen & 1)
			return false;
		copy.purges = __atomic_load_n(&block->purges, __ATOMIC_RELAXED);
		copy.prewarms = __atomic_load_n(&block->prewarms, __ATOMIC_RELAXED);
		copy.paused = __atomic_load_n(&block->paused, __ATOMIC_RELAXED);
		copy.npaths = __atomic_load_n(&block->npaths, __ATOMIC_RELAXED);
		memcpy(copy.paths, block->paths, sizeof(copy.paths));
		SC_CTL_FENCE(__ATOMIC_ACQUIRE, &block->gen);
		if (__atomic_load_n(&block->gen, __ATOMIC_RELAXED) == copy.gen)
			return true;
	}
	return false;
}

/* Drops the entries under each path of the copy. False, with nothing
 * dropped, if the list is not npaths absolute paths that fit. */
static bool purge_paths(void)
{
	static const char *paths[SC_CTL_PATHS / 2];
	const char *p = copy.paths, *end = copy.paths + sizeof(copy.paths);
	const char *nul;
	uint32_t i;

	if (copy.npaths > SC_CTL_PATHS / 2)
		return false;
	for (i = 0; i < copy.npaths; i++, p = nul + 1) {
		nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
		if (!nul || p[0] != '/' || nul - p >= PATH_MAX)
			return false;
		paths[i] = p;
	}
	cache_purge(paths, copy.npaths);
	return true;
}

/* Acts on the copy: purge first, so that no call after this one is
 * answered from what was cached before. */
static void act(void)
{
	if (copy.purges != purges_seen) {
		/* One purge with paths: those. Several since the last one
		 * seen, or a damaged list: everything. */
		if (copy.purges - purges_seen != 1 || copy.npaths == 0 ||
		    !purge_paths())
			cache_drop_all();
		purges_seen = copy.purges;
		STAT_INC(purged);
	}
	if (copy.paused && !ctl_paused) {
		/* Nothing stays that could go stale unseen meanwhile. */
		cache_drop_all();
		__atomic_store_n(&ctl_paused, true, __ATOMIC_RELAXED);
		ack_state |= SC_ACK_PAUSED;
	} else if (!copy.paused && ctl_paused) {
		__atomic_store_n(&ctl_paused, false, __ATOMIC_RELAXED);
		ack_state &= ~SC_ACK_PAUSED;
	}
	if (copy.prewarms != prewarms_seen) {
		prewarm_wanted = true;
		__atomic_store_n(&ctl_prewarm_due, true, __ATOMIC_RELAXED);
		prewarms_seen = copy.prewarms;
	}
}

/* The block stays odd or torn this long before a process gives up
 * waiting for the writer and drops its cache instead. */
#define WRITE_WAIT_US 2000

/* Waits, a little, for the writer to finish: true once the block reads
 * whole (in copy). */
static bool read_settled(void)
{
	int waited;

	for (waited = 0; !read_block(); waited += 100) {
		if (waited >= WRITE_WAIT_US)
			return false;
		nanosleep(&(struct timespec){ 0, 100 * 1000 }, NULL);
	}
	return true;
}

void ctl_notice(void)
{
	if (in_notice)
		return;
	in_notice = true;
	pthread_mutex_lock(&ctl_mutex);
	if (ctl_changed()) {
		if (read_settled()) {
			act();
			__atomic_store_n(&ctl_seen, copy.gen, __ATOMIC_RELEASE);
			stats_ack(copy.gen, ack_state);
		} else {
			/* A writer stopped half-way, or a worker keeps the
			 * block odd: nothing it may be purging is served, and
			 * the process passes every call as if paused until
			 * the block reads whole again. */
			cache_drop_all();
			__atomic_store_n(&ctl_paused, true, __ATOMIC_RELAXED);
			ack_state |= SC_ACK_PAUSED;
			__atomic_store_n(&ctl_seen, __atomic_load_n(ctl_gen,
				__ATOMIC_RELAXED), __ATOMIC_RELEASE);
			stats_ack(ctl_seen, ack_state);
		}
	}
	pthread_mutex_unlock(&ctl_mutex);
	in_notice = false;
}

/* Reads the prewarm list into a malloc'd string of lines, or NULL: it
 * must be a regular file of one link that only the segment's owner or
 * root wrote, no larger than SC_PREWARM_MAX. */
static char *read_list(void)
{
	char path[sizeof("/dev/shm") + sizeof(SC_PREWARM_PREFIX) +
		  SC_SHM_NAME_MAX];
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm" SC_PREWARM_PREFIX "%s",
		 stats_instance());
	fd = real.openat(AT_FDCWD, path,
			 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (real.fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1 && !(st.st_mode & 022) &&
	    (st.st_uid == 0 || st.st_uid == stats_owner()) &&
	    st.st_size > 0 && st.st_size <= SC_PREWARM_MAX &&
	    (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		n = real.pread(fd, buf, (size_t)st.st_size, 0);
		if (n > 0 && !memchr(buf, 0, (size_t)n)) {
			buf[n] = 0;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	real.close(fd);
	return buf;
}

/* Ends a prewarm walk when the block changed meanwhile: what it asks
 * (a purge, a pause) is acted on at the next call. */
static bool walk_stop(void)
{
	return ctl_changed();
}

void ctl_prewarm(void)
{
	bool root;
	char *list = NULL;

	pthread_mutex_lock(&ctl_mutex);
	if (!ctl_prewarm_due || ctl_paused || !cache_may_prewarm()) {
		pthread_mutex_unlock(&ctl_mutex);
		return;
	}
	__atomic_store_n(&ctl_prewarm_due, false, __ATOMIC_RELAXED);
	ack_state &= ~(SC_ACK_PREWARM_ROOT | SC_ACK_PREWARM_BAD);
	/* A worker can ask for this (the block is anyone's): a process
	 * running as root (nginx's master) opens nothing for it, and tries
	 * again only once its credentials change. */
	root = geteuid() == 0;
	if (root) {
		ack_state |= SC_ACK_PREWARM_ROOT;
	} else {
		prewarm_wanted = false;
		if ((list = read_list()) == NULL)
			ack_state |= SC_ACK_PREWARM_BAD;
	}
	stats_ack(ctl_seen, ack_state);
	pthread_mutex_unlock(&ctl_mutex);
	if (!list)
		return;
	/* Without the lock: a purge other threads must act on meanwhile
	 * does not wait for the walk. */
	in_notice = true;
	cache_prewarm_dirs(list, '\n', walk_stop);
	in_notice = false;
	free(list);
}
