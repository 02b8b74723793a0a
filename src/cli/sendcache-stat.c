/* sendcache-stat.c - print the counters of a sendcache stats segment.
 *
 * Takes a reading of /dev/shm/sendcache.NAME (segment.c: a private copy,
 * checked, summed): the totals of exited processes, every slot's COUNT
 * counters and the gauges of live slots (or one process's slot with -p). The result is printed as a table, a live
 * view with per-second rates, JSON, or Prometheus text exposition format.
 * The counter list itself (-l, -l --man) comes from stats_def.h, so the
 * man page's table is generated from the same declarations.
 *
 * Every failure is one line on stderr and its own exit status (enum
 * stat_exit), so scripts can tell "no server" from "wrong version".
 */
#define _GNU_SOURCE
#include "segment.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "sendcache-stat"
const char *seg_prog = PROG;

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
		return seg_usage_error("%s conflicts with another output option", opt);
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
			if (!seg_valid_name(optarg))
				rc = seg_usage_error("bad instance name '%s'", optarg);
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
				rc = seg_usage_error("-i needs seconds from 0.1 to 86400, "
						 "got '%s'", optarg);
			break;
		case 'c':
			if (!parse_long(optarg, 1, &o->count))
				rc = seg_usage_error("-c needs a count of 1 or more, got '%s'",
						 optarg);
			break;
		case 'p':
			if (parse_long(optarg, 1, &v) && v <= INT32_MAX)
				o->pid = (pid_t)v;
			else
				rc = seg_usage_error("-p needs a process id, got '%s'",
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
		rc = seg_usage_error("unexpected argument '%s'", argv[optind]);
	if (rc == EXIT_OK && o->man && o->mode != MODE_LIST)
		rc = seg_usage_error("--man goes with -l");
	if (rc == EXIT_OK && o->mode == MODE_AUTO)
		o->mode = isatty(STDOUT_FILENO) ? MODE_LIVE : MODE_TABLE;
	if (rc == EXIT_OK && o->count && o->mode != MODE_LIVE)
		rc = seg_usage_error("-c goes with the live view (-i)");
	return rc;
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
		if ((rc = seg_snap(seg, o->pid, cur)) != EXIT_OK)
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
		return seg_finish(EXIT_OK);
	}
	if (o.name)
		snprintf(seg.name, sizeof(seg.name), "%s", o.name);
	else if (seg_sweep_stale(), (rc = seg_find(&seg)) != EXIT_OK)
		return rc;
	if ((rc = seg_open(&seg)) != EXIT_OK)
		return rc;
	if (o.pid > 0 && !seg_has_slot(&seg, o.pid)) {
		fprintf(stderr, PROG ": %s: no slot for pid %d\n", seg.name,
			(int)o.pid);
		return EXIT_NOSLOT;
	}
	if (o.mode == MODE_LIVE)
		return seg_finish(run_live(&seg, &o));
	if ((rc = seg_snap(&seg, o.pid, &snap)) != EXIT_OK)
		return rc;
	if (o.mode == MODE_JSON)
		print_json(&seg, &o, &snap);
	else if (o.mode == MODE_PROM)
		print_prom(&seg, &o, &snap);
	else
		print_table(&seg, &o, &snap);
	return seg_finish(EXIT_OK);
}
