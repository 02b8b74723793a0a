/* shm.h - the layout of the stats segment, shared by the library (writer)
 * and sendcache-stat (reader).
 *
 * One POSIX shared-memory object per server instance, /dev/shm/sendcache.NAME:
 * a versioned header, the totals of processes that have exited, then one
 * slot per live process. A process adds only to its own slot (relaxed
 * atomics). A slot whose process died is folded into the totals (COUNT
 * counters only; gauges die with their process) by the next process that
 * needs a slot, inside a seqlock so readers never see a total go backwards.
 */
#ifndef SC_SHM_H
#define SC_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

#define SC_SHM_MAGIC   0x3153544154534353ull   /* "SCSTATS1", little-endian */
#define SC_SHM_VERSION 1
#define SC_SHM_PREFIX  "/sendcache."            /* + instance name */
#define SC_SHM_NAME_MAX 64

enum { SC_COUNT, SC_GAUGE };

#define SC_COUNTER(name, kind, desc) + 1
enum { SC_NCOUNTERS = 0
#include "stats_def.h"
};
#undef SC_COUNTER

/* Per counter, in declaration order: kind and description (names are
 * stats_names[]). */
extern const int stats_kinds[];
extern const char *const stats_descs[];

struct sc_shm_slot {
	int32_t pid;              /* 0 free; -P reserved by parent P for a child */
	uint32_t reserved;
	uint64_t start_ticks;     /* the process's start time, tells pid reuse */
	struct sc_counters c;
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
	uint32_t seq;             /* odd while totals are being updated */
	int32_t lock;             /* pid holding the claim/fold lock, or 0 */
	struct sc_counters totals;/* COUNT counters of exited processes */
};

_Static_assert(sizeof(struct sc_counters) == SC_NCOUNTERS * sizeof(uint64_t),
	       "counters are a packed array of u64");
_Static_assert(offsetof(struct sc_shm_header, totals) == 48,
	       "header layout is pinned (bump SC_SHM_VERSION to change it)");
_Static_assert(offsetof(struct sc_shm_slot, c) == 16, "slot layout is pinned");

static inline size_t shm_size(uint32_t nslots)
{
	return sizeof(struct sc_shm_header) +
	       (size_t)nslots * sizeof(struct sc_shm_slot);
}

static inline struct sc_shm_slot *shm_slot(const struct sc_shm_header *h,
					   uint32_t i)
{
	return (struct sc_shm_slot *)((char *)h + h->header_size +
				      (size_t)i * h->slot_size);
}

/* Why a segment cannot be read: 0 when it can. */
enum shm_check {
	SHM_OK = 0,
	SHM_SHORT,            /* smaller than its header says */
	SHM_BAD_MAGIC,
	SHM_BAD_VERSION,      /* another layout version */
	SHM_BAD_LAYOUT,       /* sizes or counter count differ from ours */
};

/* Validates a mapped segment of len bytes. Never reads past len. */
enum shm_check shm_validate(const struct sc_shm_header *h, size_t len);

/* The start time of pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 if it cannot be read (no such process). */
uint64_t shm_start_ticks(pid_t pid);

/* True if the process owning slot s is alive (same pid, same start time);
 * a reserved slot is alive while its parent is. */
bool shm_slot_alive(const struct sc_shm_slot *s);

/* The start time /proc shows for a process forked just now, from
 * CLOCK_BOOTTIME (the clock the kernel stamps a new task with), in
 * clock ticks: no /proc read in every child of a forking server. It may
 * be a tick or two later than /proc's, which shm_slot_alive() allows. */
uint64_t shm_fork_ticks(void);

/* Sums the segment into *out: totals, every slot's COUNT counters, and
 * the gauges of live slots; only the slot of pid if pid > 0. Retries while
 * a fold is in progress. Returns the number of live processes (a slot
 * reserved for a child being forked counts as one). */
int shm_sum(const struct sc_shm_header *h, pid_t pid, struct sc_counters *out);

#endif
