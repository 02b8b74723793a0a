/* stats.h - this process's counters: a slot of the shared-memory segment
 * (shm.h) when there is one, private memory otherwise. */
#ifndef SC_STATS_H
#define SC_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sc_counters {
#define SC_COUNTER(name, kind, desc) uint64_t name;
#include "stats_def.h"
#undef SC_COUNTER
};

/* Where this process counts. Never NULL. */
extern struct sc_counters *stats_cur;

/* Relaxed: each counter is independent, readers only want eventual sums;
 * a process is the only writer of its slot. */
#define STAT_ADD(name, n) \
	__atomic_add_fetch(&stats_cur->name, (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_INC(name) STAT_ADD(name, 1)
#define STAT_SUB(name, n) \
	__atomic_sub_fetch(&stats_cur->name, (uint64_t)(n), __ATOMIC_RELAXED)

/* Formats every counter of this process as "name value\n" lines into buf.
 * Returns the bytes written; stops at the last whole line that fits. No
 * allocation, no syscall: usable in a destructor. */
size_t stats_format(char *buf, size_t size);

/* Creates or joins the instance's segment (config.stats_*) and takes a
 * slot. On any failure prints one line on stderr and keeps counting in
 * private memory. */
void stats_init(void);

/* fork(2): the parent keeps the gauges its child starts from. */
void stats_fork_prepare(void);

/* A forked child, pid me, wakes (cache_wake): it counts from zero, from
 * its parent's gauges, in a slot of its own. */
void stats_after_fork(pid_t me);

/* At exit: folds this process's counts into the totals and frees its slot;
 * the last process of the instance removes the segment. */
void stats_exit(void);

/* At exit, SENDCACHE_STATS_FILE set: appends "pid N" and this process's
 * counters to it in one write, never through a symlink (stats.c). */
void stats_dump_file(void);

/* The process is about to take the real uid ruid and the effective uid
 * euid (setuid and kin; (uid_t)-1: unchanged). A root process that made
 * the segment, leaves root for good (both non-zero: not seteuid), has no
 * child alive and no other process counting in it gives it to euid first: a wrapper that drops privileges
 * and execs (setpriv, su-exec, chpst -u) can then remove it, and so can
 * the program it runs, as they could had they made it themselves. A
 * server that drops them in one process removes its own at exit: lighttpd
 * too, whose configuration (Debian's include_shell) forked a child that
 * is gone by then. Never fails the call; errno is kept. */
void stats_uid_changing(uid_t ruid, uid_t euid);

/* The segment's name (without the leading '/'), or "" when there is none. */
const char *stats_instance(void);

/* The segment's control block (shm.h), or NULL when counters are
 * private; and the segment's owner. For ctl.c. */
struct sc_shm_ctl *stats_ctl(void);
uid_t stats_owner(void);

/* This process acted on control generation gen (state: SC_ACK_* of
 * shm.h): written to its slot, and to any slot it takes later. */
void stats_ack(uint64_t gen, uint32_t state);

#endif
