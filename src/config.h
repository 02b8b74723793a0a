/* config.h - the SENDCACHE_* environment, read once into one immutable struct.
 *
 * Read in the constructor: nginx workers run with an emptied environment,
 * so values must be captured in the master before it forks.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sc_config {
	bool disabled;           /* SENDCACHE_DISABLE=1: forward everything */
	size_t max_fds;          /* descriptors the cache may hold, all kinds */
	size_t max_mapped;       /* bytes of file mappings held */
	bool admit_all;          /* cache at first open, no admission (admit.h) */
	size_t merge_max;        /* largest body mapped and sent by one writev */
	unsigned check_ms;       /* how often pending inotify events are read */
	unsigned revalidate_ms;  /* stat revalidation interval without inotify */
	bool inotify;            /* SENDCACHE_INOTIFY=0 forces revalidation */
	bool hold_heads;         /* hold an uncorked HTTP/1.x head for a merge */
	bool stats;              /* SENDCACHE_STATS=0: counters stay private */
	char stats_name[64];     /* instance name; empty: "<program>-<pid>" */
	char stats_group[64];    /* group that may read the segment, or empty */
	unsigned stats_slots;    /* processes the segment has room for */
	size_t copy_max;         /* largest file read()/pread() from a copy */
	size_t pipe_max;         /* largest file sent from a cached pipe */
	char prewarm[1024];      /* absolute directories to cache at start */
};

/* Every variable, for the docs and the tests: name, default, meaning. */
struct sc_config_var {
	const char *name;
	const char *dflt;
	const char *meaning;
};
extern const struct sc_config_var config_vars[];

/* The configuration in force. Filled by config_load(); defaults before. */
extern struct sc_config config;

/* Fills *cfg from getenv_fn (getenv, or a test's table). An empty, malformed
 * or out-of-range value writes one line naming the variable to err (if not
 * NULL) and keeps that field's default. Never fails. Returns the number of
 * values rejected. */
int config_parse(struct sc_config *cfg, const char *(*getenv_fn)(const char *),
		 FILE *err);

/* config_parse() from the process environment into `config`, with
 * max_fds also bounded by a quarter of RLIMIT_NOFILE (config_refresh_fds)
 * and, when not set, by a quarter of the user's inotify watches. */
void config_load(void);

/* The descriptor budget: wanted, at most a quarter of the soft limit. */
size_t config_fd_budget(size_t wanted, uint64_t soft_limit);

/* Reads RLIMIT_NOFILE again and sets config.max_fds from it; true if the
 * budget changed. A syscall: call it when the budget is met, not per
 * request. */
bool config_refresh_fds(void);

/* Sets the descriptors wanted (as SENDCACHE_MAX_FDS would) and the budget
 * from it; returns what was wanted before. */
size_t config_want_fds(size_t n);

#endif
