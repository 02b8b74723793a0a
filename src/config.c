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

const struct sc_config_var config_vars[] = {
#define SC_VAR(N, f, K, val, lo_, hi_, shown_, opt, brief_, meaning_)	\
	{ .name = "SENDCACHE_" #N, .kind = CK_##K,			\
	  .offset = offsetof(struct sc_config, f),			\
	  .size = sizeof(((struct sc_config *)0)->f), .shown = shown_,	\
	  .option = opt, .brief = brief_, .meaning = meaning_,		\
	  .lo = lo_, .hi = hi_ },
#include "config_def.h"
#undef SC_VAR
	{ .name = NULL },
};

#define SC_VAR(N, f, K, val, ...) .f = val,
const struct sc_config config_defaults = {
#include "config_def.h"
};
struct sc_config config = {
#include "config_def.h"
};
#undef SC_VAR

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

/* "1G" for 1 << 30: a power-of-1024 multiple with its suffix. */
static void format_size(char *buf, size_t size, uint64_t v)
{
	static const char suffix[] = "KMGT";
	int i = -1;

	while (i < 3 && v && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, "%" PRIu64 "%.*s", v, i >= 0, i >= 0 ? &suffix[i] : "");
}

void config_want(const struct sc_config_var *v, char *buf, size_t size)
{
	char hi[32];

	switch (v->kind) {
	case CK_BOOL:
		snprintf(buf, size, "0 or 1");
		break;
	case CK_COUNT:
		snprintf(buf, size, "a count from %" PRIu64 " to %" PRIu64,
			 v->lo, v->hi);
		break;
	case CK_SIZE:
		format_size(hi, sizeof(hi), v->hi);
		snprintf(buf, size, "a size up to %s (suffix K, M or G)", hi);
		break;
	case CK_MS:
		snprintf(buf, size, "a number of milliseconds from %" PRIu64
			 " to %" PRIu64, v->lo, v->hi);
		break;
	case CK_NAME:
		snprintf(buf, size, "a name of letters, digits, '.', '_', '-' "
			 "(at most %zu)", v->size - 1);
		break;
	case CK_DIRS:
		snprintf(buf, size, "a list of absolute directories separated "
			 "by ':' (at most %zu bytes)", v->size - 1);
		break;
	case CK_PATH:
		snprintf(buf, size, "an absolute path (at most %zu bytes)",
			 v->size - 1);
		break;
	}
}

static int reject(FILE *err, const struct sc_config_var *v, const char *val)
{
	char quoted[4 * QUOTE_MAX + 4], want[128];

	if (err) {
		quote_value(quoted, val);
		config_want(v, want, sizeof(want));
		fprintf(err, "sendcache: %s='%s' is not %s; using the default\n",
			v->name, quoted, want);
	}
	return 1;
}

/* A name usable in a file name: [A-Za-z0-9._-], not starting with a dot. */
static bool valid_name(const char *s)
{
	size_t i;

	if (!*s || *s == '.')
		return false;
	for (i = 0; s[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", s[i]))
			return false;
	return true;
}

/* A list of absolute directories separated by ':', each at most
 * PATH_MAX - 1 long. */
static bool valid_dirs(const char *s)
{
	const char *p = s, *end;

	if (!*s)
		return false;
	for (; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (*p != '/' || end - p >= PATH_MAX)
			return false;
	}
	return s[strlen(s) - 1] != ':';
}

/* An absolute path without control characters. */
static bool valid_path(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Parses s into the member v describes; false, the member untouched, if
 * s is not a value of v's kind within its bounds. */
static bool parse_var(const struct sc_config_var *v, const char *s,
		      void *field)
{
	uint64_t n;
	bool b;

	switch (v->kind) {
	case CK_BOOL:
		if (!parse_bool(s, &b))
			return false;
		*(bool *)field = b;
		return true;
	case CK_COUNT:
	case CK_SIZE:
	case CK_MS:
		if (!parse_size(s, v->lo, v->hi, &n))
			return false;
		if (v->kind == CK_MS)
			*(unsigned *)field = (unsigned)n;
		else
			*(size_t *)field = (size_t)n;
		return true;
	case CK_NAME:
	case CK_DIRS:
	case CK_PATH:
		if (strlen(s) >= v->size ||
		    !(v->kind == CK_NAME ? valid_name(s) :
		      v->kind == CK_DIRS ? valid_dirs(s) : valid_path(s)))
			return false;
		strcpy(field, s);
		return true;
	}
	return false;
}

int config_parse(struct sc_config *cfg, const char *(*env)(const char *),
		 FILE *err)
{
	const struct sc_config_var *v;
	const char *s;
	int bad = 0;

	for (v = config_vars; v->name; v++)
		if ((s = env(v->name)) && !parse_var(v, s, (char *)cfg + v->offset))
			bad += reject(err, v, s);
	return bad;
}

static const char *process_getenv(const char *name)
{
	return getenv(name);
}

/* What SENDCACHE_MAX_FDS asked for, or the default's ceiling (and then
 * at most a quarter of the user's inotify watches, which may be 0). */
static size_t fds_wanted = SIZE_MAX;    /* SIZE_MAX: not yet, the default */

size_t config_fd_budget(size_t wanted, uint64_t soft)
{
	if (soft / 4 < wanted)
		wanted = soft / 4;
	return wanted < 4 ? 4 : wanted;
}

/* /proc/sys/fs/inotify/max_user_watches, or 0. Through libc's own
 * functions (stand-ins that fail before they are resolved): this runs in
 * the constructor. */
static uint64_t inotify_watches(void)
{
	char buf[32];
	ssize_t n = -1;
	int fd;

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
	if (fds_wanted == SIZE_MAX)
		fds_wanted = config_defaults.max_fds;
	config.max_fds = config_fd_budget(fds_wanted,
		rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur);
	return config.max_fds != was;
}

size_t config_want_fds(size_t n)
{
	size_t was = fds_wanted == SIZE_MAX ? config_defaults.max_fds : fds_wanted;

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
