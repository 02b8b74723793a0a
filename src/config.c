/* config.c - parse SENDCACHE_* variables, with one clear line per bad value. */
#define _GNU_SOURCE
#include "config.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Defaults. Each is a budget or a bound with a reason:
 * - fds: a quarter of the soft RLIMIT_NOFILE (the rest is the server's:
 *   nginx's default worker_connections is 768), at most 16384 and at most
 *   a quarter of the user's inotify watches (an entry holds one; several
 *   workers share the limit). On a site larger than the budget the hit
 *   ratio follows it: 100,000 files under Zipf 1.0 hit 0.60 with 1024
 *   descriptors and 0.73 with 5000 (bench/site.sh).
 * - 256 MiB mapped: address space only; pages are the page cache's.
 * - 1 MiB merge: one writev of header + mapping beat header + sendfile
 *   and the pipe strategy at every size measured, 4 KiB to 1 MiB
 *   (bench/strategies.sh, bench/results/20261122-vm-strategies*).
 * - 10 ms inotify check: well inside the 50 ms freshness bound, and one
 *   read() per 10 ms costs nothing against thousands of requests.
 * - 20 ms revalidation: the fallback must also meet the 50 ms bound.
 * - 64 KiB copies: a private copy costs memory per process, so only files
 *   a server reads into memory itself (lighttpd reads small files with
 *   pread; larger ones go by sendfile) are worth one. */
#define DEF_MAX_FDS       16384
#define DEF_MAX_MAPPED    (256u << 20)
#define DEF_MERGE_MAX     (1u << 20)
#define DEF_CHECK_MS      10
#define DEF_REVALIDATE_MS 20
#define DEF_COPY_MAX      (64u << 10)

const struct sc_config_var config_vars[] = {
	{ "SENDCACHE_DISABLE", "0", "1 turns sendcache off: every call goes straight to libc" },
	{ "SENDCACHE_MAX_FDS", "16384", "descriptors the cache may hold; also at most a quarter of the soft RLIMIT_NOFILE, read again when the cache is full" },
	{ "SENDCACHE_ADMIT_ALL", "0", "1 caches every file at its first open, least recently used out (no frequency admission)" },
	{ "SENDCACHE_MAX_MAPPED", "256M", "bytes of read-only file mappings the cache may hold (suffix K, M, G)" },
	{ "SENDCACHE_MERGE_MAX", "1M", "largest file sent as one writev(header + mapping); larger ones use sendfile" },
	{ "SENDCACHE_CHECK_MS", "10", "interval between reads of pending inotify events, 1 to 40 ms" },
	{ "SENDCACHE_REVALIDATE_MS", "20", "stat revalidation interval when inotify is unavailable, 1 to 40 ms" },
	{ "SENDCACHE_INOTIFY", "1", "0 uses stat revalidation instead of inotify" },
	{ "SENDCACHE_HOLD_HEADS", "1", "0 holds back headers only when corked or sent with MSG_MORE" },
	{ "SENDCACHE_STATS", "1", "0 keeps the counters private: no shared-memory segment" },
	{ "SENDCACHE_STATS_NAME", "PROGRAM-PID", "instance name: the segment is /dev/shm/sendcache.NAME" },
	{ "SENDCACHE_STATS_GROUP", "", "group allowed to read the segment (mode 0640 instead of 0600)" },
	{ "SENDCACHE_STATS_SLOTS", "256", "processes the segment has room for, 4 to 65536" },
	{ "SENDCACHE_COPY_MAX", "64K", "largest file whose read/pread is answered from a private copy (0: never)" },
	{ "SENDCACHE_PIPE_MAX", "0", "largest file sent from a cached pipe by tee + splice (0: never; see bench/results strategies)" },
	{ "SENDCACHE_PREWARM", "", "absolute directories (colon-separated) whose files are cached at start, before a server forks its workers" },
	{ NULL, NULL, NULL },
};

struct sc_config config = {
	.max_fds = DEF_MAX_FDS,
	.max_mapped = DEF_MAX_MAPPED,
	.merge_max = DEF_MERGE_MAX,
	.check_ms = DEF_CHECK_MS,
	.revalidate_ms = DEF_REVALIDATE_MS,
	.inotify = true,
	.hold_heads = true,
	.stats = true,
	.stats_slots = 256,
	.copy_max = DEF_COPY_MAX,
};

/* Parses a decimal count with an optional K/M/G suffix (powers of 1024).
 * Returns false on anything else, on overflow and outside [lo, hi]. */
static bool parse_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	}
	if (*end || (v && mul > UINT64_MAX / v))
		return false;
	v *= mul;
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "on")) {
		*out = true;
		return true;
	}
	if (!strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "off")) {
		*out = false;
		return true;
	}
	return false;
}

/* Bytes of a rejected value quoted in its message: enough to recognise it,
 * short enough for one line of a server's error log. */
#define QUOTE_MAX 40

/* Writes at most QUOTE_MAX bytes of val to out (room for 4 * QUOTE_MAX + 4),
 * each byte outside printable ASCII as \xNN and "..." if val is longer: a
 * value holding a newline must not add lines of its own to a server's
 * error log, where they would read as messages (forged ones included). */
static void quote_value(char *out, const char *val)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; val[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			*out++ = (char)c;
			continue;
		}
		*out++ = '\\';
		*out++ = 'x';
		*out++ = hex[c >> 4];
		*out++ = hex[c & 15];
	}
	if (val[i])
		out = stpcpy(out, "...");
	*out = 0;
}

static int reject(FILE *err, const char *name, const char *val,
		  const char *want)
{
	char quoted[4 * QUOTE_MAX + 4];

	if (err) {
		quote_value(quoted, val);
		fprintf(err, "sendcache: %s='%s' is not %s; using the default\n",
			name, quoted, want);
	}
	return 1;
}

static int get_size(const char *(*env)(const char *), FILE *err,
		    const char *name, uint64_t lo, uint64_t hi,
		    const char *want, uint64_t *out)
{
	const char *s = env(name);

	if (!s || parse_size(s, lo, hi, out))
		return 0;
	return reject(err, name, s, want);
}

static int get_bool(const char *(*env)(const char *), FILE *err,
		    const char *name, bool *out)
{
	const char *s = env(name);

	if (!s || parse_bool(s, out))
		return 0;
	return reject(err, name, s, "0 or 1");
}

/* A name usable in a file name: [A-Za-z0-9._-], 1 to 63 characters, not
 * starting with a dot. */
static bool valid_name(const char *s)
{
	size_t i;

	if (!*s || *s == '.' || strlen(s) > 63)
		return false;
	for (i = 0; s[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", s[i]))
			return false;
	return true;
}

static int get_name(const char *(*env)(const char *), FILE *err,
		    const char *name, char *out, size_t size)
{
	const char *s = env(name);

	if (!s)
		return 0;
	if (!valid_name(s) || strlen(s) >= size)
		return reject(err, name, s, "a name of letters, digits, '.', '_', '-' (at most 63)");
	strcpy(out, s);
	return 0;
}

/* A list of absolute directories separated by ':', each at most
 * PATH_MAX - 1 long, the whole shorter than size. */
static bool valid_dirs(const char *s, size_t size)
{
	const char *p = s, *end;

	if (!*s || strlen(s) >= size)
		return false;
	for (; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (*p != '/' || end - p >= PATH_MAX)
			return false;
	}
	return s[strlen(s) - 1] != ':';
}

static int get_dirs(const char *(*env)(const char *), FILE *err,
		    const char *name, char *out, size_t size)
{
	const char *s = env(name);

	if (!s)
		return 0;
	if (!valid_dirs(s, size))
		return reject(err, name, s, "a list of absolute directories separated by ':' (at most 1023 bytes)");
	strcpy(out, s);
	return 0;
}

/* get_size() into a size_t or unsigned field, which keeps its value
 * unless the variable is set and valid. */
static int get_szt(const char *(*env)(const char *), FILE *err,
		   const char *name, uint64_t lo, uint64_t hi, const char *want,
		   size_t *field)
{
	uint64_t v = *field;
	int bad = get_size(env, err, name, lo, hi, want, &v);

	*field = (size_t)v;
	return bad;
}

static int get_uint(const char *(*env)(const char *), FILE *err,
		    const char *name, uint64_t lo, uint64_t hi, const char *want,
		    unsigned *field)
{
	uint64_t v = *field;
	int bad = get_size(env, err, name, lo, hi, want, &v);

	*field = (unsigned)v;
	return bad;
}

#define BYTES_1G 0, 1u << 30, "a size up to 1G (suffix K, M or G)"
#define MS_1_40  1, 40, "a number of milliseconds from 1 to 40"

int config_parse(struct sc_config *cfg, const char *(*env)(const char *),
		 FILE *err)
{
	int bad = 0;

	bad += get_bool(env, err, "SENDCACHE_DISABLE", &cfg->disabled);
	bad += get_szt(env, err, "SENDCACHE_MAX_FDS", 4, 1u << 20,
		       "a count from 4 to 1048576", &cfg->max_fds);
	bad += get_bool(env, err, "SENDCACHE_ADMIT_ALL", &cfg->admit_all);
	bad += get_szt(env, err, "SENDCACHE_MAX_MAPPED", 0, 1ull << 40,
		       "a size up to 1T (suffix K, M or G)", &cfg->max_mapped);
	bad += get_szt(env, err, "SENDCACHE_MERGE_MAX", BYTES_1G, &cfg->merge_max);
	bad += get_uint(env, err, "SENDCACHE_CHECK_MS", MS_1_40, &cfg->check_ms);
	bad += get_uint(env, err, "SENDCACHE_REVALIDATE_MS", MS_1_40,
			&cfg->revalidate_ms);
	bad += get_bool(env, err, "SENDCACHE_INOTIFY", &cfg->inotify);
	bad += get_bool(env, err, "SENDCACHE_HOLD_HEADS", &cfg->hold_heads);
	bad += get_bool(env, err, "SENDCACHE_STATS", &cfg->stats);
	bad += get_name(env, err, "SENDCACHE_STATS_NAME", cfg->stats_name,
			sizeof(cfg->stats_name));
	bad += get_name(env, err, "SENDCACHE_STATS_GROUP", cfg->stats_group,
			sizeof(cfg->stats_group));
	bad += get_uint(env, err, "SENDCACHE_STATS_SLOTS", 4, 65536,
			"a count from 4 to 65536", &cfg->stats_slots);
	bad += get_szt(env, err, "SENDCACHE_COPY_MAX", BYTES_1G, &cfg->copy_max);
	bad += get_szt(env, err, "SENDCACHE_PIPE_MAX", BYTES_1G, &cfg->pipe_max);
	bad += get_dirs(env, err, "SENDCACHE_PREWARM", cfg->prewarm,
			sizeof(cfg->prewarm));
	return bad;
}

static const char *process_getenv(const char *name)
{
	return getenv(name);
}

/* What SENDCACHE_MAX_FDS asked for, or the default's ceiling (and then
 * at most a quarter of the user's inotify watches). */
static size_t fds_wanted = DEF_MAX_FDS;

size_t config_fd_budget(size_t wanted, uint64_t soft)
{
	if (soft / 4 < wanted)
		wanted = soft / 4;
	return wanted < 4 ? 4 : wanted;
}

/* /proc/sys/fs/inotify/max_user_watches, or 0. Through the real
 * functions: this runs in the constructor. */
static uint64_t inotify_watches(void)
{
	char buf[32];
	ssize_t n = -1;
	int fd;

	if (!real.openat || !real.read || !real.close)
		return 0;
	fd = real.openat(AT_FDCWD, "/proc/sys/fs/inotify/max_user_watches",
			 O_RDONLY | O_CLOEXEC, 0);
	if (fd >= 0) {
		n = real.read(fd, buf, sizeof(buf) - 1);
		real.close(fd);
	}
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

bool config_refresh_fds(void)
{
	struct rlimit rl;
	size_t was = config.max_fds;

	/* Persistent fds must stay well below the limit the server lives
	 * by, which it may raise after we start (nginx's
	 * worker_rlimit_nofile in each worker). */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return false;
	config.max_fds = config_fd_budget(fds_wanted,
		rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur);
	return config.max_fds != was;
}

size_t config_want_fds(size_t n)
{
	size_t was = fds_wanted;

	fds_wanted = n;
	config_refresh_fds();
	return was;
}

void config_load(void)
{
	uint64_t watches;

	config_parse(&config, process_getenv, stderr);
	fds_wanted = config.max_fds;
	if (!getenv("SENDCACHE_MAX_FDS") && (watches = inotify_watches()) &&
	    watches / 4 < fds_wanted)
		fds_wanted = watches / 4;
	config_refresh_fds();
}
