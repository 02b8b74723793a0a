/* t0013-fmaps: the record of the server's file mappings that keeps the
 * send engine from reading one (a truncated file's page is SIGBUS in user
 * space): what is recorded and forgotten, by hand and through mmap and
 * munmap, what happens when the table is full, and that a mapping in use
 * is always found while other threads map and unmap. */
#include "tap/files.h"

#include "engine.h"
#include "fmaps.h"

#include <fcntl.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>

static const char *dir;

static bool touches(const void *p, size_t n)
{
	struct iovec v = { (void *)p, n };

	return fmaps_touch(&v, 1);
}

static void by_hand(void)
{
	static char a[8192];
	struct iovec v[3] = { { "head", 4 }, { a + 100, 10 }, { a, 0 } };

	ok(!touches(a, sizeof(a)), "nothing recorded: no address is a mapping");
	fmaps_add(a + 4096, 4096);
	ok(touches(a + 4096, 1), "the first byte of a record");
	ok(touches(a + 8191, 1), "its last byte");
	ok(touches(a + 4000, 200), "a range that ends inside it");
	ok(!touches(a, 4096), "the bytes just before it");
	ok(!touches(a + 4096, 0), "an empty range at its start");
	ok(!fmaps_touch(v, 3), "iovecs all outside");
	v[2] = (struct iovec){ a + 5000, 1 };
	ok(fmaps_touch(v, 3), "one iovec of three inside");

	/* The same mapping handed out twice (two threads, one cache entry):
	 * one munmap gives back one reference. */
	fmaps_add(a + 4096, 4096);
	fmaps_remove(a + 4096, 4096);
	ok(touches(a + 5000, 1), "two records, one removed: still a mapping");
	fmaps_remove(a + 4096, 100);
	ok(touches(a + 5000, 1), "a remove of another length forgets nothing");
	fmaps_remove(a + 4096, 4096);
	ok(!touches(a + 5000, 1), "both removed: not a mapping");
}

static void through_mmap(void)
{
	char path[256];
	void *m, *anon;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || ftruncate(fd, 3 * 4096) < 0) {
		printf("Bail out! cannot make %s\n", path);
		exit(1);
	}
	m = sc_mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED && touches((char *)m + 2 * 4096, 5),
	   "mmap of a file is recorded");
	anon = sc_mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(anon != MAP_FAILED && !touches(anon, 4096),
	   "an anonymous mapping is not");
	is_int(sc_munmap((char *)m + 4096, 4096), 0, "munmap of its middle page");
	ok(touches(m, 1) && touches((char *)m + 2 * 4096, 1),
	   "a record only partly unmapped stays");
	is_int(sc_munmap(m, 3 * 4096), 0, "munmap of all of it");
	ok(!touches(m, 3 * 4096), "then it is forgotten");
	m = sc_mmap(NULL, 100, PROT_READ, MAP_PRIVATE, fd, 0);
	ok(m != MAP_FAILED && touches((char *)m + 99, 1), "a private mapping of 100 bytes");
	is_int(sc_munmap(m, 100), 0, "munmap of its 100 bytes");
	ok(!touches(m, 100), "forgets the whole page");
	sc_munmap(anon, 4096);
	close(fd);
}

/* Threads map and unmap while the main thread sends from one mapping it
 * holds: it must be found every time. The threads record the same
 * addresses, as threads handed the cache's one mapping of a file do: one
 * removed a record another had stored but not yet counted, the count of
 * records fell to 0, and lookups skipped the table (up to 65098 misses in
 * 200000 under TSan). */
static bool stop;

static void *churn(void *arg)
{
	static char area[8][4096] __attribute__((aligned(4096)));
	unsigned i = 0;
	char *p;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		p = area[i % 8];
		fmaps_add(p, 4096);
		if (i % 2)
			fmaps_remove(p, 4096);
		else
			fmaps_unmapping(p, 4096);
		i++;
	}
	return NULL;
}

static void threads(void)
{
	static char held[4096] __attribute__((aligned(4096)));
	pthread_t t[3];
	int i, missed = 0;

	fmaps_add(held, sizeof(held));
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (i = 0; i < 200000; i++)
		if (!touches(held + i % 4096, 1))
			missed++;
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	is_int(missed, 0, "a held mapping found in 200000 looks while 3 threads churn");
	fmaps_remove(held, sizeof(held));
	ok(!touches("not a mapping", 13), "after the churn, no record is left over");
}

static void full(void)
{
	static char many[FMAPS_MAX + 2][16];
	char path[256], said[512] = "";
	int i, err, saved = dup(2);
	FILE *f;

	/* The one stderr line, caught in a file. */
	snprintf(path, sizeof(path), "%s/stderr", dir);
	err = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(err, 2);
	for (i = 0; i < FMAPS_MAX + 2; i++)
		fmaps_add(many[i], 16);
	dup2(saved, 2);
	close(saved);
	close(err);
	f = fopen(path, "r");
	if (f) {
		if (!fread(said, 1, sizeof(said) - 1, f))
			said[0] = 0;
		fclose(f);
	}
	if (!ok(!strcmp(said, "sendcache: more than 1024 file mappings at "
			"once; response heads are no longer held back\n"),
		"a full table says so on stderr, in one line, once"))
		diag("stderr: '%s'", said);
	ok(touches("not a mapping", 13), "a full table: every address counts as a mapping");
	for (i = 0; i < FMAPS_MAX + 2; i++)
		fmaps_remove(many[i], 16);
	ok(touches("not a mapping", 13), "and it stays so once emptied (nothing was lost)");
}

int main(void)
{
	plan(25);
	dir = tmpdir_make();
	by_hand();
	through_mmap();
	threads();
	full();
	tmpdir_remove(dir);
	return done_testing();
}
