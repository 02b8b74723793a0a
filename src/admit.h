/* admit.h - which files earn a place in a full cache: a frequency sketch.
 *
 * Caching a file costs about ten system calls (a watch, stats, our own
 * descriptor, a mapping) and evicting one four more; a hit saves two or
 * three. A file requested once and never again (most files of a large
 * site under Zipf traffic, every file a crawler walks) must therefore not
 * displace one that is requested often. As TinyLFU (Einziger, Friedman,
 * Manes, 2017): a count-min sketch of recent request frequencies, 4 rows
 * of 8-bit counters saturating at 15, all halved every ten times the
 * budget of requests so that old popularity fades. While the cache has
 * room a file is admitted at its first request if the cache holds under
 * CACHE_FIRST_USE_FDS descriptors, else at its second; when admitting
 * means evicting, a candidate is admitted only if it was requested at
 * least twice lately and more often than the entry it would evict.
 *
 * Keys are 64-bit hashes of absolute paths (admit_hash). All functions
 * run under the cache lock. The table (4 rows of 16 counters per budgeted
 * descriptor, at most 1 MiB) is allocated at the first request, and anew
 * when the budget grows; without memory every file is admitted.
 */
#ifndef SC_ADMIT_H
#define SC_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 64-bit hash of a path, or of its first len bytes. */
uint64_t admit_hash(const char *path);
uint64_t admit_hash_len(const char *p, size_t len);

/* Counts one request for key. Returns its estimated recent frequency,
 * this request included (1 to 15). */
unsigned admit_touch(uint64_t key);

/* The estimated recent frequency of key (0 to 15), without counting. */
unsigned admit_freq(uint64_t key);

/* A candidate of frequency cand (this request included) may evict an
 * entry of frequency victim: if it was asked for more often than the
 * victim without counting this request. Counting it, a walk over more
 * files than fit (a loop, a crawler that comes round again) admitted each
 * file over the one it would ask for next, one request of the victim's
 * still to come: every request a miss and an eviction, 3.4 times slower
 * than the server alone; now the files cached stay and hit. */
static inline bool admit_beats(unsigned cand, unsigned victim)
{
	return cand >= 2 && cand - 1 > victim;
}

#endif
