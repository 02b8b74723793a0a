/* engine_in.h - what the engine's files share (engine.c, blocking.c,
 * creds.c, descs.c), not for other modules. */
#ifndef SC_ENGINE_IN_H
#define SC_ENGINE_IN_H

#include "cache.h"
#include "ctl.h"
#include "fdtab.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether sendcache runs in this process: not yet decided (the first
 * call decides), on, or off (SENDCACHE_DISABLE, or it could not start). */
enum { SC_UNINIT, SC_ON, SC_OFF };
extern int sc_state;

/* A forked child is asleep: its calls go to libc as if sendcache were off
 * until it acts as a server process does (engine.c, "wake"). Per thread:
 * new, awake, or asleep. */
enum { T_NEW, T_AWAKE, T_ASLEEP };
extern __thread uint8_t thread_state;

/* on() and kin when this thread is not awake, or sendcache-ctl changed
 * the control block: starts sendcache, wakes (always if force, else if
 * fd1 or fd2 wakes), acts on the block (ctl.h), or says to pass. */
bool on_slow(bool force, int fd1, int fd2);

/* Whether this call goes through the engine: sendcache is on and this
 * thread is awake. A sleeping thread's calls pass. The one load of the
 * control block's generation is here. */
static inline bool on(void)
{
	return __builtin_expect(thread_state == T_AWAKE && !ctl_changed(), 1) ||
	       on_slow(false, -1, -1);
}

/* on() for a call on descriptors fd1 and fd2, which may wake a sleeper. */
static inline bool on_fd(int fd1, int fd2)
{
	return __builtin_expect(thread_state == T_AWAKE && !ctl_changed(), 1) ||
	       on_slow(false, fd1, fd2);
}

/* on() for a call that wakes a sleeper. */
static inline bool on_wake(void)
{
	return __builtin_expect(thread_state == T_AWAKE && !ctl_changed(), 1) ||
	       on_slow(true, -1, -1);
}

/* Whether a call the process's descriptor limit refused (EMFILE) is
 * worth making again: the cache gave back descriptors of its own. The
 * server never runs out of descriptors for the cache's sake. */
static inline bool emfile_again(int rc)
{
	bool again;

	if (__builtin_expect(rc >= 0, 1) || errno != EMFILE)
		return false;
	again = on() && cache_give_back();      /* on() may start us */
	errno = EMFILE;
	return again;
}

/* Set once a thread changed its own credentials: paths are no longer
 * answered from the cache (creds.c). */
extern bool creds_per_thread;

#endif
