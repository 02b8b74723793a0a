/* sendcache-stat.c - print the counters of a sendcache stats segment.
 *
 * Reads /dev/shm/sendcache.NAME into private memory (pread: a segment
 * truncated meanwhile cannot raise SIGBUS here), checks its layout with
 * shm_validate() and sums the copy with shm_sum(): the totals of exited
 * processes, every slot's COUNT counters and the gauges of live slots (or
 * one process's slot with -p). The result is printed as a table, a live
 * view with per-second rates, JSON, or Prometheus text exposition format.
 * The counter list itself (-l, -l --man) comes from stats_def.h, so the
 * man page's table is generated from the same declarations.
 *
 * Every failure is one line on stderr and its own exit status (enum
 * stat_exit), so scripts can tell "no server" from "wrong version".
 */
#define _GNU_SOURCE
#include "shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "sendcache-stat"
#define SHM_DIR "/dev/shm"
/* shm_open(3) names are files of /dev/shm: "/sendcache.NAME" there. */
#define SHM_PATH SHM_DIR SC_SHM_PREFIX          /* + instance name */

/* Opens "/sendcache.NAME" of /dev/shm for reading as shm_open(3) would,
 * but never blocks: anyone may make a FIFO of that name, and opening a
 * FIFO for reading waits for a writer. */
static int open_seg(const char *shm_name)
{
	char path[sizeof(SHM_DIR) + sizeof(SC_SHM_PREFIX) + 256];

	snprintf(path, sizeof(path), SHM_DIR "%s", shm_name);
	return open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

/* More segments than this in /dev/shm are not listed one by one in the
 * "several instances" error; a line of names is all the user needs. */
#define MAX_LISTED 16

enum stat_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,          /* an unexpected system error (mmap, write) */
	EXIT_USAGE = 2,
	EXIT_NOSEG = 3,         /* no such segment (ENOENT) */
	EXIT_PERM = 4,          /* permission denied (EACCES) */
	EXIT_LAYOUT = 5,        /* bad magic, other version, bad layout */
	EXIT_SEVERAL = 6,       /* several instances and no -n */
	EXIT_NOSLOT = 7,        /* -p PID has no slot */
};

enum stat_mode { MODE_AUTO, MODE_TABLE, MODE_LIVE, MODE_JSON, MODE_PROM,
		 MODE_LIST };

struct stat_opts {
	const char *name;       /* instance, or NULL: find the only one */
	enum stat_mode mode;
	double interval;        /* live view: seconds between refreshes */
	long count;             /* live view: refreshes, 0 = until killed */
	pid_t pid;              /* > 0: that process's slot only */
	bool man;               /* -l --man: troff */
};

/* An open segment, the identity of the instance, and the last copy read
 * of it (private memory: the segment is untrusted, DESIGN.md 11). */
struct stat_seg {
	char name[SC_SHM_NAME_MAX + 1];
	int fd;
	struct sc_shm_header *h;        /* the copy */
	size_t len;
	uint32_t nslots;                /* validated at the first read */
};

/* Copies taken before the totals are seen holding still. */
#define READ_TRIES 200

/* One reading of the segment. */
struct stat_snap {
	int live;
	struct sc_counters c;
	struct timespec at;     /* CLOCK_MONOTONIC, for rates */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-n NAME] [-1 | -i SEC [-c N] | -j | --prometheus] [-p PID]\n"
"       " PROG " -l [--man]\n"
"\n"
"  -n NAME        instance: the segment " SHM_PATH "NAME\n"
"                 (default: the only one there is)\n"
"  -1             print the counters once as a table (default when stdout\n"
"                 is not a terminal)\n"
"  -i SEC         live view with per-second rates, every SEC seconds\n"
"                 (default, every second, when stdout is a terminal)\n"
"  -c N           stop the live view after N refreshes\n"
"  -p PID         only the slot of process PID\n"
"  -j             JSON\n"
"  --prometheus   Prometheus text format (node_exporter textfile collector)\n"
"  -l             list the counters: name, kind, description\n"
"  --man          with -l: the list as troff for the man page\n"
"  -h, --help     this help\n"
"\n"
"exit status: 0 ok, 1 system error, 2 usage, 3 no segment, 4 permission\n"
"denied, 5 bad or other-version segment, 6 several instances and no -n,\n"
"7 no slot for -p PID\n");
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Prints one usage error line and returns EXIT_USAGE. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see " PROG " -h)\n");
	return EXIT_USAGE;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= SC_SHM_NAME_MAX && !strchr(name, '/');
}

static bool parse_long(const char *s, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return false;
	*out = v;
	return true;
}

static int set_mode(struct stat_opts *o, enum stat_mode m, const char *opt)
{
	if (o->mode != MODE_AUTO && o->mode != m)
		return usage_error("%s conflicts with another output option", opt);
	o->mode = m;
	return EXIT_OK;
}

/* Parses argv into *o. Returns EXIT_OK, or EXIT_USAGE after a message;
 * -h prints the help and returns -1 (exit 0). */
static int parse_args(int argc, char **argv, struct stat_opts *o)
{
	static const struct option longopts[] = {
		{ "prometheus", no_argument, NULL, 'P' },
		{ "man",        no_argument, NULL, 'M' },
		{ "help",       no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c, rc = EXIT_OK;

	*o = (struct stat_opts){ .interval = 1.0 };
	while (rc == EXIT_OK &&
	       (c = getopt_long(argc, argv, "n:1i:c:p:jlh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			if (!valid_name(optarg))
				rc = usage_error("bad instance name '%s'", optarg);
			break;
		case '1': rc = set_mode(o, MODE_TABLE, "-1"); break;
		case 'j': rc = set_mode(o, MODE_JSON, "-j"); break;
		case 'P': rc = set_mode(o, MODE_PROM, "--prometheus"); break;
		case 'l': rc = set_mode(o, MODE_LIST, "-l"); break;
		case 'M': o->man = true; break;
		case 'i':
			rc = set_mode(o, MODE_LIVE, "-i");
			o->interval = strtod(optarg, &end);
			if (end == optarg || *end || !(o->interval >= 0.1 &&
						       o->interval <= 86400))
				rc = usage_error("-i needs seconds from 0.1 to 86400, "
						 "got '%s'", optarg);
			break;
		case 'c':
			if (!parse_long(optarg, 1, &o->count))
				rc = usage_error("-c needs a count of 1 or more, got '%s'",
						 optarg);
			break;
		case 'p':
			if (parse_long(optarg, 1, &v) && v <= INT32_MAX)
				o->pid = (pid_t)v;
			else
				rc = usage_error("-p needs a process id, got '%s'",
						 optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return EXIT_USAGE;      /* getopt said why */
		}
	}
	if (rc == EXIT_OK && optind < argc)
		rc = usage_error("unexpected argument '%s'", argv[optind]);
	if (rc == EXIT_OK && o->man && o->mode != MODE_LIST)
		rc = usage_error("--man goes with -l");
	if (rc == EXIT_OK && o->mode == MODE_AUTO)
		o->mode = isatty(STDOUT_FILENO) ? MODE_LIVE : MODE_TABLE;
	if (rc == EXIT_OK && o->count && o->mode != MODE_LIVE)
		rc = usage_error("-c goes with the live view (-i)");
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* pread of len bytes at 0 into buf: true if all came. */
static bool read_all(int fd, void *buf, size_t len)
{
	size_t at = 0;
	ssize_t n;

	while (at < len) {
		n = pread(fd, (char *)buf + at, len - at, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		at += (size_t)n;
	}
	return true;
}

/* A segment no process has counted in for this long is left over (a
 * server killed outright); younger ones may still be being set up. */
#define STALE_AGE_S 2

/* True if the segment at fd is left over: old enough, unreadable as a
 * segment or read with no live process in it, and mapped by no process
 * (a live server's segment may be damaged, its slots scribbled over). */
static bool seg_stale(int fd)
{
	struct sc_shm_header *h;
	struct stat st;
	bool stale = true;
	uint32_t n;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (geteuid() != 0 && st.st_uid != geteuid()) ||
	    time(NULL) - st.st_ctime < STALE_AGE_S)
		return false;
	if ((size_t)st.st_size < sizeof(*h) ||
	    (size_t)st.st_size > shm_size(SC_MAX_SLOTS))
		return !shm_mapped(st.st_dev, st.st_ino);
	h = malloc((size_t)st.st_size);
	if (!h)
		return false;
	if (read_all(fd, h, (size_t)st.st_size) &&
	    shm_validate(h, (size_t)st.st_size, &n) == SHM_OK)
		stale = shm_live(h, n, 0, 1) == 0;
	free(h);
	return stale && !shm_mapped(st.st_dev, st.st_ino);
}

/* Removes the segments of this user (any, for root) that no process
 * counts in any more, so that the instance looked for is the one left. */
static void sweep_stale(void)
{
	const char *prefix = SC_SHM_PREFIX + 1;        /* "sendcache." */
	char name[sizeof(SC_SHM_PREFIX) + 256];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd;

	if (!(dir = opendir(SHM_DIR)))
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(name, sizeof(name), "/%s", d->d_name);
		if ((fd = open_seg(name)) < 0)
			continue;
		if (seg_stale(fd) && fstat(fd, &st) == 0)
			shm_unlink_same(name, st.st_dev, st.st_ino);
		close(fd);
	}
	closedir(dir);
}

/* Finds the only sendcache.* object in /dev/shm and copies its instance
 * name into seg->name. Returns EXIT_OK, EXIT_NOSEG or EXIT_SEVERAL after
 * a message. */
static int find_instance(struct stat_seg *seg)
{
	const char *prefix = SC_SHM_PREFIX + 1;        /* "sendcache." */
	const size_t plen = strlen(prefix);
	char *names[MAX_LISTED];
	struct dirent *d;
	size_t n = 0, i;
	DIR *dir;

	dir = opendir(SHM_DIR);
	if (!dir) {
		fprintf(stderr, PROG ": %s: %s\n", SHM_DIR, strerror(errno));
		return errno == EACCES ? EXIT_PERM : EXIT_NOSEG;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, plen) ||
		    !valid_name(d->d_name + plen))
			continue;
		if (n < MAX_LISTED)
			names[n] = strdup(d->d_name + plen);
		n++;
	}
	closedir(dir);
	if (n == 0) {
		fprintf(stderr, PROG ": no stats segment " SHM_PATH "*: is a "
			"server running with sendcache loaded?\n");
		return EXIT_NOSEG;
	}
	if (n == 1 && names[0]) {
		snprintf(seg->name, sizeof(seg->name), "%s", names[0]);
		free(names[0]);
		return EXIT_OK;
	}
	qsort(names, n < MAX_LISTED ? n : MAX_LISTED, sizeof(*names), cmp_str);
	fprintf(stderr, PROG ": %zu instances:", n);
	for (i = 0; i < n && i < MAX_LISTED; i++) {
		fprintf(stderr, " %s", names[i] ? names[i] : "?");
		free(names[i]);
	}
	fprintf(stderr, "%s; pick one with -n\n", n > MAX_LISTED ? " ..." : "");
	return EXIT_SEVERAL;
}

static int layout_error(const struct stat_seg *seg, enum shm_check why)
{
	const struct sc_shm_header *h = seg->h;
	const char *path = SHM_PATH;

	switch (why) {
	case SHM_BAD_MAGIC:
		fprintf(stderr, PROG ": %s%s: not a sendcache stats segment "
			"(bad magic)\n", path, seg->name);
		break;
	case SHM_BAD_VERSION:
		fprintf(stderr, PROG ": %s%s: layout version %" PRIu32 ", this "
			PROG " reads version %d: use the " PROG " of the same "
			"release as the library\n", path, seg->name, h->version,
			SC_SHM_VERSION);
		break;
	case SHM_BAD_LAYOUT:
		fprintf(stderr, PROG ": %s%s: bad layout (header %" PRIu32
			", slot %" PRIu32 " bytes, %" PRIu32 " counters, %" PRIu32
			" slots; expected %zu, %zu, %d, 1 or more)\n", path,
			seg->name, h->header_size, h->slot_size, h->ncounters,
			h->nslots, sizeof(*h), sizeof(struct sc_shm_slot),
			SC_NCOUNTERS);
		break;
	default:
		fprintf(stderr, PROG ": %s%s: truncated segment (%zu bytes)\n",
			path, seg->name, seg->len);
		break;
	}
	return EXIT_LAYOUT;
}

/* Takes a copy of the segment in which no fold was under way: the fold
 * counters read equal before the copy, in it, and after it. Validates
 * the copy; a layout other than the first read's is damage. Returns
 * EXIT_OK or an exit status after a message. */
static int seg_read(struct stat_seg *seg)
{
	struct sc_shm_header before, after;
	enum shm_check why;
	uint32_t n;
	int tries;

	for (tries = 0; tries < READ_TRIES; tries++) {
		if (!read_all(seg->fd, &before, sizeof(before)) ||
		    !read_all(seg->fd, seg->h, seg->len) ||
		    !read_all(seg->fd, &after, sizeof(after))) {
			fprintf(stderr, PROG ": " SHM_PATH "%s: cannot read it "
				"whole (%zu bytes): changed in size?\n",
				seg->name, seg->len);
			return EXIT_LAYOUT;
		}
		why = shm_validate(seg->h, seg->len, &n);
		if (why != SHM_OK)
			return layout_error(seg, why);
		if (seg->nslots && n != seg->nslots) {
			fprintf(stderr, PROG ": " SHM_PATH "%s: damaged: its slot "
				"count changed from %" PRIu32 " to %" PRIu32 "\n",
				seg->name, seg->nslots, n);
			return EXIT_LAYOUT;
		}
		seg->nslots = n;
		if (before.folds_begun == before.folds_done &&
		    seg->h->folds_begun == before.folds_begun &&
		    seg->h->folds_done == before.folds_done &&
		    after.folds_begun == before.folds_begun)
			return EXIT_OK;
		if (tries % 10 == 9)
			usleep(1000);
	}
	fprintf(stderr, PROG ": " SHM_PATH "%s: damaged: a fold of counts "
		"never ended (%d reads)\n", seg->name, READ_TRIES);
	return EXIT_LAYOUT;
}

/* Opens the segment of seg->name read-only and reads a first copy.
 * Returns EXIT_OK with seg set, or an exit status after a message. */
static int seg_open(struct stat_seg *seg)
{
	char shm_name[sizeof(SC_SHM_PREFIX) + SC_SHM_NAME_MAX];
	static struct sc_shm_header empty;
	struct stat st;
	int rc;

	snprintf(shm_name, sizeof(shm_name), SC_SHM_PREFIX "%s", seg->name);
	seg->fd = open_seg(shm_name);
	if (seg->fd < 0) {
		int err = errno;

		fprintf(stderr, PROG ": " SHM_DIR "%s: %s\n", shm_name,
			strerror(err));
		return err == ENOENT ? EXIT_NOSEG :
		       err == EACCES ? EXIT_PERM : EXIT_FAIL;
	}
	if (fstat(seg->fd, &st) < 0) {
		fprintf(stderr, PROG ": " SHM_DIR "%s: %s\n", shm_name,
			strerror(errno));
		return EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, PROG ": " SHM_DIR "%s: not a regular file: not a "
			"sendcache segment\n", shm_name);
		return EXIT_LAYOUT;
	}
	seg->len = (size_t)st.st_size;
	seg->h = &empty;
	if (seg->len < sizeof(struct sc_shm_header)) {
		uint32_t n;

		/* shm_validate() reads no further than len. */
		return layout_error(seg, shm_validate(&empty, seg->len, &n));
	}
	if (seg->len > shm_size(SC_MAX_SLOTS)) {
		fprintf(stderr, PROG ": " SHM_DIR "%s: %zu bytes, more than a "
			"segment of %d slots: not a sendcache segment\n",
			shm_name, seg->len, SC_MAX_SLOTS);
		return EXIT_LAYOUT;
	}
	seg->h = malloc(seg->len);
	if (!seg->h) {
		seg->h = &empty;
		fprintf(stderr, PROG ": %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	rc = seg_read(seg);
	return rc;
}

static bool has_slot(const struct stat_seg *seg, pid_t pid)
{
	uint32_t i;

	for (i = 0; i < seg->nslots; i++)
		if (shm_slot(seg->h, i)->pid == pid)
			return true;
	return false;
}

/* A fresh reading into s. Returns EXIT_OK or an exit status after a
 * message (the segment is damaged). */
static int snap_take(struct stat_seg *seg, pid_t pid, struct stat_snap *s)
{
	int rc = seg_read(seg);

	if (rc != EXIT_OK)
		return rc;
	s->live = shm_sum(seg->h, seg->nslots, pid, &s->c);
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	if (s->live < 0) {
		fprintf(stderr, PROG ": " SHM_PATH "%s: damaged: its totals "
			"do not hold still\n", seg->name);
		return EXIT_LAYOUT;
	}
	return EXIT_OK;
}

static uint64_t counter(const struct sc_counters *c, int i)
{
	return ((const uint64_t *)c)[i];
}

static int name_width(void)
{
	int i, w = 4;

	for (i = 0; i < SC_NCOUNTERS; i++)
		if ((int)strlen(stats_names[i]) > w)
			w = (int)strlen(stats_names[i]);
	return w;
}

static void print_created(const struct sc_shm_header *h)
{
	time_t t = (time_t)h->created;
	struct tm tm;
	char buf[64];

	if (localtime_r(&t, &tm) &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		printf("%s", buf);
	else
		printf("%" PRId64, h->created);
}

static void print_header(const struct stat_seg *seg, const struct stat_opts *o,
			 const struct stat_snap *s)
{
	printf("instance:  %s (" SHM_PATH "%s)\n", seg->name,
	       seg->name);
	printf("creator:   pid %" PRId32 ", created ", seg->h->creator_pid);
	print_created(seg->h);
	printf("\nprocesses: %d live\n", s->live);
	if (o->pid > 0)
		printf("pid:       %d (this slot only)\n", (int)o->pid);
}

static void print_table(const struct stat_seg *seg, const struct stat_opts *o,
			const struct stat_snap *s)
{
	int i, w = name_width();

	print_header(seg, o, s);
	printf("\n%-*s %15s  %s\n", w, "name", "value", "description");
	for (i = 0; i < SC_NCOUNTERS; i++)
		printf("%-*s %15" PRIu64 "  %s\n", w, stats_names[i],
		       counter(&s->c, i), stats_descs[i]);
}

/* The JSON string for s, quotes included. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_json(const struct stat_seg *seg, const struct stat_opts *o,
		       const struct stat_snap *s)
{
	int i;

	printf("{\"instance\": ");
	json_string(seg->name);
	printf(", \"creator_pid\": %" PRId32 ", \"created\": %" PRId64
	       ", \"processes\": %d", seg->h->creator_pid, seg->h->created,
	       s->live);
	if (o->pid > 0)
		printf(", \"pid\": %d", (int)o->pid);
	printf(", \"counters\": {");
	for (i = 0; i < SC_NCOUNTERS; i++)
		printf("%s\"%s\": %" PRIu64, i ? ", " : "", stats_names[i],
		       counter(&s->c, i));
	printf("}}\n");
}

/* s with the escapes of the exposition format: backslash and newline
 * everywhere, and the double quote too inside a label value. */
static void prom_escaped(const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			printf("\\\\");
		else if (*s == '\n')
			printf("\\n");
		else if (*s == '"' && label)
			printf("\\\"");
		else
			putchar(*s);
	}
}

static void print_prom(const struct stat_seg *seg, const struct stat_opts *o,
		       const struct stat_snap *s)
{
	int i;

	for (i = 0; i < SC_NCOUNTERS; i++) {
		bool count = stats_kinds[i] == SC_COUNT;
		const char *suffix = count ? "_total" : "";

		printf("# HELP sendcache_%s%s ", stats_names[i], suffix);
		prom_escaped(stats_descs[i], false);
		printf("\n# TYPE sendcache_%s%s %s\n", stats_names[i], suffix,
		       count ? "counter" : "gauge");
		printf("sendcache_%s%s{instance=\"", stats_names[i], suffix);
		prom_escaped(seg->name, true);
		if (o->pid > 0)
			printf("\",pid=\"%d", (int)o->pid);
		printf("\"} %" PRIu64 "\n", counter(&s->c, i));
	}
}

static double seconds_between(const struct timespec *a,
			      const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* One refresh of the live view; rates against prev, or "-" without one. */
static void print_live(const struct stat_seg *seg, const struct stat_opts *o,
		       const struct stat_snap *prev, const struct stat_snap *s)
{
	double dt = prev ? seconds_between(&prev->at, &s->at) : 0;
	int i, w = name_width();

	print_header(seg, o, s);
	printf("\n%-*s %15s %12s\n", w, "name", "value", "/s");
	for (i = 0; i < SC_NCOUNTERS; i++) {
		uint64_t v = counter(&s->c, i), p;

		printf("%-*s %15" PRIu64, w, stats_names[i], v);
		if (stats_kinds[i] == SC_GAUGE) {
			putchar('\n');         /* a level has no rate */
			continue;
		}
		if (!prev || dt <= 0) {
			printf(" %12s\n", "-");
			continue;
		}
		/* A total that went backwards (it should not) reads as 0/s
		 * rather than as a huge unsigned difference. */
		p = counter(&prev->c, i);
		printf(" %12.1f\n", v >= p ? (double)(v - p) / dt : 0.0);
	}
}

static void sleep_until(struct timespec *next, double interval)
{
	long ns = (long)((interval - (long)interval) * 1e9);

	next->tv_sec += (time_t)interval;
	next->tv_nsec += ns;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000L;
	}
	/* Absolute deadlines: the refreshes do not drift by the time spent
	 * reading and printing. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) ==
	       EINTR)
		;
}

/* Runs the live view until o->count refreshes were printed (or forever).
 * Returns EXIT_OK, EXIT_FAIL when stdout went away, or EXIT_LAYOUT when
 * the segment turned out damaged. */
static int run_live(struct stat_seg *seg, const struct stat_opts *o)
{
	bool tty = isatty(STDOUT_FILENO);
	struct stat_snap snaps[2];
	struct timespec next;
	long n;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (n = 0; !o->count || n < o->count; n++) {
		struct stat_snap *cur = &snaps[n & 1], *prev = &snaps[!(n & 1)];

		if (n)
			sleep_until(&next, o->interval);
		if ((rc = snap_take(seg, o->pid, cur)) != EXIT_OK)
			return rc;
		if (tty)
			printf("\033[H\033[2J");        /* home, clear screen */
		else if (n)
			putchar('\n');
		print_live(seg, o, n ? prev : NULL, cur);
		if (fflush(stdout) == EOF)
			return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* s with the escapes troff needs in running text. */
static void troff_escaped(const char *s)
{
	if (*s == '.' || *s == '\'')
		printf("\\&");          /* would start a request */
	for (; *s; s++) {
		if (*s == '\\')
			printf("\\e");
		else if (*s == '-')
			printf("\\-");
		else
			putchar(*s);
	}
}

static void print_list(bool man)
{
	int i, w = name_width();

	for (i = 0; i < SC_NCOUNTERS; i++) {
		const char *kind = stats_kinds[i] == SC_COUNT ? "count" : "gauge";

		if (!man) {
			printf("%-*s %-5s  %s\n", w, stats_names[i], kind,
			       stats_descs[i]);
			continue;
		}
		printf(".TP\n.BR ");
		troff_escaped(stats_names[i]);
		printf(" \" (%s)\"\n", kind);
		troff_escaped(stats_descs[i]);
		putchar('\n');
	}
}

static int finish(int rc)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": writing the output: %s\n",
			strerror(errno));
		return rc ? rc : EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct stat_seg seg = { .name = "" };
	struct stat_snap snap;
	struct stat_opts o;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (o.mode == MODE_LIST) {
		print_list(o.man);
		return finish(EXIT_OK);
	}
	if (o.name)
		snprintf(seg.name, sizeof(seg.name), "%s", o.name);
	else if (sweep_stale(), (rc = find_instance(&seg)) != EXIT_OK)
		return rc;
	if ((rc = seg_open(&seg)) != EXIT_OK)
		return rc;
	if (o.pid > 0 && !has_slot(&seg, o.pid)) {
		fprintf(stderr, PROG ": %s: no slot for pid %d\n", seg.name,
			(int)o.pid);
		return EXIT_NOSLOT;
	}
	if (o.mode == MODE_LIVE)
		return finish(run_live(&seg, &o));
	if ((rc = snap_take(&seg, o.pid, &snap)) != EXIT_OK)
		return rc;
	if (o.mode == MODE_JSON)
		print_json(&seg, &o, &snap);
	else if (o.mode == MODE_PROM)
		print_prom(&seg, &o, &snap);
	else
		print_table(&seg, &o, &snap);
	return finish(EXIT_OK);
}
