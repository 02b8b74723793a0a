/* neg.h - remembered absences: a name known not to exist (ENOENT) or to
 * pass through a non-directory (ENOTDIR), answered without a syscall
 * while it stays fresh (cache_in.h, struct fresh). All locked. */
#ifndef SC_NEG_H
#define SC_NEG_H

#include "cache.h"

#include <stdbool.h>
#include <stddef.h>

/* The errno k's path failed with, if remembered and still fresh; 0. */
int neg_find(const struct cache_key *k);

/* k's path failed with err just now. absolute: the failed call's path
 * was absolute. */
void neg_add(const struct cache_key *k, int err, bool absolute);

/* path (and, if subtree, everything under it; len = strlen(path))
 * changed: its negatives go. */
void neg_changed(const char *path, size_t len, bool subtree);

/* Every negative goes. */
void neg_drop_all(void);

#endif
