/* t0012-threads: the cache's hit path from several threads at once while
 * its files are replaced (DESIGN.md invariant 7: Apache's event MPM and
 * nginx's thread pools share one cache).
 *
 * Reader threads open, fstat, pread and close a handful of files through
 * the engine while the main thread renames new versions over them. Every
 * version fills its file with one repeated byte and has its own size, so a
 * read that mixes two versions, or whose length disagrees with the fstat
 * of the same descriptor, is caught. Built with SANITIZE=thread this is
 * also the data-race test of the shared cache. */
#include "tap/files.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "engine.h"
#include "stats.h"

#define NFILES   6
#define NTHREADS 4
#define ROUNDS   1500      /* opens per thread, at least */
#define VERSIONS 150       /* renames by the main thread */

static char dir[64], paths[NFILES][96];
static atomic_int bad, enoent, opens, writer_done;

/* Version v of a file: (v % 26) + 'a' repeated, 500 + 37 * (v % 50) bytes. */
static void put_version(const char *p, int v)
{
	char text[500 + 37 * 50 + 1];
	size_t n = 500 + 37 * (size_t)(v % 50);

	memset(text, 'a' + v % 26, n);
	text[n] = 0;
	file_replace(p, text);
}

static bool one_version(const char *buf, ssize_t n)
{
	ssize_t i;

	for (i = 1; i < n; i++)
		if (buf[i] != buf[0])
			return false;
	return n > 0;
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char buf[4096];
	struct stat st;
	int i, fd;
	ssize_t n;

	for (i = 0; i < ROUNDS || !atomic_load(&writer_done); i++) {
		const char *p = paths[rand_r(&seed) % NFILES];

		fd = sc_openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0);
		if (fd < 0) {
			/* Between unlink and rename there is no gap (rename
			 * is atomic): a missing file is an error too. */
			atomic_fetch_add(&enoent, 1);
			continue;
		}
		n = sc_fstat(fd, &st) == 0 ? sc_pread(fd, buf, sizeof(buf), 0) : -1;
		if (n != st.st_size || !one_version(buf, n))
			atomic_fetch_add(&bad, 1);
		sc_close(fd);
	}
	atomic_fetch_add(&opens, i);
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	struct timespec ms = { 0, 1000 * 1000 };
	int i, v = 0;

	plan(4);
	snprintf(dir, sizeof(dir), "%s", tmpdir_make());
	for (i = 0; i < NFILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/f%d", dir, i);
		put_version(paths[i], i);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, reader, (void *)(uintptr_t)(i + 1));
	for (v = 0; v < VERSIONS; v++) {
		put_version(paths[v % NFILES], v + NFILES);
		nanosleep(&ms, NULL);
	}
	atomic_store(&writer_done, 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);

	is_int(atomic_load(&bad), 0, "%d opens by %d threads: every read was one whole version "
	       "of the size fstat gave", atomic_load(&opens), NTHREADS);
	is_int(atomic_load(&enoent), 0, "no open failed while files were replaced by rename");
	ok(atomic_load(&opens) >= NTHREADS * ROUNDS, "%d versions were renamed in while the threads read", v);
	ok(stats_cur->open_hit > 0, "the threads were served from the cache (%llu hits)",
	   (unsigned long long)stats_cur->open_hit);
	tmpdir_remove(dir);
	return done_testing();
}
