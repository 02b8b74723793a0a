/* stats.c - the counters of this process. */
#define _GNU_SOURCE
#include "stats.h"

#include <stdio.h>

struct sc_counters stats;

const char *const stats_names[] = {
#define SC_COUNTER(name, kind, desc) #name,
#include "stats_def.h"
#undef SC_COUNTER
	NULL,
};

size_t stats_format(char *buf, size_t size)
{
	size_t at = 0;
	int n;

#define SC_COUNTER(name, kind, desc)                                          \
	n = snprintf(buf + at, size - at, "%s %llu\n", #name,                 \
		     (unsigned long long)__atomic_load_n(&stats.name,         \
							 __ATOMIC_RELAXED));  \
	if (n < 0 || (size_t)n >= size - at)                                  \
		return at;                                                    \
	at += (size_t)n;
#include "stats_def.h"
#undef SC_COUNTER
	return at;
}
