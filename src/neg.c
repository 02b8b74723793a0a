/* neg.c - remembered absences (neg.h): a hash table by path, bounded by
 * a FIFO, each entry kept fresh as a cached name is. */
#define _GNU_SOURCE
#include "neg.h"
#include "cache_in.h"
#include "real.h"
#include "stats.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A name known not to exist (ENOENT) or to pass through a non-directory
 * (ENOTDIR), as stat and open would say. Answered without a syscall until
 * its directory changes (watched like a cached name) or, unwatched, until
 * a revalidation by stat disagrees. */
struct cache_neg {
	int err;
	struct fresh fresh;
	struct cache_neg *newer;  /* FIFO, for the bound */
	UT_hash_handle hh;
	char path[];
};

/* Bound on remembered negatives: a client asking for random missing
 * names must not make the cache grow; the oldest goes first. */
#define NEG_MAX 4096

static struct cache_neg *negs, *neg_oldest, *neg_newest;
static size_t nnegs;

static void neg_del(struct cache_neg *g)
{
	struct cache_neg **pp = &neg_oldest, *prev = NULL;

	/* The FIFO is singly linked; deletions other than the oldest are
	 * rare (a name appearing), so a walk is fine. */
	while (*pp && *pp != g) {
		prev = *pp;
		pp = &(*pp)->newer;
	}
	if (*pp)
		*pp = g->newer;
	if (neg_newest == g)
		neg_newest = prev;
	maybe_del(g->hh.hashv);
	HASH_DEL(negs, g);
	mem_free(g);
	nnegs--;
	STAT_SUB(negatives, 1);
}

void neg_changed(const char *path, size_t len, bool subtree)
{
	struct cache_neg *g, *tmp;

	HASH_FIND_STR(negs, path, g);
	if (g)
		neg_del(g);
	if (!subtree)
		return;
	HASH_ITER(hh, negs, g, tmp)
		if (!strncmp(g->path, path, len) && (g->path[len] == '/' || len == 1))
			neg_del(g);
}

void neg_drop_all(void)
{
	while (neg_oldest)
		neg_del(neg_oldest);
}

/* A negative for abs, checked like a name (revalidate()). */
static struct cache_neg *neg_lookup(const struct cache_key *k)
{
	struct cache_neg *g;
	struct stat st;
	int saved = errno;
	bool gone;

	TABLE_FIND(negs, k, g);
	if (g && hot_poll(&g->fresh))
		TABLE_FIND(negs, k, g);
	if (g)
		fresh_selfcheck(&g->fresh, g->path, g->err, NULL, 0);
	if (!g || !fresh_due(&g->fresh, g->path, NULL))
		return g;
	gone = real.fstatat(AT_FDCWD, g->path, &st, 0) == 0 || errno != g->err;
	errno = saved;
	if (gone) {
		neg_del(g);
		STAT_INC(inval_revalidate);
		return NULL;
	}
	return g;
}

/* A negative for k's path, which failed with err just now. absolute: the
 * failed call's path was absolute (a relative one, looked up again here,
 * may name another file if another thread changed directory since). */
void neg_add(const struct cache_key *k, int err, bool absolute)
{
	const char *abs = k->abs;
	size_t len = k->len;
	struct cache_neg *g;
	struct stat st;
	bool watched, link = false;

	TABLE_FIND(negs, k, g);
	if (g)
		return;
	/* ENOTDIR: a name on the way is not a directory, as in Apache's
	 * probe of FILE/.htaccess at every request with AllowOverride. There
	 * is no directory to watch: trying cost a statfs, a failing
	 * inotify_add_watch and a stat per request (3 system calls where
	 * the server made 1). Such a negative is revalidated by stat, and
	 * never watched, as a link is not (fresh_due after a fork): the name
	 * may be a symlink whose target's way no watch of ours sees. */
	if (err == ENOTDIR && absolute) {
		watched = false;
		link = true;
	} else {
		/* Watch first, then check again: a name created in between
		 * is either seen here or reported by an event. */
		watched = fresh_watch(abs);
		/* lstat first: a dangling symlink is a name whose target may
		 * appear where no watch of ours sees it. */
		if (real.fstatat(AT_FDCWD, abs, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			link = S_ISLNK(st.st_mode);
			if (!link || real.fstatat(AT_FDCWD, abs, &st, 0) == 0 ||
			    errno != err)
				return;
		} else if (errno != err) {
			return;
		}
	}
	if (nnegs >= NEG_MAX)
		neg_del(neg_oldest);
	g = mem_alloc(sizeof(*g) + len + 1);
	if (!g)
		return;
	memcpy(g->path, abs, len + 1);
	g->err = err;
	fresh_init(&g->fresh, watched, link, k->hash);
	g->newer = NULL;
	if (neg_newest)
		neg_newest->newer = g;
	else
		neg_oldest = g;
	neg_newest = g;
	HASH_ADD_BYHASHVALUE(hh, negs, path[0], len, hash_fold(k->hash), g);
	maybe_add(g->hh.hashv);
	nnegs++;
	STAT_INC(negatives);
}

int neg_find(const struct cache_key *k)
{
	struct cache_neg *g = neg_lookup(k);

	return g ? g->err : 0;
}
