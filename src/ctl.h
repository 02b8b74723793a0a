/* ctl.h - what sendcache-ctl asks of every process of an instance
 * (purge, pause, resume, prewarm), through the stats segment's control
 * block (shm.h, struct sc_shm_ctl).
 *
 * Each interposed call loads the block's generation word once, in the
 * engine's gate (engine_in.h): no syscall, no lock. When it differs from
 * the last one this process acted on, ctl_notice() acts before the call
 * goes on: a purge drops entries before anything is answered, so a
 * request that starts after sendcache-ctl returned never sees bytes
 * cached before it. A prewarm waits for the next blocking point.
 */
#ifndef SC_CTL_H
#define SC_CTL_H

#include <stdbool.h>
#include <stdint.h>

/* The generation word: the segment's, or a private zero. */
extern const uint64_t *ctl_gen;
/* The generation this process last acted on. */
extern uint64_t ctl_seen;
/* Paused: the cache answers nothing and send starts holding nothing;
 * descriptors and corks already tracked are still looked after. */
extern bool ctl_paused;
/* A prewarm is due at this process's next blocking point. */
extern bool ctl_prewarm_due;

/* True if the control block changed since this process last acted. */
static inline bool ctl_changed(void)
{
	return __builtin_expect(__atomic_load_n(ctl_gen, __ATOMIC_ACQUIRE) !=
				__atomic_load_n(&ctl_seen, __ATOMIC_ACQUIRE), 0);
}

static inline bool ctl_is_paused(void)
{
	return __builtin_expect(__atomic_load_n(&ctl_paused, __ATOMIC_RELAXED), 0);
}

/* After stats_init(): points ctl_gen at the segment's word. */
void ctl_init(void);

/* Acts on the control block if it changed: purges, pauses or resumes,
 * notes a prewarm. A block being written is waited for a little, then
 * the cache is dropped instead. A signal handler that interrupted this
 * thread's own ctl_notice goes on without it. */
void ctl_notice(void);

/* At a blocking point with ctl_prewarm_due set: caches the files under
 * the directories of the prewarm list, within the budgets; as root,
 * nothing (until ctl_creds). */
void ctl_prewarm(void);

/* fork(2): the lock is held across it, and the child's is free again. */
void ctl_fork_prepare(void);
void ctl_fork_parent(void);
void ctl_fork_child(void);

/* The process changed credentials: a prewarm it did not do as root is
 * due again (a worker that dropped root). */
void ctl_creds(void);

#endif
