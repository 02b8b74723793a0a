/* freshfuzz.c - differential freshness fuzzer: the cache against the kernel.
 *
 *   LD_PRELOAD=libsendcache.so freshfuzz ROOT SEED OPS [WAIT_MS [BATCH]]
 *
 * In the empty directory ROOT, applies OPS random file-system operations
 * drawn from SEED (mkdir, rmdir, file writes, truncates, renames of files
 * and directories over existing names, directory swaps, symlinks relative
 * and absolute, hard links, chmod, unlink...), in batches. Each operation
 * (1 to BATCH of them, default 8) goes to the kernel by syscall(2), as
 * another process's change would:
 * the cache hears of it only as the kernel tells it. After each batch and
 * WAIT_MS milliseconds, every path of a small universe is looked up the
 * ways servers do (stat then open, open then fstat, lstat, read, pread,
 * mmap) through libc, which the library answers, and by syscall(2), which
 * the kernel answers. Type, mode, size, inode, links, owner, mtime, errno
 * and the content's hash must be equal. A difference prints the seed, the
 * probe and the operation log, and exits 1; the same arguments replay it.
 * Exits 0 when all agree, 2 on bad arguments.
 *
 * With FUZZ_HTTP=PORT_WITH,PORT_WITHOUT in the environment (and no
 * LD_PRELOAD) a lookup is a request instead: GET /PATH from a server on
 * 127.0.0.1:PORT_WITH that runs with the library and from one on
 * PORT_WITHOUT that serves the same ROOT without it; status, ETag and
 * the body's hash must be equal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "compat.h"

/* Paths: components from NAMES, 1 to MAX_DEPTH deep: 3 + 9 + 27. */
#define NAMES "abc"
#define MAX_DEPTH 3
#define NPATHS 39
/* Operations kept for the report of a difference. */
#define LOG_LINES 4096
/* Files up to this size, and now and then one past the cache's 64 KiB
 * copy bound. */
#define SMALL_MAX 3000
#define LARGE_SIZE 70000

static char root[1024];
static char rel[NPATHS][8];         /* "a", "a/b", ... */
static char abs_path[NPATHS][1100];
static uint64_t rng;
static char *oplog[LOG_LINES];
static unsigned nlog;
static unsigned long seed, batch, wait_ms = 50;
static unsigned max_batch = 8;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

static void logop(const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	free(oplog[nlog % LOG_LINES]);
	oplog[nlog++ % LOG_LINES] = line;
}

static void make_paths(void)
{
	int n = 0, d, i, j, k;

	for (d = 1; d <= MAX_DEPTH; d++) {
		int count = d == 1 ? 3 : d == 2 ? 9 : 27;

		for (i = 0; i < count; i++) {
			char *p = rel[n];

			k = i;
			for (j = d - 1; j >= 0; j--) {
				p[j * 2] = NAMES[k % 3];
				if (j)
					p[j * 2 - 1] = '/';
				k /= 3;
			}
			p[d * 2 - 1] = 0;
			snprintf(abs_path[n], sizeof(abs_path[n]), "%s/%s", root,
				 p);
			n++;
		}
	}
}

static int depth(const char *r)
{
	int d = 1;

	for (; *r; r++)
		d += *r == '/';
	return d;
}

/* The kernel's side: raw system calls, never the library's answers. */
static long k_stat(const char *p, struct stat *st, int flags)
{
	return syscall(SYS_newfstatat, AT_FDCWD, p, st, flags);
}

static int k_open(const char *p, int flags, int mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, p, flags, mode);
}

static void k_close(int fd)
{
	syscall(SYS_close, fd);
}

/* Writes len bytes of content drawn from the generator at off. */
static long k_fill(int fd, off_t off, size_t len)
{
	static char buf[LARGE_SIZE];
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)('a' + pick(26));
	return syscall(SYS_pwrite64, fd, buf, len, off);
}

static size_t file_size(void)
{
	return pick(20) == 0 ? LARGE_SIZE : pick(SMALL_MAX + 1);
}

/* A symlink target for a link at r: another path of the universe, as an
 * absolute path or relative to r's directory, or a name beside it. */
static void link_target(const char *r, char *out, size_t size)
{
	const char *t = rel[pick(NPATHS)];
	int up = depth(r) - 1, n = 0;

	switch (pick(3)) {
	case 0:
		snprintf(out, size, "%s/%s", root, t);
		break;
	case 1:
		while (up-- > 0)
			n += snprintf(out + n, size - (size_t)n, "../");
		snprintf(out + n, size - (size_t)n, "%s", t);
		break;
	default:
		snprintf(out, size, "%c", NAMES[pick(3)]);
		break;
	}
}

static const int modes[] = { 0755, 0700, 0644, 0600, 0311, 0000, 0711, 0444 };

/* A raw call's result for the log: 0 or -errno. */
static long res(long rc)
{
	return rc ? -(long)errno : 0;
}

/* One random operation; what the kernel said is logged. */
static void one_op(void)
{
	int a = (int)pick(NPATHS), b = (int)pick(NPATHS), fd;
	const char *p = abs_path[a], *q = abs_path[b];
	char target[2048], tmp[1200];
	struct stat st;
	long rc = 0;
	size_t len;

	switch (pick(16)) {
	case 0: case 1:
		rc = syscall(SYS_mkdirat, AT_FDCWD, p, 0755);
		logop("mkdir %s = %ld", rel[a], res(rc));
		break;
	case 2:
		rc = syscall(SYS_unlinkat, AT_FDCWD, p, AT_REMOVEDIR);
		logop("rmdir %s = %ld", rel[a], res(rc));
		break;
	case 3: case 4: case 5:
		len = file_size();
		fd = k_open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			rc = k_fill(fd, 0, len);
			k_close(fd);
		}
		logop("write %s %zu = %ld", rel[a], len, fd < 0 ? -errno : rc);
		break;
	case 6:
		/* In place, same size, and the old mtime put back (cp -p,
		 * rsync -t): only ctime and the bytes tell. */
		fd = k_open(p, O_WRONLY | O_CLOEXEC, 0);
		rc = fd < 0 ? -errno : 0;
		if (fd >= 0 && syscall(SYS_fstat, fd, &st) == 0 && st.st_size > 0) {
			struct timespec ts[2] = { st.st_atim, st.st_mtim };

			len = 1 + pick((unsigned)st.st_size);
			rc = k_fill(fd, (off_t)pick((unsigned)(st.st_size -
							     (off_t)len + 1)), len);
			syscall(SYS_utimensat, fd, NULL, ts, 0);
		}
		if (fd >= 0)
			k_close(fd);
		logop("overwrite-keep-mtime %s = %ld", rel[a], rc);
		break;
	case 7:
		len = pick(SMALL_MAX);
		rc = syscall(SYS_truncate, p, len);
		logop("truncate %s %zu = %ld", rel[a], len, res(rc));
		break;
	case 8:
		rc = syscall(SYS_unlinkat, AT_FDCWD, p, 0);
		logop("unlink %s = %ld", rel[a], res(rc));
		break;
	case 9:
		link_target(rel[a], target, sizeof(target));
		rc = syscall(SYS_symlinkat, target, AT_FDCWD, p);
		logop("symlink %s -> %s = %ld", rel[a], target, res(rc));
		break;
	case 10:
		/* A release switch: a new symlink renamed over the old. */
		link_target(rel[a], target, sizeof(target));
		snprintf(tmp, sizeof(tmp), "%s.new", p);
		rc = syscall(SYS_symlinkat, target, AT_FDCWD, tmp);
		if (rc == 0)
			rc = syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, p, 0);
		if (rc)
			rc = -errno;
		syscall(SYS_unlinkat, AT_FDCWD, tmp, 0);
		logop("repoint %s -> %s = %ld", rel[a], target, rc);
		break;
	case 11:
		rc = syscall(SYS_linkat, AT_FDCWD, p, AT_FDCWD, q, 0);
		logop("link %s %s = %ld", rel[a], rel[b], res(rc));
		break;
	case 12: case 13:
		rc = syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD, q, 0);
		logop("rename %s %s = %ld", rel[a], rel[b], res(rc));
		break;
	case 14:
		rc = syscall(SYS_renameat2, AT_FDCWD, p, AT_FDCWD, q,
			     RENAME_EXCHANGE);
		logop("exchange %s %s = %ld", rel[a], rel[b], res(rc));
		break;
	default: {
		int m = modes[pick(sizeof(modes) / sizeof(modes[0]))];

		rc = syscall(SYS_fchmodat, AT_FDCWD, p, m);
		logop("chmod %s %04o = %ld", rel[a], m, res(rc));
		break;
	}
	}
}

/* What a lookup gave, to compare. */
struct seen {
	int err;                /* 0 or errno */
	mode_t mode;
	off_t size;
	ino_t ino;
	nlink_t nlink;
	uid_t uid;
	struct timespec mtime;
	uint64_t hash;          /* of the bytes read, when read */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

static void from_stat(struct seen *s, const struct stat *st)
{
	s->mode = st->st_mode;
	s->size = st->st_size;
	s->ino = st->st_ino;
	s->nlink = st->st_nlink;
	s->uid = st->st_uid;
	s->mtime = st->st_mtim;
}

/* The ways a server looks a path up. raw: by syscall(2). */
enum way { STAT_OPEN, OPEN_FSTAT, LSTAT, OPEN_PREAD, OPEN_MMAP, NWAYS };
static const char *const way_name[NWAYS] = {
	"stat+open+read", "open+fstat+read", "lstat", "open+fstat+pread",
	"open+fstat+mmap"
};

static uint64_t read_all(int fd, bool raw)
{
	char buf[8192];
	uint64_t h = 0xcbf29ce484222325ull;
	ssize_t n;

	while ((n = raw ? syscall(SYS_read, fd, buf, sizeof(buf))
			: read(fd, buf, sizeof(buf))) > 0)
		h = fnv(h, buf, (size_t)n);
	return n < 0 ? (uint64_t)-errno : h;
}

static void look(const char *p, enum way w, bool raw, struct seen *s)
{
	struct stat st;
	uint64_t h = 0xcbf29ce484222325ull;
	char buf[4096];
	ssize_t n;
	void *m;
	int fd;

	memset(s, 0, sizeof(*s));
	if (w == STAT_OPEN || w == LSTAT) {
		int fl = w == LSTAT ? AT_SYMLINK_NOFOLLOW : 0;

		if ((raw ? k_stat(p, &st, fl)
			 : (w == LSTAT ? lstat(p, &st) : stat(p, &st))) != 0) {
			s->err = errno;
			return;
		}
		from_stat(s, &st);
		if (w == LSTAT || !S_ISREG(st.st_mode))
			return;
	}
	fd = raw ? k_open(p, O_RDONLY | O_CLOEXEC, 0) : open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		s->err = errno;
		return;
	}
	if ((raw ? syscall(SYS_fstat, fd, &st) : fstat(fd, &st)) != 0) {
		s->err = errno;
		goto out;
	}
	if (w == STAT_OPEN) {
		struct seen f = *s;

		from_stat(&f, &st);
		if (memcmp(&f, s, sizeof(f)) != 0) {
			s->err = EILSEQ;        /* stat and fstat disagree */
			goto out;
		}
	}
	from_stat(s, &st);
	if (!S_ISREG(st.st_mode))
		goto out;
	switch (w) {
	case OPEN_PREAD:
		n = raw ? syscall(SYS_pread64, fd, buf, sizeof(buf), 7)
			: pread(fd, buf, sizeof(buf), 7);
		s->hash = n < 0 ? (uint64_t)-errno : fnv(h, buf, (size_t)n);
		break;
	case OPEN_MMAP:
		if (st.st_size == 0)
			break;
		m = raw ? (void *)syscall(SYS_mmap, NULL, st.st_size, PROT_READ,
					  MAP_PRIVATE, fd, 0)
			: mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			       fd, 0);
		if (m == MAP_FAILED) {
			s->hash = (uint64_t)-errno;
			break;
		}
		s->hash = fnv(h, m, (size_t)st.st_size);
		if (raw)
			syscall(SYS_munmap, m, st.st_size);
		else
			munmap(m, (size_t)st.st_size);
		break;
	default:
		s->hash = read_all(fd, raw);
		break;
	}
out:
	if (raw)
		k_close(fd);
	else
		close(fd);
}

static void show(const char *who, const struct seen *s)
{
	if (s->err) {
		fprintf(stderr, "  %-7s %s\n", who, strerror(s->err));
		return;
	}
	fprintf(stderr, "  %-7s mode %06o size %jd ino %ju nlink %ju uid %u "
		"mtime %jd.%09ld hash %016" PRIx64 "\n", who, (unsigned)s->mode,
		(intmax_t)s->size, (uintmax_t)s->ino, (uintmax_t)s->nlink,
		(unsigned)s->uid, (intmax_t)s->mtime.tv_sec, s->mtime.tv_nsec,
		s->hash);
}

static void report(int i, enum way w, const struct seen *got,
		   const struct seen *want)
{
	unsigned k = nlog > LOG_LINES ? nlog - LOG_LINES : 0;

	fprintf(stderr, "freshfuzz: seed %lu, batch %lu, operation %u: %s by "
		"%s differs from the kernel\n", seed, batch, nlog, rel[i],
		way_name[w]);
	show("library", got);
	show("kernel", want);
	fprintf(stderr, "operations (replay: freshfuzz ROOT %lu %u %lu %u):\n",
		seed, nlog, wait_ms, max_batch);
	for (; k < nlog; k++)
		fprintf(stderr, "  %u %s\n", k + 1, oplog[k % LOG_LINES]);
}

/* HTTP mode: the two servers' ports, 0 when not in HTTP mode. */
static int port_with, port_without;

/* What a server answered: "STATUS ETAG HASH", or why there is none. */
static void http_get(int port, const char *rel_path, char *out, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	static char buf[LARGE_SIZE + 8192];
	char req[256], etag[64] = "-", *body, *e;
	size_t len = 0;
	ssize_t n;
	int fd, status = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(out, size, "no answer");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	n = snprintf(req, sizeof(req), "GET /%s HTTP/1.0\r\nHost: fuzz\r\n\r\n",
		     rel_path);
	if (write(fd, req, (size_t)n) != n)
		goto out;
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	body = strstr(buf, "\r\n\r\n");
	if (!body || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		goto out;
	if ((e = strstr(buf, "\r\nETag: ")) && e < body)
		sscanf(e + 8, "%63s", etag);
	body += 4;
	snprintf(out, size, "%d %s %016" PRIx64, status, etag,
		 fnv(0xcbf29ce484222325ull, body, len - (size_t)(body - buf)));
out:
	if (fd >= 0)
		close(fd);
}

/* Requests every path from both servers; check: compare the answers. */
static bool probe_http(bool check)
{
	char got[128], want[128];
	unsigned k;
	int i;

	for (i = 0; i < NPATHS; i++) {
		http_get(port_with, rel[i], got, sizeof(got));
		if (!check)
			continue;
		http_get(port_without, rel[i], want, sizeof(want));
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "freshfuzz: seed %lu, batch %lu, operation "
				"%u: GET /%s differs\n  with    %s\n  without %s\n",
				seed, batch, nlog, rel[i], got, want);
			fprintf(stderr, "operations (replay: FUZZ_HTTP=... freshfuzz "
				"ROOT %lu %u %lu %u):\n", seed, nlog, wait_ms,
				max_batch);
			for (k = nlog > LOG_LINES ? nlog - LOG_LINES : 0; k < nlog; k++)
				fprintf(stderr, "  %u %s\n", k + 1,
					oplog[k % LOG_LINES]);
			return false;
		}
	}
	return true;
}

/* Looks up every path every way; check: compare with the kernel. */
static bool probe(bool check)
{
	struct seen got, want;
	enum way w;
	int i;

	if (port_with)
		return probe_http(check);

	for (i = 0; i < NPATHS; i++) {
		for (w = 0; w < NWAYS; w++) {
			/* Not between operations: a size up to check_ms old
			 * is allowed then, and a mapping of it past the new
			 * end would fault (as a server's would, racing a
			 * truncate without us). */
			if (!check && w == OPEN_MMAP)
				continue;
			look(abs_path[i], w, false, &got);
			if (!check)
				continue;
			look(abs_path[i], w, true, &want);
			if (memcmp(&got, &want, sizeof(got)) != 0) {
				report(i, w, &got, &want);
				return false;
			}
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	unsigned long ops, done = 0;
	struct timespec ts;

	if (argc < 4 || strlen(argv[1]) > 900 || argv[1][0] != '/' ||
	    (argc > 5 && atoi(argv[5]) <= 0)) {
		fprintf(stderr, "usage: freshfuzz /ROOT SEED OPS [WAIT_MS [BATCH]]\n");
		return 2;
	}
	if (argc > 4)
		wait_ms = strtoul(argv[4], NULL, 10);
	if (argc > 5)
		max_batch = (unsigned)strtoul(argv[5], NULL, 10);
	if (getenv("FUZZ_HTTP") &&
	    sscanf(getenv("FUZZ_HTTP"), "%d,%d", &port_with, &port_without) != 2) {
		fprintf(stderr, "freshfuzz: FUZZ_HTTP=PORT_WITH,PORT_WITHOUT\n");
		return 2;
	}
	snprintf(root, sizeof(root), "%s", argv[1]);
	seed = strtoul(argv[2], NULL, 10);
	ops = strtoul(argv[3], NULL, 10);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	make_paths();
	ts.tv_sec = (time_t)(wait_ms / 1000);
	ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
	while (done < ops) {
		unsigned n = 1 + pick(max_batch), j;

		batch++;
		for (j = 0; j < n && done < ops; j++, done++) {
			one_op();
			/* Sometimes the cache looks between two operations,
			 * and keeps what it saw then. */
			if (pick(4) == 0)
				probe(false);
		}
		nanosleep(&ts, NULL);
		if (!probe(true))
			return 1;
	}
	printf("freshfuzz: seed %lu: %lu operations in %lu batches, every "
	       "lookup as the kernel says\n", seed, done, batch);
	return 0;
}
