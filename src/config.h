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

/* The C type of each kind of variable (config_def.h). */
#define SC_CTYPE_BOOL(f)  bool f
#define SC_CTYPE_COUNT(f) size_t f
#define SC_CTYPE_SIZE(f)  size_t f
#define SC_CTYPE_MS(f)    unsigned f
#define SC_CTYPE_NAME(f)  char f[64]
#define SC_CTYPE_DIRS(f)  char f[1024]
#define SC_CTYPE_PATH(f)  char f[256]

/* One member per variable of config_def.h; an empty string is unset. */
struct sc_config {
#define SC_VAR(N, f, K, ...) SC_CTYPE_##K(f);
#include "config_def.h"
#undef SC_VAR
};

/* Every variable, for the docs and the tests, in config_def.h's order. */
enum sc_kind { CK_BOOL, CK_COUNT, CK_SIZE, CK_MS, CK_NAME, CK_DIRS, CK_PATH };

struct sc_config_var {
	const char *name;        /* SENDCACHE_... */
	enum sc_kind kind;
	size_t offset, size;     /* the member of struct sc_config */
	const char *shown;       /* the default as the docs show it */
	const char *option;      /* sendcache-run's option */
	const char *brief;       /* sendcache-run --help's words */
	const char *meaning;     /* the tables' words */
	uint64_t lo, hi;         /* bounds of COUNT, SIZE and MS */
};
extern const struct sc_config_var config_vars[];

/* Writes what a value of v must be ("a count from 4 to 1048576") to buf. */
void config_want(const struct sc_config_var *v, char *buf, size_t size);

/* The configuration in force. Filled by config_load(); defaults before. */
extern struct sc_config config;

/* config_def.h's defaults, before any variable or limit is applied. */
extern const struct sc_config config_defaults;

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
