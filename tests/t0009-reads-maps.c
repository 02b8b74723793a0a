/* t0009-reads-maps: what lighttpd, Apache and busybox httpd need of the
 * cache: pread/read from a private copy, mmap/munmap answered with the
 * cache's own mapping, the server's own descriptor adopted on a miss,
 * and SENDCACHE_PREWARM. */
#include "tap/files.h"

#include "cache.h"
#include "engine.h"
#include "fdtab.h"
#include "fmaps.h"
#include "stats.h"
#include "watch.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static char dir[64], fa[128], fb[128], fbig[128], fc[128];
static char body[1024];

static void settle(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void put_bytes(const char *p, const char *buf, size_t n)
{
	FILE *f = fopen(p, "w");

	if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", p);
		exit(1);
	}
}

/* Before the engine reads its environment: a site to warm up. */
__attribute__((constructor(101))) static void make_site(void)
{
	static char big[200 << 10];
	char sub[128];
	size_t i;

	snprintf(dir, sizeof(dir), "%s", tmpdir_make());
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0755);
	snprintf(fa, sizeof(fa), "%s/a", dir);
	snprintf(fb, sizeof(fb), "%s/sub/b", dir);
	snprintf(fbig, sizeof(fbig), "%s/big", dir);
	snprintf(fc, sizeof(fc), "%s/c", dir);
	for (i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	put_bytes(fa, body, sizeof(body));
	put_bytes(fb, "bee", 3);
	put_bytes(fbig, big, sizeof(big));
	setenv("SENDCACHE_PREWARM", dir, 1);
}

static void test_prewarm(void)
{
	uint64_t hits = stats_cur->open_hit, dups = stats_cur->fd_dup;
	int fd;

	sc_init();
	is_int(stats_cur->prewarmed, 3, "SENDCACHE_PREWARM cached the 3 files of the site");
	/* The process that warms up is a server's parent: it sends nothing,
	 * and each mapping it held would be walked by every fork. */
	is_int(stats_cur->mapped_bytes, 0, "and mapped none of them");
	fd = sc_openat(AT_FDCWD, fb, O_RDONLY, 0);
	ok(fd >= 0 && stats_cur->open_hit == hits + 1, "the first open of a warmed file is a hit");
	is_int(stats_cur->fd_dup, dups, "from the pool the warm-up filled: no dup");
	sc_close(fd);
}

static void test_pread(void)
{
	char buf[2048];
	uint64_t reads;
	int fd = sc_openat(AT_FDCWD, fa, O_RDONLY, 0);

	reads = stats_cur->read_hit;
	ok(sc_pread(fd, buf, 100, 10) == 100 && !memcmp(buf, body + 10, 100),
	   "pread answers the file's bytes");
	is_int(stats_cur->read_hit, reads + 1, "from the copy, no syscall");
	is_int(sc_pread(fd, buf, sizeof(buf), 1000), 24, "pread near the end is short");
	is_int(sc_pread(fd, buf, 10, 1024), 0, "pread at the end returns 0");
	is_int(sc_pread(fd, buf, 10, 5000), 0, "and past it");
	errno = 0;
	ok(sc_pread(fd, buf, 10, -1) == -1 && errno == EINVAL, "a negative offset: EINVAL, as the kernel says");
	ok(sc_read(fd, buf, 30) == 30 && sc_read(fd, buf + 30, 30) == 30 &&
	   !memcmp(buf, body, 60), "read follows the server's own position");
	is_int(sc_lseek(fd, 0, SEEK_CUR), 60, "pread left it where read put it");
	sc_close(fd);

	fd = sc_openat(AT_FDCWD, fbig, O_RDONLY, 0);
	reads = stats_cur->read_hit;
	ok(sc_pread(fd, buf, 16, 1000) == 16 && (unsigned char)buf[0] == (unsigned char)(1000 * 7),
	   "a file over SENDCACHE_COPY_MAX is read by the kernel");
	is_int(stats_cur->read_hit, reads, "not from a copy");
	sc_close(fd);
}

/* A file truncated under the cache: nothing in user space touches mapped
 * memory, so no SIGBUS; 50 ms later the kernel's answer. */
static void test_truncated(void)
{
	char buf[64];
	int fd = sc_openat(AT_FDCWD, fa, O_RDONLY, 0);
	ssize_t n;

	truncate(fa, 0);
	n = sc_pread(fd, buf, sizeof(buf), 0);
	ok(n == 0 || n == (ssize_t)sizeof(buf), "pread right after truncate: old bytes or none, no SIGBUS (%zd)", n);
	settle();
	is_int(sc_pread(fd, buf, sizeof(buf), 0), 0, "50 ms later: the truncated file's answer");
	sc_close(fd);
	put_bytes(fa, body, sizeof(body));
	settle();
}

/* A miss the cache takes: open returns one of the cache's descriptors,
 * numbered high (fdtab.h), as a hit would, and the kernel's is closed. */
static void test_adopt(void)
{
	struct stat st;
	uint64_t stats, hits;
	int fd, again;

	put_bytes(fc, "see", 3);
	fd = sc_openat(AT_FDCWD, fc, O_RDONLY, 0);
	ok(fd >= fdtab_base, "a miss: open returns one of the cache's descriptors (%d >= %d)",
	   fd, fdtab_base);
	stats = stats_cur->stat_hit;
	ok(fd >= 0 && sc_fstat(fd, &st) == 0 && st.st_size == 3,
	   "its fstat says the file's size");
	is_int(stats_cur->stat_hit, stats + 1, "answered from the snapshot");
	is_int(sc_close(fd), 0, "its close succeeds");
	hits = stats_cur->open_hit;
	again = sc_openat(AT_FDCWD, fc, O_RDONLY, 0);
	ok(again == fd && stats_cur->open_hit == hits + 1,
	   "the next open is a hit, on the same number (%d)", again);
	sc_close(again);
}

static bool touches(const void *p, size_t n)
{
	struct iovec v = { (void *)p, n };

	return fmaps_touch(&v, 1);
}

static void test_mmap(void)
{
	uint64_t maps = stats_cur->mmap_hit;
	int fd = sc_openat(AT_FDCWD, fa, O_RDONLY, 0), other;
	char *p, *q, *w;

	p = sc_mmap(NULL, sizeof(body), PROT_READ, MAP_SHARED, fd, 0);
	ok(p != MAP_FAILED && !memcmp(p, body, sizeof(body)), "mmap of a cached file shows its bytes");
	is_int(stats_cur->mmap_hit, maps + 1, "the cache's mapping, no syscall");
	q = sc_mmap(NULL, 100, PROT_READ, MAP_PRIVATE, fd, 0);
	ok(q == p, "a second mapping shares it");
	w = sc_mmap(NULL, sizeof(body), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(w != MAP_FAILED && w != p && stats_cur->mmap_hit == maps + 2,
	   "a writable mapping is the kernel's");
	munmap(w, sizeof(body));
	is_int(cache_maps_out, 2, "two references out");
	sc_close(fd);
	/* The file replaced while mapped: the mapping outlives the entry. */
	other = open(fb, O_RDONLY);
	rename(fb, fa);
	settle();
	ok(sc_openat(AT_FDCWD, fa, O_RDONLY, 0) >= 0, "the new file opens");
	ok(!memcmp(p, body, sizeof(body)), "the old mapping still shows the old bytes");
	ok(touches(p, sizeof(body)), "the mapping is recorded as the server's (fmaps)");
	is_int(sc_munmap(p, sizeof(body)), 0, "munmap of a cache mapping");
	ok(touches(p, 1), "still recorded: the second reference is out");
	is_int(sc_munmap(q, 100), 0, "and of the second reference");
	is_int(cache_maps_out, 0, "no reference left");
	ok(!touches(p, sizeof(body)), "no longer recorded");
	close(other);

	/* The cache's own mapping of a file is not the server's: once the
	 * server gives its reference back, the send engine may read there. */
	fd = sc_openat(AT_FDCWD, fa, O_RDONLY, 0);
	p = sc_mmap(NULL, 3, PROT_READ, MAP_SHARED, fd, 0);
	is_int(sc_munmap(p, 3), 0, "a mapping of the new file handed out and back");
	ok(!touches(p, 3), "the cache's own mapping of it is not recorded");
	sc_close(fd);
}

/* The trust window after fork (cache.c FORK_TRUST_MS), from the parent's
 * last read of events. */
#define TRUST_MS 40

static uint64_t coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_fork_window(void)
{
	uint64_t reval;
	pid_t pid;
	int status = 0, fd, tries;

	put_bytes(fc, "forked", 6);
	settle();
	/* A child that first runs after the window (a loaded machine, a
	 * sanitizer) rightly revalidates: it says so (2) and we try again. */
	for (tries = 0; tries < 20; tries++) {
		fd = sc_openat(AT_FDCWD, fc, O_RDONLY, 0);
		sc_close(fd);
		fd = sc_openat(AT_FDCWD, fc, O_RDONLY, 0);
		sc_close(fd);
		pid = fork();
		if (pid == 0) {
			uint64_t hits, t0;

			sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
			hits = stats_cur->open_hit;
			t0 = watch_polled_ms();
			reval = stats_cur->revalidate_stat;
			fd = sc_openat(AT_FDCWD, fc, O_RDONLY, 0);
			if (coarse_ms() - t0 >= TRUST_MS - 5)
				_exit(2);
			_exit(fd >= 0 && stats_cur->open_hit == hits + 1 &&
			      stats_cur->revalidate_stat == reval ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
			break;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child forked just now hits without a revalidating stat (try %d)", tries + 1);
	pid = fork();
	if (pid == 0) {
		sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
		settle();
		put_bytes(fc, "changed", 7);
		settle();
		fd = sc_openat(AT_FDCWD, fc, O_RDONLY, 0);
		_exit(fd >= 0 && sc_pread(fd, (char[8]){0}, 8, 0) == 7 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child that lives past the window sees a change 50 ms later");
}

/* A child in its window caches nothing of its own: a file its parent
 * never opened passes through, open after open (a fork-per-connection
 * server's child would pay for an entry it never uses again); past the
 * window it is cached as usual. */
static void test_fork_miss(void)
{
	char fe[128];
	int status = 0, tries;
	pid_t pid;

	snprintf(fe, sizeof(fe), "%s/e", dir);
	put_bytes(fe, "child", 5);
	settle();
	for (tries = 0; tries < 20; tries++) {
		/* A lookup reads the events: the window starts now. */
		sc_close(sc_openat(AT_FDCWD, fc, O_RDONLY, 0));
		pid = fork();
		if (pid == 0) {
			uint64_t t0, pass, miss, hits;
			int a, b;

			sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
			t0 = watch_polled_ms();
			pass = stats_cur->open_pass_forked;
			miss = stats_cur->open_miss;
			hits = stats_cur->open_hit;
			a = sc_openat(AT_FDCWD, fe, O_RDONLY, 0);
			sc_close(a);
			b = sc_openat(AT_FDCWD, fe, O_RDONLY, 0);
			sc_close(b);
			if (coarse_ms() - t0 >= TRUST_MS - 5)
				_exit(2);
			_exit(a >= 0 && b >= 0 &&
			      stats_cur->open_pass_forked == pass + 2 &&
			      stats_cur->open_miss == miss &&
			      stats_cur->open_hit == hits ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
			break;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child in its first 40 ms caches nothing of its own (try %d)", tries + 1);
	pid = fork();
	if (pid == 0) {
		uint64_t miss, hits;

		sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
		settle();
		miss = stats_cur->open_miss;
		sc_close(sc_openat(AT_FDCWD, fe, O_RDONLY, 0));
		hits = stats_cur->open_hit;
		sc_close(sc_openat(AT_FDCWD, fe, O_RDONLY, 0));
		_exit(stats_cur->open_miss == miss + 1 &&
		      stats_cur->open_hit == hits + 1 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child 50 ms old caches a file it opens");
}

/* The cache's mappings stay out of a child (MADV_DONTFORK), except those
 * the server holds, which a child has as it would a real mapping. */
static void test_fork_maps(void)
{
	char fd_path[128];
	int fd, status = 0, tries;
	char *held;
	pid_t pid;

	snprintf(fd_path, sizeof(fd_path), "%s/d", dir);
	put_bytes(fd_path, body, sizeof(body));
	fd = sc_openat(AT_FDCWD, fd_path, O_RDONLY, 0);
	held = sc_mmap(NULL, sizeof(body), PROT_READ, MAP_SHARED, fd, 0);
	sc_close(fd);
	/* A child that runs after the window may map: it says so (2). */
	for (tries = 0; tries < 20; tries++) {
		/* A lookup reads the events: the window starts now. */
		sc_close(sc_openat(AT_FDCWD, fd_path, O_RDONLY, 0));
		pid = fork();
		if (pid == 0) {
			int good = held != MAP_FAILED && !memcmp(held, body, sizeof(body));
			uint64_t t0, maps;
			int fb2;
			char *p;

			sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
			t0 = watch_polled_ms();
			fb2 = sc_openat(AT_FDCWD, fbig, O_RDONLY, 0);
			maps = stats_cur->mmap_hit;
			/* big is cached and not held: a child that may serve
			 * one request and exit (busybox httpd) does not map it
			 * in its first 40 ms; its mmap is the kernel's. */
			p = sc_mmap(NULL, 64, PROT_READ, MAP_SHARED, fb2, 0);
			if (coarse_ms() - t0 >= TRUST_MS - 5)
				_exit(2);
			good = good && p != MAP_FAILED && (unsigned char)p[10] == 70 &&
			       stats_cur->mmap_hit == maps;
			sc_munmap(p, 64);
			sc_close(fb2);
			_exit(good ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
			break;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child reads a mapping the parent held, and maps nothing in its first 40 ms (try %d)",
	   tries + 1);
	pid = fork();
	if (pid == 0) {
		uint64_t maps;
		int fb2;
		char *p;

		sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
		/* A child that lives on (Apache prefork) maps again. */
		settle();
		fb2 = sc_openat(AT_FDCWD, fbig, O_RDONLY, 0);
		maps = stats_cur->mmap_hit;
		p = sc_mmap(NULL, 64, PROT_READ, MAP_SHARED, fb2, 0);
		_exit(p != MAP_FAILED && (unsigned char)p[10] == 70 &&
		      stats_cur->mmap_hit == maps + 1 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child 50 ms old maps a cached file again");
	sc_munmap(held, sizeof(body));
}

int main(void)
{
	plan(4 + 10 + 2 + 5 + 15 + 2 + 2 + 2);
	test_prewarm();
	test_pread();
	test_truncated();
	test_adopt();
	test_mmap();
	test_fork_window();
	test_fork_miss();
	test_fork_maps();
	tmpdir_remove(dir);
	return done_testing();
}
