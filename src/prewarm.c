/* prewarm.c - SENDCACHE_PREWARM: the files under the configured
 * directories cached when the library loads (cache.h, cache_prewarm);
 * and sendcache-ctl prewarm's directories, at an idle point (ctl.c). */
#define _GNU_SOURCE
#include "cache.h"
#include "cache_in.h"
#include "config.h"
#include "fdtab.h"
#include "real.h"
#include "stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

/* Open flags of a warm-up: O_NONBLOCK so that a FIFO cannot block us. */
#define PREWARM_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
/* Directory levels walked below each configured directory. */
#define PREWARM_DEPTH 16

/* What ends this thread's walk early. */
static __thread bool (*stop_walk)(void);

/* Caches one file with a spare descriptor in its pool. Returns false when
 * the budgets are full (the warm-up stops: it never evicts). */
static bool prewarm_file(const char *path)
{
	struct cache_key k;
	struct stat st;
	struct fd_slot *s;
	int fd;

	k.state = CACHE_KEY_UNSET;
	if (real.fstatat(AT_FDCWD, path, &st, 0) != 0 || !S_ISREG(st.st_mode))
		return true;
	/* Descriptors only: a warm-up maps nothing (send_writev.c). */
	if (!cache_fits(2, 0))
		return false;
	fd = real.openat(AT_FDCWD, path, PREWARM_FLAGS);
	if (fd < 0)
		return true;
	fd = cache_opened(&k, path, PREWARM_FLAGS, fd);
	s = fdtab_get(fd);
	if (s && s->kind == FD_HANDED)
		cache_close(fd, s);
	else
		real.close(fd);
	fd = cache_open(&k, path, PREWARM_FLAGS);
	if (fd >= 0) {
		cache_close(fd, fdtab_get(fd));
		STAT_INC(prewarmed);
	}
	return true;
}

/* Walks path[0..len) (a buffer of PATH_MAX). Returns false to stop. */
static bool prewarm_dir(char *path, size_t len, int depth)
{
	struct dirent *e;
	bool go = true;
	DIR *d;

	if (depth > PREWARM_DEPTH || !(d = opendir(path)))
		return true;
	while (go && (e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    len + 1 + nl >= PATH_MAX)
			continue;
		if (stop_walk && stop_walk()) {
			go = false;
			break;
		}
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, nl + 1);
		/* Links to directories are not followed: no loops. */
		if (e->d_type == DT_DIR)
			go = prewarm_dir(path, len + 1 + nl, depth + 1);
		else
			go = prewarm_file(path);
		path[len] = 0;
	}
	closedir(d);
	return go;
}

void cache_prewarm(void)
{
	cache_prewarm_dirs(config.prewarm, ':', NULL);
}

bool cache_may_prewarm(void)
{
	bool settled;

	cache_lock();           /* ends a child's trusted window when due */
	settled = !cache_forked;
	cache_unlock();
	return settled;
}

void cache_prewarm_dirs(const char *list, char sep, bool (*stop)(void))
{
	char path[PATH_MAX];
	const char *p, *end;
	size_t len;
	bool go = true;

	stop_walk = stop;
	for (p = list; go && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, sep);
		len = (size_t)(end - p);
		while (len > 1 && p[len - 1] == '/')
			len--;
		if (len <= 1 || len >= sizeof(path) || p[0] != '/')
			continue;       /* "/" itself is not a site */
		memcpy(path, p, len);
		path[len] = 0;
		cache_prewarming = true;
		go = prewarm_dir(path, len, 0);
		cache_prewarming = false;
	}
}
