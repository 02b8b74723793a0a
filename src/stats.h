/* stats.h - per-process counters, relaxed atomic adds. */
#ifndef SC_STATS_H
#define SC_STATS_H

#include <stddef.h>
#include <stdint.h>

struct sc_counters {
#define SC_COUNTER(name, kind, desc) uint64_t name;
#include "stats_def.h"
#undef SC_COUNTER
};

extern struct sc_counters stats;

/* Relaxed: each counter is independent, readers only want eventual sums. */
#define STAT_ADD(name, n) \
	__atomic_add_fetch(&stats.name, (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_INC(name) STAT_ADD(name, 1)
#define STAT_SUB(name, n) \
	__atomic_sub_fetch(&stats.name, (uint64_t)(n), __ATOMIC_RELAXED)

/* Counter names in declaration order, NULL-terminated. */
extern const char *const stats_names[];

/* Formats every counter as "name value\n" lines into buf (NUL-terminated
 * if room). Returns the bytes written; stops at the last whole line that
 * fits. No allocation, no syscall: usable in a destructor. */
size_t stats_format(char *buf, size_t size);

#endif
