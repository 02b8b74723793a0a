/* cache_fork.c - the cache across fork(2) (cache.h: cache_fork_*,
 * cache_wake): the parent writes only what changed, the child wakes with
 * its parent's view and trusts it FORK_TRUST_MS (cache.c). */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "engine.h"             /* SC_CHILD_TEXT */
#include "fdtab.h"
#include "real.h"
#include "stats.h"
#include "watch.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__GLIBC__) && __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define HAVE_SINGLE_THREADED 1
#endif

/* The process whose view of the cache this is: a forked child's stays its
 * parent's until it wakes (cache_wake). */
static pid_t awake_pid;
/* Set by a parent that took the lock to fork (it has other threads). */
static bool fork_locked;

/* True if no other thread can be inside the cache. Asked at each fork:
 * a parent with one thread neither takes the lock nor writes it, so that
 * neither it nor its child copies the lock's page (cache_fork_child). */
static bool alone(void)
{
#ifdef HAVE_SINGLE_THREADED
	return __libc_single_threaded;
#else
	return false;
#endif
}

bool cache_fork_alone(void)
{
	return alone();
}

/* Whether this process forks a child per connection. Its children
 * (busybox httpd's: served and gone) never wake, and then all it holds
 * costs each fork and each exit, and each page it writes after a fork
 * is one more fault (20-45 us on a small VM, against 1.2 ms for a
 * request). Children that wake count in a word shared with their parent.
 * After JUDGE_FORKS forks over at least JUDGE_MS with none awake (a burst
 * of workers started at once has had time to wake), and no hit or cached
 * file here, the process drops its cache (what SENDCACHE_PREWARM put
 * there) and stops recording the kind of each descriptor it is handed
 * (fdtab_lazy): the number of an accepted connection, closed after the
 * fork, would write the table. A child that wakes later undoes that. */
#define JUDGE_FORKS 16
#define JUDGE_MS 1000
enum { JUDGING, SLEEPERS, DONE };
static unsigned *woke;          /* shared: children of ours that woke */
static unsigned judged_forks;
static uint64_t judge_since_ms;
static int judge_state;
bool cache_used;                /* a hit or a file cached here */

static void woke_unmap(void)
{
	if (woke)
		real.munmap(woke, sizeof(*woke));
	woke = NULL;
}

static void judge_end(void)
{
	woke_unmap();
	judge_state = DONE;
}

/* The cache dropped, unless this fork interrupted a cache call of this
 * thread (a fork in a signal handler): then at a later fork. */
static bool drop_now(void)
{
	if (pthread_mutex_trylock(&cache_mutex) != 0)
		return false;
	cache_drop_all_locked();        /* counted in inval_all */
	pthread_mutex_unlock(&cache_mutex);
	return true;
}

/* At a fork of an awake process, before the lock is taken. */
static void judge_fork(void)
{
	void *p;

	if (judge_state == DONE)
		return;
	if (!woke) {
		p = real.mmap(NULL, sizeof(*woke), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			judge_end();
			return;
		}
		woke = p;
		judge_since_ms = cache_now_ms();
		return;
	}
	if (__atomic_load_n(woke, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&cache_used, __ATOMIC_RELAXED)) {
		/* Its children or itself use the cache. */
		__atomic_store_n(&fdtab_lazy, false, __ATOMIC_RELAXED);
		judge_end();
	} else if (judge_state == JUDGING && ++judged_forks >= JUDGE_FORKS &&
		   cache_now_ms() - judge_since_ms >= JUDGE_MS && drop_now()) {
		__atomic_store_n(&fdtab_lazy, true, __ATOMIC_RELAXED);
		judge_state = SLEEPERS;         /* the word is still read */
	}
}

/* fork: no other thread may be inside the cache while the child's copy of
 * memory is made. Only what changed is written here: every page the
 * parent writes is copied again at its next fork (a server forking per
 * connection forks at every request). */
void cache_fork_prepare(void)
{
	judge_fork();
	if (!alone()) {
		pthread_mutex_lock(&cache_mutex);
		fork_locked = true;
	}
	/* Events read for the child's view; not for children that sleep
	 * (a read, and a page written, every CHECK_MS of forks). */
	if (!cache_forked && !__atomic_load_n(&fdtab_lazy, __ATOMIC_RELAXED))
		watch_poll(cache_now_ms(), false);
	body_fork_prepare();
}

void cache_fork_parent(void)
{
	body_fork_parent();
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_unlock(&cache_mutex);
	}
}

void cache_fork_child(void)
{
	if (fork_locked) {
		fork_locked = false;
		pthread_mutex_init(&cache_mutex, NULL);
	}
}

void cache_fork_init(void)
{
	awake_pid = getpid();
}

/* Asked by a child at its exit (engine.c, sc_dtor). */
SC_CHILD_TEXT bool cache_awake(void)
{
	return awake_pid == getpid();
}

/* The child's share of a fork, when it wakes: its mappings, counters,
 * descriptor kinds, working directory (it may have moved asleep), and a
 * view of files it trusts a while (refresh_locked) before it reads events
 * of its own. */
void cache_wake(void)
{
	pid_t me = getpid();

	pthread_mutex_lock(&cache_mutex);
	if (awake_pid == me) {
		pthread_mutex_unlock(&cache_mutex);
		return;
	}
	stats_after_fork(me);
	fdtab_after_fork();
	cache_cwd_read_locked();
	body_wake();
	/* A grandchild forked inside its parent's window inherits that
	 * window: the view it trusts is as old as the first fork. */
	if (!cache_forked)
		cache_fork_ms = watch_polled_ms();
	cache_forked = true;
	awake_pid = me;
	if (woke) {             /* its parent's, shared */
		__atomic_fetch_add(woke, 1, __ATOMIC_RELAXED);
		woke_unmap();
	}
	judge_state = JUDGING;  /* its own forks are judged anew */
	judged_forks = 0;
	__atomic_store_n(&cache_used, false, __ATOMIC_RELAXED);
	__atomic_store_n(&fdtab_lazy, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&cache_mutex);
}
