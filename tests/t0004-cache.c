/* t0004-cache: the file cache through the engine's own entry points:
 * hits, pools and positions, freshness, relative paths, budgets, and
 * descriptors closed or replaced behind the cache's back. */
#include "tap/files.h"

#include <errno.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)        /* linux/fs.h; musl has no renameat2 */
#endif

#include "cache.h"
#include "config.h"
#include "engine.h"
#include "real.h"
#include "stats.h"
#include "watch.h"

static char path[128], dir[64];

static void settle(void)
{
	/* The freshness bound: any request 50 ms after a change sees it. */
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Opens path through the engine and reads it whole into buf. */
static int slurp(const char *p, char *buf, size_t size)
{
	int fd = sc_openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = sc_read(fd, buf, size - 1);
	sc_close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

static int content_is(const char *p, const char *want)
{
	char buf[256];
	int n = slurp(p, buf, sizeof(buf));

	if (n < 0 || strcmp(buf, want)) {
		diag("%s: got %d '%s', want '%s'", p, n, n >= 0 ? buf : "", want);
		return 0;
	}
	return 1;
}

static void test_hits_and_positions(void)
{
	char buf[64];
	struct stat real_st, st;
	uint64_t hits, dups;
	int a, b, c;

	file_put(path, "0123456789abcdef");
	ok(content_is(path, "0123456789abcdef"), "a miss reads the file");
	hits = stats_cur->open_hit;
	a = sc_openat(AT_FDCWD, path, O_RDONLY, 0);
	is_int(stats_cur->open_hit, hits + 1, "the second open is a hit");
	stat(path, &real_st);
	ok(sc_fstat(a, &st) == 0 && st.st_ino == real_st.st_ino &&
	   st.st_size == 16, "fstat of a handed-out fd answers the snapshot");
	ok(sc_fstatat(AT_FDCWD, path, &st, 0) == 0 && st.st_size == 16 &&
	   st.st_mtim.tv_nsec == real_st.st_mtim.tv_nsec, "stat answered from the snapshot");
	is_int(sc_lseek(a, 4, SEEK_SET), 4, "lseek SEEK_SET");
	ok(sc_read(a, buf, 4) == 4 && !memcmp(buf, "4567", 4), "read from the server's position");
	b = sc_openat(AT_FDCWD, path, O_RDONLY, 0);
	ok(b >= 0 && b != a, "a second open gets another descriptor");
	ok(sc_read(b, buf, 3) == 3 && !memcmp(buf, "012", 3), "with its own position");
	is_int(sc_lseek(a, 0, SEEK_CUR), 8, "the first keeps its position");
	is_int(sc_lseek(b, -2, SEEK_END), 14, "lseek SEEK_END uses the size");
	is_int(sc_fcntl(b, F_GETFD, NULL), 0, "F_GETFD shows what the server asked (no O_CLOEXEC)");
	is_int(sc_fcntl(b, F_GETFL, NULL) & O_ACCMODE, O_RDONLY, "F_GETFL read-only");
	is_int(sc_close(a), 0, "close of a handed-out fd succeeds");
	is_int(sc_close(b), 0, "close again");
	errno = 0;
	ok(sc_close(a) == -1 && errno == EBADF, "a second close says EBADF, as the kernel would");
	dups = stats_cur->fd_dup;
	c = sc_openat(AT_FDCWD, path, O_RDONLY | O_NONBLOCK, 0);
	ok(c == a || c == b, "a pooled descriptor is handed out again");
	is_int(stats_cur->fd_dup, dups, "without a new dup");
	is_int(sc_lseek(c, 0, SEEK_CUR), 0, "at position 0");
	sc_close(c);
	c = sc_openat(AT_FDCWD, path, O_RDWR, 0);
	ok(c >= 0 && c != a && c != b, "a read-write open is not served from the cache");
	close(c);
}

static void test_freshness(void)
{
	char other[PATH_MAX];
	struct stat st;

	file_put(path, "version one");
	settle();   /* a new version of a cached file: the bound is 50 ms */
	ok(content_is(path, "version one") && content_is(path, "version one"),
	   "cached");
	file_put(path, "v2, edited in place");
	settle();
	ok(content_is(path, "v2, edited in place"), "an in-place edit is seen after 50 ms");
	file_replace(path, "v3 by rename");
	settle();
	ok(sc_fstatat(AT_FDCWD, path, &st, 0) == 0 && st.st_size == 12,
	   "stat sees the renamed-in file");
	ok(content_is(path, "v3 by rename"), "open sees the renamed-in file");
	unlink(path);
	settle();
	errno = 0;
	ok(sc_fstatat(AT_FDCWD, path, &st, 0) == -1 && errno == ENOENT, "deleted: stat ENOENT");
	ok(sc_openat(AT_FDCWD, path, O_RDONLY, 0) == -1 && errno == ENOENT, "deleted: open ENOENT");
	file_put(path, "back");
	settle();   /* its absence was remembered: the bound is 50 ms */
	ok(content_is(path, "back") && content_is(path, "back"), "recreated");

	/* A directory on the way renamed away and back. */
	snprintf(other, sizeof(other), "%s/sub", dir);
	mkdir(other, 0755);
	snprintf(other, sizeof(other), "%s/sub/f", dir);
	file_put(other, "in sub");
	ok(content_is(other, "in sub") && content_is(other, "in sub"), "file in a subdirectory cached");
	{
		char from[PATH_MAX], to[PATH_MAX];

		snprintf(from, sizeof(from), "%s/sub", dir);
		snprintf(to, sizeof(to), "%s/gone", dir);
		rename(from, to);
		settle();
		ok(sc_openat(AT_FDCWD, other, O_RDONLY, 0) == -1 && errno == ENOENT,
		   "its directory renamed away: ENOENT");
		rename(to, from);
		file_put(other, "in sub, again");
		settle();
		ok(content_is(other, "in sub, again"), "and back");
	}
}

static void test_relative(void)
{
	uint64_t hits;

	file_put(path, "relative");
	settle();   /* a new version of a cached file: the bound is 50 ms */
	if (sc_chdir(dir) != 0)
		diag("chdir failed");
	ok(content_is("f.txt", "relative"), "relative open after chdir");
	hits = stats_cur->open_hit;
	ok(content_is("f.txt", "relative"), "relative open again");
	is_int(stats_cur->open_hit, hits + 1, "served from the cache");
	sc_chdir("/");
	errno = 0;
	ok(sc_openat(AT_FDCWD, "f.txt", O_RDONLY, 0) == -1 && errno == ENOENT,
	   "after chdir elsewhere the same relative name is another file");
}

static void test_lost_descriptors(void)
{
	int fd, pooled, other, n;
	char buf[64];
	uint64_t lost;

	file_put(path, "lost and found");
	settle();   /* a new version of a cached file: the bound is 50 ms */
	ok(content_is(path, "lost and found"), "cached again");
	fd = sc_openat(AT_FDCWD, path, O_RDONLY, 0);
	pooled = fd;
	sc_close(fd);                     /* now in the pool */
	other = open("/etc/hostname", O_RDONLY);
	lost = stats_cur->fd_lost;
	is_int(sc_dup3(other, pooled, 0, 0), pooled, "dup2 onto a pooled number");
	ok(stats_cur->fd_lost > lost, "the cache forgot it");
	n = (int)read(pooled, buf, sizeof(buf));
	ok(n > 0 && memcmp(buf, "lost", 4), "the number now reads what was dup'd onto it");
	fd = sc_openat(AT_FDCWD, path, O_RDONLY, 0);
	ok(fd >= 0 && fd != pooled, "the next open does not hand out that number (%d, %d)", fd, pooled);
	ok(sc_read(fd, buf, 4) == 4 && !memcmp(buf, "lost", 4), "and reads the right file");
	/* Closed behind our back, the number reused by a call we see. */
	syscall(SYS_close, fd);
	lost = stats_cur->fd_lost;
	n = sc_dup3(other, fd, 0, 0);
	ok(n == fd && stats_cur->fd_lost > lost, "a handed-out number closed by syscall() and reused is noticed");
	close(other);
	close(pooled);
	close(fd);
	ok(content_is(path, "lost and found"), "the cache still serves the file");
	lost = stats_cur->fd_lost;
	if (REAL_HAS(close_range)) {
		sc_close_range(3, ~0U, 0);
		ok(stats_cur->fd_lost > lost, "close_range: the cache forgot what it held");
	} else {
		/* musl before 1.2.4: a program cannot call it, and ours
		 * fails with ENOSYS, closing nothing. */
		ok(sc_close_range(3, ~0U, 0) == -1 && errno == ENOSYS &&
		   stats_cur->fd_lost == lost,
		   "close_range, which libc lacks: ENOSYS, nothing closed or forgotten");
	}
	ok(content_is(path, "lost and found") && content_is(path, "lost and found"),
	   "and starts over");
}

#ifndef SC_TEST_NO_INOTIFY
/* The inotify descriptor closed behind our back and its number given to a
 * file that reads forever (/dev/zero, put there by dup2): the cache must
 * notice before it reads events from it, start a new instance and stay
 * fresh. */
static void test_lost_watch(void)
{
	int wfd, fd, zfd;
	uint64_t lost;

	file_put(path, "watched");
	settle();
	ok(content_is(path, "watched"), "cached, watched");
	wfd = watch_fd();
	ok(wfd > 2, "an inotify instance (%d)", wfd);
	syscall(SYS_close, wfd);
	lost = stats_cur->fd_lost;
	settle();   /* past check_ms: the next call under the lock polls */
	alarm(10);  /* and a poll of /dev/zero would never return */
	zfd = sc_openat(AT_FDCWD, "/dev/zero", O_RDONLY, 0);
	fd = sc_dup3(zfd, wfd, 0, 0);
	sc_close(zfd);
	is_int(fd, wfd, "/dev/zero put on the inotify number");
	ok(stats_cur->fd_lost > lost, "the loss is noticed");
	settle();
	ok(content_is(path, "watched"), "the next lookup returns");
	ok(watch_fd() >= 0 && watch_fd() != fd, "a new inotify instance (%d)", watch_fd());
	file_put(path, "watched again");
	settle();
	ok(content_is(path, "watched again"), "and it is fresh within 50 ms");
	alarm(0);
	sc_close(fd);
}
#endif

static void test_budget(void)
{
	char p[PATH_MAX], want[32];
	size_t keep = config_want_fds(8);
	int i, good = 0;
	uint64_t ev = stats_cur->evictions;

	/* Every file cached at first open, so that the budget binds. */
	config.admit_all = true;
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "%s/b%d", dir, i);
		snprintf(want, sizeof(want), "file %d", i);
		file_put(p, want);
		good += content_is(p, want) && content_is(p, want);
	}
	config.admit_all = false;
	is_int(good, 40, "40 files through an 8-descriptor budget read right");
	ok(stats_cur->fds_held <= 8 + 1, "descriptors held stay within budget (+ inotify): %llu",
	   (unsigned long long)stats_cur->fds_held);
	ok(stats_cur->evictions > ev, "evictions happened");
	config_want_fds(keep);
}

/* A loop over more files than fit, in the same order each time (a site
 * walked by a monitor, wrk over a path list): the files cached stay and
 * hit; the others pass. Admitting each over the entry it would evict,
 * whose own next request was still to come, made every request a miss
 * and an eviction. Once with the descriptor budget binding (8), once the
 * mapping budget (whole pages: room for three files of two pages), and
 * once with no mappings at all, where every file is cached unmapped
 * (making room for a mapping that could never fit evicted every entry). */
static void test_loop(void)
{
	char p[PATH_MAX], want[8200];
	size_t keep = config_want_fds(8), keep_mapped = config.max_mapped;
	int i, pass, round, good = 0, n = 12;
	uint64_t ev, hit;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/loop%d", dir, i);
		memset(want, 'a' + i, 5000);
		want[5000] = 0;
		file_put(p, want);
	}
	settle();
	for (round = 0; round < 3; round++) {
		cache_drop_all();
		if (round >= 1) {
			config_want_fds(1024);
			config.max_mapped = round == 1 ? 7 * 4096 : 0;
		}
		for (pass = 0; pass < 3; pass++)
			for (i = 0; i < n; i++) {
				snprintf(p, sizeof(p), "%s/loop%d", dir, i);
				good += slurp(p, want, sizeof(want)) == 5000;
			}
		ev = stats_cur->evictions;
		hit = stats_cur->open_hit;
		for (pass = 0; pass < 3; pass++)
			for (i = 0; i < n; i++) {
				snprintf(p, sizeof(p), "%s/loop%d", dir, i);
				good += slurp(p, want, sizeof(want)) == 5000;
			}
		ok(stats_cur->evictions - ev <= 1 &&
		   stats_cur->open_hit - hit >= (round == 2 ? 3u * n : 6u),
		   "%s: a loop over %d files evicts %llu, hits %llu of %d",
		   round == 0 ? "descriptor budget" : round == 1 ? "mapping budget" :
		   "no mappings (SENDCACHE_MAX_MAPPED=0)", n,
		   (unsigned long long)(stats_cur->evictions - ev),
		   (unsigned long long)(stats_cur->open_hit - hit), 3 * n);
	}
	is_int(good, 18 * n, "every file of the loops read whole");
	config.max_mapped = keep_mapped;
	config_want_fds(keep);
	cache_drop_all();
}

/* A large budget with room to spare still caches a file at its first
 * open only while the cache holds under CACHE_FIRST_USE_FDS descriptors:
 * past that, files asked for once pass at the kernel's cost (a fresh
 * server under a stream of distinct files spent twice its CPU caching
 * the first thousand), and a file is cached at its second open. */
static void test_first_use(void)
{
	char p[PATH_MAX], want[32];
	size_t keep = config_want_fds(4096);
	int i, n = 3 * CACHE_FIRST_USE_FDS, good = 0;
	uint64_t miss, cold, hit;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/first%d", dir, i);
		snprintf(want, sizeof(want), "first %d", i);
		file_put(p, want);
	}
	settle();
	cache_drop_all();
	miss = stats_cur->open_miss;
	cold = stats_cur->open_pass_cold;
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/first%d", dir, i);
		snprintf(want, sizeof(want), "first %d", i);
		good += content_is(p, want);
	}
	is_int(good, n, "%d files asked for once read right", n);
	ok(stats_cur->open_miss - miss <= CACHE_FIRST_USE_FDS &&
	   stats_cur->open_miss - miss >= CACHE_FIRST_USE_FDS / 4 &&
	   stats_cur->fds_held <= CACHE_FIRST_USE_FDS + 2,
	   "the first were cached at first open, up to %d descriptors "
	   "(%llu cached, %llu held)", CACHE_FIRST_USE_FDS,
	   (unsigned long long)(stats_cur->open_miss - miss),
	   (unsigned long long)stats_cur->fds_held);
	ok(stats_cur->open_pass_cold - cold >=
	   (uint64_t)(n - CACHE_FIRST_USE_FDS),
	   "the rest passed through as cold (%llu)",
	   (unsigned long long)(stats_cur->open_pass_cold - cold));
	snprintf(p, sizeof(p), "%s/first%d", dir, n - 1);
	snprintf(want, sizeof(want), "first %d", n - 1);
	miss = stats_cur->open_miss;
	good = content_is(p, want);
	hit = stats_cur->open_hit;
	good += content_is(p, want);
	ok(good == 2 && stats_cur->open_miss == miss + 1 &&
	   stats_cur->open_hit == hit + 1,
	   "a file past them is cached at its second open and hits at its third");
	config_want_fds(keep);
	cache_drop_all();
}

/* A full cache admits a file only if it is asked for more often than the
 * entry it would evict (admit.h): files asked for once pass at the
 * kernel's cost and evict nothing; a file that becomes popular gets in. */
static void test_admission(void)
{
	char p[PATH_MAX], want[32];
	size_t keep = config_want_fds(8);
	int i, k, good = 0;
	uint64_t ev, cold, miss, hit;

	/* Every file written first: an event read later must not drop an
	 * entry and make room (a slow run, under a sanitizer, reads them
	 * late). */
	for (i = 0; i < 20; i++) {
		if (i < 10) {
			snprintf(p, sizeof(p), "%s/a%d", dir, i);
			snprintf(want, sizeof(want), "warm %d", i);
			file_put(p, want);
		}
		snprintf(p, sizeof(p), "%s/once%d", dir, i);
		snprintf(want, sizeof(want), "once %d", i);
		file_put(p, want);
	}
	snprintf(p, sizeof(p), "%s/rising", dir);
	file_put(p, "rising");
	settle();
	cache_drop_all();
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "%s/a%d", dir, i);
		snprintf(want, sizeof(want), "warm %d", i);
		for (k = 0; k < 3; k++)
			good += content_is(p, want);
	}
	is_int(good, 30, "ten files asked for three times each read right");
	ev = stats_cur->evictions;
	cold = stats_cur->open_pass_cold;
	miss = stats_cur->open_miss;
	for (i = 0, good = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "%s/once%d", dir, i);
		snprintf(want, sizeof(want), "once %d", i);
		good += content_is(p, want);
	}
	is_int(good, 20, "twenty files asked for once read right");
	ok(stats_cur->evictions == ev && stats_cur->open_miss == miss,
	   "and none of them was cached or evicted an entry (evictions %llu -> %llu)",
	   (unsigned long long)ev, (unsigned long long)stats_cur->evictions);
	is_int((int)(stats_cur->open_pass_cold - cold), 20, "each passed through as cold");
	/* The entries were asked for three times: the fourth request of a
	 * new file ties (three before it) and does not evict; the fifth
	 * (four before it) does, and the sixth hits. */
	snprintf(p, sizeof(p), "%s/rising", dir);
	for (k = 0, good = 0; k < 4; k++)
		good += content_is(p, "rising");
	ok(stats_cur->evictions == ev,
	   "a file asked for as often as the entries evicts none of them");
	good += content_is(p, "rising");
	hit = stats_cur->open_hit;
	good += content_is(p, "rising");
	is_int(good, 6, "a file asked for six times reads right");
	ok(stats_cur->evictions > ev && stats_cur->open_hit == hit + 1,
	   "it was admitted once asked for more often than the victim, and hits");
	ok(stats_cur->fds_held <= 8 + 1, "descriptors held stay within budget (+ inotify): %llu",
	   (unsigned long long)stats_cur->fds_held);
	config_want_fds(keep);
}

/* Names that do not exist are answered without a syscall until they
 * appear (Apache's .htaccess probes, try_files misses). */
static void test_negative(void)
{
	char missing[160], notdir[160];
	struct stat st;
	uint64_t neg, wfail;

	snprintf(missing, sizeof(missing), "%s/not-yet", dir);
	snprintf(notdir, sizeof(notdir), "%s/f.txt/x", dir);
	file_put(path, "a file");
	settle();   /* a new version of a cached file: the bound is 50 ms */
	errno = 0;
	ok(sc_fstatat(AT_FDCWD, missing, &st, 0) == -1 && errno == ENOENT, "a missing name: ENOENT");
	neg = stats_cur->neg_hit;
	errno = 0;
	ok(sc_fstatat(AT_FDCWD, missing, &st, 0) == -1 && errno == ENOENT &&
	   sc_openat(AT_FDCWD, missing, O_RDONLY, 0) == -1 && errno == ENOENT,
	   "asked again by stat and open: ENOENT");
	is_int(stats_cur->neg_hit, neg + 2, "both answered from the cache");
	errno = 0;
	wfail = stats_cur->watch_fail;
	ok(sc_fstatat(AT_FDCWD, notdir, &st, 0) == -1 && errno == ENOTDIR &&
	   sc_fstatat(AT_FDCWD, notdir, &st, 0) == -1 && errno == ENOTDIR &&
	   stats_cur->neg_hit == neg + 3, "ENOTDIR is remembered too");
	/* Apache probes FILE/.htaccess at every request: a watch of FILE as
	 * a directory cost a statfs and a failing inotify_add_watch. */
	is_int(stats_cur->watch_fail, wfail, "and no watch of the file is tried for it");
	neg = stats_cur->neg_hit;
	ok(sc_fstatat(AT_FDCWD, missing, &st, AT_SYMLINK_NOFOLLOW) == -1 &&
	   stats_cur->neg_hit == neg, "lstat is not answered from a stat's negative");
	file_put(missing, "now here");
	settle();
	ok(sc_fstatat(AT_FDCWD, missing, &st, 0) == 0 && content_is(missing, "now here"),
	   "a name that appears is seen 50 ms later");
}

/* Churn through both tables: 12,000 missing names (the oldest
 * negatives go past 4,096) and 200 files through an 8-descriptor budget.
 * Lookups first ask a count per slice of the hash whether the tables may
 * hold the name (cache.c: maybe); a count dropped for the wrong slice, or
 * twice, would hide live entries from then on. Every live negative and
 * every file still cached must then be answered from the cache. */
static void test_churn(void)
{
	char p[PATH_MAX], want[32];
	size_t keep = config_want_fds(8);
	struct stat st;
	int i, n = 12000, live = 4096, good = 0;
	uint64_t neg, hit;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/gone-%d", dir, i);
		sc_fstatat(AT_FDCWD, p, &st, 0);
	}
	neg = stats_cur->neg_hit;
	for (i = n - live; i < n; i++) {
		snprintf(p, sizeof(p), "%s/gone-%d", dir, i);
		errno = 0;
		good += sc_fstatat(AT_FDCWD, p, &st, 0) == -1 && errno == ENOENT;
	}
	is_int(good, live, "the last %d of %d missing names: ENOENT", live, n);
	is_int(stats_cur->neg_hit - neg, live, "each answered from the cache");

	/* Written first: the events of a write read after the file was
	 * cached would drop it. */
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "%s/churn%d", dir, i);
		snprintf(want, sizeof(want), "churn %d", i);
		file_put(p, want);
	}
	settle();
	config.admit_all = true;
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "%s/churn%d", dir, i);
		snprintf(want, sizeof(want), "churn %d", i);
		content_is(p, want);
	}
	config.admit_all = false;
	hit = stats_cur->open_hit;
	good = 0;
	for (i = 200 - 6; i < 200; i++) {
		snprintf(p, sizeof(p), "%s/churn%d", dir, i);
		snprintf(want, sizeof(want), "churn %d", i);
		good += content_is(p, want);
	}
	is_int(good, 6, "the last files of the churn read right");
	is_int(stats_cur->open_hit - hit, 6, "and each was a hit");
	config_want_fds(keep);
	cache_drop_all();
}

/* A symlink on the way (a release link), then a real directory in its
 * place whose c is itself a symlink to a file: the directory seen through
 * the first link must not pass for watched afterwards. The watches were
 * made from the leaf up, and the one made through the link outlived it:
 * the ENOTDIR below stayed after the file became a directory. */
static void setup_failed(const char *what)
{
	printf("Bail out! cannot make %s: %s\n", what, strerror(errno));
	exit(1);
}

static void test_symlink_way(void)
{
	char rel[160], relc[160], cur[160], curc[160], curf[160], probe[160];
	struct stat st;

	snprintf(rel, sizeof(rel), "%s/rel", dir);
	snprintf(relc, sizeof(relc), "%s/rel/c", dir);
	snprintf(cur, sizeof(cur), "%s/cur", dir);
	snprintf(curc, sizeof(curc), "%s/cur/c", dir);
	snprintf(curf, sizeof(curf), "%s/cur/f", dir);
	snprintf(probe, sizeof(probe), "%s/cur/c/a", dir);
	if (mkdir(rel, 0755) || mkdir(relc, 0755) || symlink("rel", cur))
		setup_failed(relc);
	errno = 0;
	ok(sc_fstatat(AT_FDCWD, probe, &st, 0) == -1 && errno == ENOENT,
	   "through a symlinked directory: ENOENT");
	if (unlink(cur) || mkdir(cur, 0755) || symlink("f", curc))
		setup_failed(curc);
	file_put(curf, "a file");
	settle();
	errno = 0;
	ok(sc_fstatat(AT_FDCWD, probe, &st, 0) == -1 && errno == ENOTDIR,
	   "the link replaced by a directory, c a symlink to a file: ENOTDIR");
	if (unlink(curf) || mkdir(curf, 0755))
		setup_failed(curf);
	settle();
	errno = 0;
	ok(sc_fstatat(AT_FDCWD, probe, &st, 0) == -1 && errno == ENOENT,
	   "the file behind c made a directory: ENOENT 50 ms later");
	rmdir(curf);
	unlink(curc);
	rmdir(cur);
	rmdir(relc);
	rmdir(rel);
}

/* Whether this process's inotify instance watches the inode of path
 * (its fdinfo lists "inotify wd:N ino:HEX ..." per watch). */
#ifndef SC_TEST_NO_INOTIFY
static int inode_watched(const char *dirpath)
{
	char fdinfo[64], line[512], want[32];
	struct stat st;
	FILE *f;
	int found = 0;

	if (stat(dirpath, &st) != 0 || watch_fd() < 0)
		return 0;
	snprintf(fdinfo, sizeof(fdinfo), "/proc/self/fdinfo/%d", watch_fd());
	snprintf(want, sizeof(want), " ino:%lx ", (unsigned long)st.st_ino);
	if (!(f = fopen(fdinfo, "r")))
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* The server opens a directory on the way read-only (a plain open, not
 * O_DIRECTORY): the directory stays watched. It did not: the open was
 * taken for a file to cache, the file watch added through the descriptor
 * was the directory's own watch (one per inode), and giving it back
 * removed it; changes in the directory went unreported until something
 * watched it again (t4009 found a remembered ENOENT outliving that). */
static void test_dir_open(void)
{
	char p[160], f[160];
	int fd;

	snprintf(p, sizeof(p), "%s/p", dir);
	snprintf(f, sizeof(f), "%s/p/f", dir);
	if (mkdir(p, 0755))
		setup_failed(p);
	file_put(f, "in p");
	ok(content_is(f, "in p"), "a file in p, cached");
	ok(inode_watched(p), "p is watched");
	fd = sc_openat(AT_FDCWD, p, O_RDONLY, 0);
	ok(fd >= 0, "p opened read-only through the library");
	sc_close(fd);
	ok(inode_watched(p), "p is still watched");
	unlink(f);
	rmdir(p);
}
#endif

/* Two release directories swapped (RENAME_EXCHANGE): A/f was a hard
 * link to F, B/f a symlink to F. After the swap A/f is the symlink to the
 * same, untouched file: lstat says symlink 50 ms later. A stat
 * revalidation (t0006) followed the link, found the same file and kept
 * answering lstat with the file's stat. */
static void test_link_in_place(void)
{
	char f[160], a[160], b[160], af[170], bf[170];
	struct stat st;

	snprintf(f, sizeof(f), "%s/F", dir);
	snprintf(a, sizeof(a), "%s/A", dir);
	snprintf(b, sizeof(b), "%s/B", dir);
	snprintf(af, sizeof(af), "%s/f", a);
	snprintf(bf, sizeof(bf), "%s/f", b);
	file_put(f, "one file");
	if (mkdir(a, 0755) || mkdir(b, 0755) || link(f, af) || symlink(f, bf))
		setup_failed(bf);
	ok(content_is(af, "one file") &&
	   sc_fstatat(AT_FDCWD, af, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	   S_ISREG(st.st_mode), "A/f, a hard link, cached: a regular file");
	if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE))
		setup_failed(a);
	settle();
	ok(sc_fstatat(AT_FDCWD, af, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	   S_ISLNK(st.st_mode), "A and B swapped: lstat of A/f says symlink");
	unlink(af);
	unlink(bf);
	rmdir(a);
	rmdir(b);
	unlink(f);
}

/* After fork the child has a cache of its own: it serves hits, and it
 * sees changes through an inotify instance of its own (DESIGN.md §3.7). */
static void test_fork(void)
{
	int status = -1;
	pid_t pid;

	file_put(path, "before fork");
	settle();   /* a new version of a cached file: the bound is 50 ms */
	ok(content_is(path, "before fork") && content_is(path, "before fork"), "cached in the parent");
	pid = fork();
	if (pid == 0) {
		uint64_t hits;
		int good;

		sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
		hits = stats_cur->open_hit;
		good = content_is(path, "before fork") && stats_cur->open_hit == hits + 1;
		file_put(path, "changed in the child");
		settle();
		good = good && content_is(path, "changed in the child");
		_exit(good && stats_cur->inval_inotify + stats_cur->inval_revalidate > 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the forked child hits its inherited cache and sees a change 50 ms later");
	settle();
	ok(content_is(path, "changed in the child"), "and so does the parent");
}

/* A forked child sleeps until it waits (engine.c): its calls pass to
 * the kernel and count nowhere; one that moved to another directory
 * asleep opens relative names there once awake; a call on one of the
 * cache's descriptors wakes it. */
static void test_fork_sleep(void)
{
	char sub[128], there[160];
	int status = -1, fd;
	pid_t pid;

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(there, sizeof(there), "%s/f.txt", sub);
	mkdir(sub, 0755);
	file_put(path, "here");
	file_put(there, "there");
	settle();
	if (sc_chdir(dir) != 0)
		diag("chdir %s: %s", dir, strerror(errno));
	ok(content_is("f.txt", "here") && content_is("f.txt", "here"),
	   "a relative name cached in the parent");
	fd = sc_openat(AT_FDCWD, "f.txt", O_RDONLY, 0);
	pid = fork();
	if (pid == 0) {
		struct sc_counters *parent = stats_cur;
		uint64_t hits = stats_cur->open_hit;
		int good;

		/* Asleep: the kernel's answer, counted nowhere. */
		if (!content_is("f.txt", "here") || stats_cur != parent ||
		    stats_cur->open_hit != hits)
			_exit(1);
		if (sc_chdir(sub) != 0)
			_exit(2);
		/* A descriptor the cache handed out wakes it. */
		if (sc_pread(fd, (char[8]){0}, 4, 0) != 4 || stats_cur == parent)
			_exit(3);
		/* Awake, a relative name is looked up where it is now. */
		good = content_is("f.txt", "there") && content_is("f.txt", "there");
		_exit(good ? 0 : 4);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a child asleep passes to the kernel, wakes on the cache's descriptor, "
	   "and opens relative names where it moved (%d)", WEXITSTATUS(status));
	sc_close(fd);
	sc_chdir("/");
	unlink(there);
	rmdir(sub);
}

/* A symlink whose target's way passes through a file: stat says ENOTDIR.
 * In a forked child past its trust of the parent's view, the negative is
 * checked again; watching the link's own directory there made it a
 * watched negative that no event could end (the change is on the
 * target's way), and the child kept saying ENOTDIR after the way became
 * a directory. */
static void test_notdir_link_fork(void)
{
	char way[128], file[160], target[200], wdir[160], link[200];
	struct stat st;
	int status = -1, err;
	pid_t pid;

	snprintf(way, sizeof(way), "%s/nd-way", dir);
	snprintf(file, sizeof(file), "%s/FILE", way);
	snprintf(target, sizeof(target), "%s/FILE/x", way);
	snprintf(wdir, sizeof(wdir), "%s/nd-links", dir);
	snprintf(link, sizeof(link), "%s/l", wdir);
	if (mkdir(way, 0755) || mkdir(wdir, 0755) || symlink(target, link))
		setup_failed("the ENOTDIR link");
	file_put(file, "a file");
	settle();
	errno = 0;
	err = sc_fstatat(AT_FDCWD, link, &st, 0) == -1 ? errno : 0;
	is_int(err, ENOTDIR, "a link through a file: ENOTDIR");
	pid = fork();
	if (pid == 0) {
		struct timespec trust = { 0, 100 * 1000 * 1000 };

		sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
		nanosleep(&trust, NULL);        /* past the fork's trust */
		sc_fstatat(AT_FDCWD, link, &st, 0);
		settle();
		if (unlink(file) || mkdir(file, 0755))
			_exit(2);
		file_put(target, "now here");
		settle();
		_exit(sc_fstatat(AT_FDCWD, link, &st, 0) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "in a forked child, the link resolves 50 ms after its way became a directory");
}

#ifndef SC_TEST_NO_INOTIFY
/* A name that changed in the last second is checked against the pending
 * events at each lookup: a change right before a stat, an open or a
 * lookup of a remembered absence is seen at once, not check_ms later.
 * A name that has not changed for a second costs no read. */
static void test_hot(void)
{
	char hotp[160];
	struct stat st;
	struct timespec second = { 1, 100 * 1000 * 1000 };
	uint64_t polls;
	int fd;

	snprintf(hotp, sizeof(hotp), "%s/hot.txt", dir);
	file_put(hotp, "0123456789");
	settle();   /* its events are read at the next lookup: hot from then */
	ok(content_is(hotp, "0123456789") && content_is(hotp, "0123456789"), "cached");
	nanosleep(&second, NULL);
	ok(content_is(hotp, "0123456789"), "still cached after a second");
	polls = stats_cur->hot_poll;
	sc_fstatat(AT_FDCWD, hotp, &st, 0);
	fd = sc_openat(AT_FDCWD, hotp, O_RDONLY, 0);
	sc_close(fd);
	is_int(stats_cur->hot_poll, polls, "a name unchanged for a second: no event read of its own");
	truncate(hotp, 3);
	settle();
	ok(sc_fstatat(AT_FDCWD, hotp, &st, 0) == 0 && st.st_size == 3 &&
	   content_is(hotp, "012") && content_is(hotp, "012"),
	   "truncated: seen 50 ms later, and cached again");
	polls = stats_cur->hot_poll;
	truncate(hotp, 1);
	ok(sc_fstatat(AT_FDCWD, hotp, &st, 0) == 0 && st.st_size == 1 &&
	   stats_cur->hot_poll == polls + 1,
	   "truncated again right before a stat: seen at once, by an event read");
	ok(content_is(hotp, "0") && content_is(hotp, "0"), "and cached again");
	unlink(hotp);
	errno = 0;
	ok(sc_openat(AT_FDCWD, hotp, O_RDONLY, 0) == -1 && errno == ENOENT,
	   "deleted right before an open: ENOENT at once");
	errno = 0;
	sc_fstatat(AT_FDCWD, hotp, &st, 0);
	file_put(hotp, "back");
	ok(sc_fstatat(AT_FDCWD, hotp, &st, 0) == 0 && st.st_size == 4,
	   "its remembered absence: the name created right before a stat is seen at once");
}
#endif

#ifdef SC_TEST_NO_INOTIFY
/* Runs before sendcache's constructor (priority 101 < default): the
 * whole suite then relies on stat revalidation alone. */
__attribute__((constructor(101))) static void no_inotify(void)
{
	setenv("SENDCACHE_INOTIFY", "0", 1);
}
#define EXTRA_TESTS 1
#else
#define EXTRA_TESTS 19  /* test_lost_watch, test_hot, test_dir_open */
#endif

/* Every entry held by the server (lighttpd's stat cache keeps a
 * descriptor of each file), more of them than the victim walk looks at
 * (32): a file asked for again passes at once, before the watches and
 * stats an entry costs (cold, not full), and evicts nothing. Once the
 * server lets go of some, asked for more often than they were, it evicts
 * one of those and is cached. Every held descriptor still reads its file. */
#define BUSY 40
#define FREED 8
static void test_busy(void)
{
	char p[PATH_MAX], want[32], buf[32];
	size_t keep = config_want_fds(BUSY);
	int i, k, held[BUSY], good = 0;
	uint64_t full, cold, ev, miss;
	ssize_t n;

	for (i = 0; i <= BUSY; i++) {
		snprintf(p, sizeof(p), "%s/busy%d", dir, i);
		snprintf(want, sizeof(want), "busy %d", i);
		file_put(p, want);
	}
	settle();
	cache_drop_all();
	for (i = 0; i < BUSY; i++) {
		snprintf(p, sizeof(p), "%s/busy%d", dir, i);
		snprintf(want, sizeof(want), "busy %d", i);
		good += content_is(p, want);
		held[i] = sc_openat(AT_FDCWD, p, O_RDONLY, 0);
	}
	full = stats_cur->open_full;
	cold = stats_cur->open_pass_cold;
	ev = stats_cur->evictions;
	miss = stats_cur->open_miss;
	snprintf(p, sizeof(p), "%s/busy%d", dir, BUSY);
	snprintf(want, sizeof(want), "busy %d", BUSY);
	for (k = 0; k < 3; k++)
		good += content_is(p, want);
	ok(stats_cur->open_pass_cold == cold + 3 && stats_cur->open_full == full &&
	   stats_cur->evictions == ev,
	   "%d busy entries in a budget of %d: a file asked for 3 times passes as cold "
	   "(cold +%llu, full +%llu, evictions +%llu)", BUSY, BUSY,
	   (unsigned long long)(stats_cur->open_pass_cold - cold),
	   (unsigned long long)(stats_cur->open_full - full),
	   (unsigned long long)(stats_cur->evictions - ev));
	for (i = 0; i < FREED; i++)
		sc_close(held[i]);
	for (k = 0; k < 3 && stats_cur->open_miss == miss; k++)
		good += content_is(p, want);
	ok(stats_cur->open_miss == miss + 1 && stats_cur->evictions > ev &&
	   stats_cur->evictions <= ev + 2,
	   "%d let go of: asked for more often, it evicts %llu of them and is cached",
	   FREED, (unsigned long long)(stats_cur->evictions - ev));
	for (i = FREED; i < BUSY; i++) {
		snprintf(want, sizeof(want), "busy %d", i);
		n = sc_pread(held[i], buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		good += n > 0 && !strcmp(buf, want);
		sc_close(held[i]);
	}
	is_int(good, BUSY + 3 + k + BUSY - FREED,
	       "every file read right, the held ones through their descriptors");
	config_want_fds(keep);
}

int main(void)
{
	plan(88 + EXTRA_TESTS);
	snprintf(dir, sizeof(dir), "%s", tmpdir_make());
	snprintf(path, sizeof(path), "%s/f.txt", dir);
	test_hits_and_positions();
	test_freshness();
	test_relative();
	test_lost_descriptors();
#ifndef SC_TEST_NO_INOTIFY
	test_lost_watch();
	test_hot();
#endif
	test_budget();
	test_admission();
	test_busy();
	test_first_use();
	test_loop();
	test_negative();
	test_churn();
	test_symlink_way();
	test_link_in_place();
#ifndef SC_TEST_NO_INOTIFY
	test_dir_open();
#endif
	test_fork();
	test_fork_sleep();
	test_notdir_link_fork();
#ifdef SC_TEST_NO_INOTIFY
	ok(stats_cur->revalidate_stat > 0 && stats_cur->inval_revalidate > 0 && !stats_cur->inval_inotify,
	   "freshness came from stat revalidation (%llu stats, %llu drops)",
	   (unsigned long long)stats_cur->revalidate_stat,
	   (unsigned long long)stats_cur->inval_revalidate);
#endif
	tmpdir_remove(dir);
	return done_testing();
}
