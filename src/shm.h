/* shm.h - the layout of the stats segment, shared by the library (writer)
 * and sendcache-stat (reader).
 *
 * One POSIX shared-memory object per server instance, /dev/shm/sendcache.NAME:
 * a versioned header, the totals of processes that have exited, then one
 * slot per live process. A process claims a free slot for itself (a
 * compare-and-swap on its pid: no lock), adds only to it (relaxed
 * atomics), and folds its COUNT counters into the totals when it exits;
 * the slot of a process killed outright is folded by the next process
 * that finds no free slot. Readers retry while a fold is under way, a
 * bounded number of times.
 *
 * The segment is untrusted input (DESIGN.md invariant 11): every process
 * of an instance, the least privileged worker included, can write every
 * byte of it. Its geometry is read once, validated, and kept in private
 * memory; no index, pid, count or sequence number read from it is used
 * unchecked, and no loop over it is unbounded.
 */
#ifndef SC_SHM_H
#define SC_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

#define SC_SHM_MAGIC   0x3153544154534353ull   /* "SCSTATS1", little-endian */
#define SC_SHM_VERSION 3                        /* 3: control block, acks */
#define SC_SHM_PREFIX  "/sendcache."            /* + instance name */
#define SC_SHM_NAME_MAX 64
/* sendcache-ctl prewarm's list of directories, beside the segment (not
 * "sendcache." + something: that would read as another instance). */
#define SC_PREWARM_PREFIX "/sendcache-prewarm."   /* + instance name */
/* The most bytes a prewarm list may have. */
#define SC_PREWARM_MAX 65536
/* The most slots a segment may have (SENDCACHE_STATS_SLOTS' bound): a
 * segment larger than shm_size(SC_MAX_SLOTS) is not ours. */
#define SC_MAX_SLOTS 65536

enum { SC_COUNT, SC_GAUGE };

#define SC_COUNTER(name, kind, desc) + 1
enum { SC_NCOUNTERS = 0
#include "stats_def.h"
};
#undef SC_COUNTER

/* Per counter, in declaration order: name (NULL-terminated), kind and
 * description. */
extern const char *const stats_names[];
extern const int stats_kinds[];
extern const char *const stats_descs[];

/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit): a pid field
 * outside 1..SC_PID_MAX is damage. */
#define SC_PID_MAX 4194304

/* struct sc_shm_slot's ctl_state: what the process did with the control
 * block at generation ctl_ack. */
#define SC_ACK_PAUSED       1u   /* passes every call to libc */
#define SC_ACK_PREWARM_ROOT 2u   /* runs as root: does not prewarm */
#define SC_ACK_PREWARM_BAD  4u   /* refused the prewarm list (ctl.c) */

struct sc_shm_slot {
	int32_t pid;              /* 0 free; -P being claimed or folded by P */
	uint32_t ctl_state;       /* SC_ACK_* */
	uint64_t start_ticks;     /* the process's start time, tells pid reuse */
	uint64_t ctl_ack;         /* the control generation it last acted on */
	struct sc_counters c;
};

/* The control block (sendcache-ctl). Written by a process that can open
 * the segment for writing (its owner, root), under a write lock of the
 * segment (F_OFD_SETLK): gen is made odd, the fields written, gen made
 * even and larger.
 * Every process loads gen at each interposed call and acts when it
 * differs from the last it acted on. A worker can write here too
 * (DESIGN.md 11): every field can only narrow what a process does (drop
 * entries, pass calls to libc), and no path in it is ever opened; the
 * prewarm list is a file only the controller can write (ctl.c). */
#define SC_CTL_PATHS 4096

/* The fences of the control block's odd/even generation (release after
 * the writer's odd store, acquire before the reader's second load).
 * GCC refuses fences under -fsanitize=thread, which cannot model them:
 * there a sequentially consistent load of the generation stands in. */
#ifdef __SANITIZE_THREAD__
# define SC_CTL_FENCE(order, gen) ((void)__atomic_load_n((gen), __ATOMIC_SEQ_CST))
#else
# define SC_CTL_FENCE(order, gen) __atomic_thread_fence(order)
#endif

struct sc_shm_ctl {
	uint64_t gen;             /* odd while being written */
	uint64_t purges;          /* purges asked for */
	uint64_t prewarms;        /* prewarms asked for */
	uint32_t paused;          /* nonzero: pass every call to libc */
	uint32_t npaths;          /* the last purge's paths; 0: everything */
	char paths[SC_CTL_PATHS]; /* npaths absolute paths, each NUL-ended */
};

struct sc_shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;     /* sizeof(struct sc_shm_header) */
	uint32_t slot_size;       /* sizeof(struct sc_shm_slot) */
	uint32_t nslots;
	uint32_t ncounters;
	int32_t creator_pid;
	int64_t created;          /* time(2) at creation */
	uint32_t folds_begun;     /* folds into totals started ... */
	uint32_t folds_done;      /* ... and finished: equal when none runs */
	struct sc_counters totals;/* COUNT counters of exited processes */
	struct sc_shm_ctl ctl;
};

_Static_assert(sizeof(struct sc_counters) == SC_NCOUNTERS * sizeof(uint64_t),
	       "counters are a packed array of u64");
_Static_assert(offsetof(struct sc_shm_header, totals) == 48,
	       "header layout is pinned (bump SC_SHM_VERSION to change it)");
_Static_assert(offsetof(struct sc_shm_slot, c) == 24, "slot layout is pinned");
_Static_assert(offsetof(struct sc_shm_ctl, paths) == 32, "ctl layout is pinned");

static inline size_t shm_size(uint32_t nslots)
{
	return sizeof(struct sc_shm_header) +
	       (size_t)nslots * sizeof(struct sc_shm_slot);
}

/* Slot i of a segment whose geometry was validated (shm_validate): the
 * offsets are this build's, never the header's, so that a header changed
 * later cannot move a slot out of the mapping. i < the validated nslots. */
static inline struct sc_shm_slot *shm_slot(const struct sc_shm_header *h,
					   uint32_t i)
{
	return (struct sc_shm_slot *)((char *)h + sizeof(*h) +
				      (size_t)i * sizeof(struct sc_shm_slot));
}

/* Why a segment cannot be read: 0 when it can. */
enum shm_check {
	SHM_OK = 0,
	SHM_SHORT,            /* smaller than its header says */
	SHM_BAD_MAGIC,
	SHM_BAD_VERSION,      /* another layout version */
	SHM_BAD_LAYOUT,       /* sizes or counter count differ from ours */
};

/* Validates a segment of len bytes and stores its slot count in *nslots
 * (each header field is read once). Never reads past len. */
enum shm_check shm_validate(const struct sc_shm_header *h, size_t len,
			    uint32_t *nslots);

/* The start time of pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 if it cannot be read (no such process, or a pid
 * outside 1..SC_PID_MAX). */
uint64_t shm_start_ticks(pid_t pid);

/* The state letter of process pid in /proc/PID/stat ('R', 'S', 'Z'...),
 * or 0 if it is gone. */
char shm_proc_state(pid_t pid);

/* True if pid (a value read from the segment) names a process that
 * exists: 1..SC_PID_MAX and kill(pid, 0) does not say ESRCH. */
bool shm_pid_exists(int32_t pid);

/* True if the process owning s is alive (same pid, same start time); a
 * slot being claimed or folded is alive while its claimer is. */
bool shm_slot_alive(const struct sc_shm_slot *s);

/* True if some process other than this one may map the file (dev, ino):
 * its /proc/PID/maps names that inode, or (for a caller other than
 * root) cannot be read although the process runs as this user. The last word before a segment is removed:
 * slots (which anyone can scribble over) may say no process counts in a
 * segment that live processes still map. Reads every process's maps;
 * called only for a segment that looks abandoned. */
bool shm_mapped(dev_t dev, ino_t ino);

/* Removes the shm_open(3) name (e.g. "/sendcache.x") only if it still
 * names the file (dev, ino): a check that took a while must not remove a
 * segment a new instance made under the same name meanwhile. Its
 * prewarm list goes too. */
void shm_unlink_same(const char *name, dev_t dev, ino_t ino);

/* Removes the prewarm list of segment name ("/sendcache.x"), if there is
 * one this process may remove: it goes with the segment. */
void shm_unlink_prewarm(const char *name);

/* Reads a fold-consistent sum tries times at most before giving up. */
#define SHM_SUM_TRIES 1000

/* Sums the first nslots slots of h into *out: totals, every slot's COUNT
 * counters, and the gauges of live slots; only the slots of pid if
 * pid > 0. Returns the number of live processes, or -1 when no reading
 * in SHM_SUM_TRIES saw the totals hold still (a fold that never ends:
 * a damaged segment). */
int shm_sum(const struct sc_shm_header *h, uint32_t nslots, pid_t pid,
	    struct sc_counters *out);

/* Live processes among the first nslots slots of h, not counting the
 * slots of pid `except`; stops counting at `enough`. */
int shm_live(const struct sc_shm_header *h, uint32_t nslots, pid_t except,
	     int enough);

#endif
