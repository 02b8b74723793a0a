/* sendcache-ctl.c - act on the cache of every process of an instance
 * through its stats segment's control block (shm.h, struct sc_shm_ctl).
 *
 * purge, pause, resume and prewarm write the block under a write lock of
 * the segment (an open file description lock, which a reader cannot
 * take): the generation made odd, then a release fence, the fields
 * written, the generation made even and larger. Each process
 * loads the generation at its next interposed call and acts before the
 * call goes on (src/ctl.c), so a request that starts after this program
 * returned is never answered from bytes cached before a purge. status
 * reads a copy, as sendcache-stat does.
 *
 * Opening the segment for writing is the permission check: its owner and
 * root may; a reader of SENDCACHE_STATS_GROUP may not (exit 4). Every
 * argument is checked before anything is written: a bad one is one line
 * and exit 2, nothing changed.
 */
#define _GNU_SOURCE
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "sendcache-ctl"
const char *seg_prog = PROG;

/* How long to wait for another sendcache-ctl's lock of the segment. */
#define LOCK_WAIT_MS 5000

enum cmd { CMD_PURGE, CMD_PAUSE, CMD_RESUME, CMD_PREWARM, CMD_STATUS };

static const char *const cmd_names[] = {
	"purge", "pause", "resume", "prewarm", "status", NULL,
};

struct ctl_opts {
	const char *name;       /* instance, or NULL: the only one */
	enum cmd cmd;
	int npaths;
	char **paths;           /* normalized, absolute */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-n NAME] COMMAND [ARG...]\n"
"\n"
"  purge [PATH...]   drop cached files: all, or those at or under each PATH;\n"
"                    a request that starts after this returns is answered\n"
"                    from the files as they are now\n"
"  pause             every process passes every call to libc\n"
"  resume            ... and caches again\n"
"  prewarm DIR...    processes cache the files under each DIR, within their\n"
"                    budgets, at their next idle point\n"
"  status            generation, paused or not, each process's acknowledgement\n"
"\n"
"  -n NAME           instance: the segment " SHM_PATH "NAME\n"
"                    (default: the only one there is)\n"
"  -h, --help        this help\n"
"\n"
"Each process acts at its next call. Only the segment's owner and root may\n"
"purge, pause, resume or prewarm; a reader may ask for status.\n"
"\n"
"exit status: 0 ok, 1 system error, 2 usage, 3 no segment, 4 permission\n"
"denied, 5 bad or other-version segment, 6 several instances and no -n\n");
}


/* Writes in's absolute spelling into out (PATH_MAX): relative to the
 * working directory, with no empty, "." or ".." component and no
 * trailing '/', as the library keys its entries. Symlinks are not
 * resolved: entries are kept under the names the server asked for.
 * False if it does not fit. */
static bool normalize(const char *in, char *out)
{
	char buf[PATH_MAX * 2];
	size_t len = 0, n;
	char *p, *save = NULL;

	if (in[0] == '/') {
		buf[0] = 0;
	} else {
		/* The working directory as the shell spells it ($PWD, when
		 * it names "."), not with its symlinks resolved. */
		char *cwd = get_current_dir_name();

		if (!cwd || strlen(cwd) >= PATH_MAX) {
			free(cwd);
			return false;
		}
		strcpy(buf, cwd);
		free(cwd);
	}
	n = strlen(buf);
	if (n + 1 + strlen(in) >= sizeof(buf))
		return false;
	buf[n] = '/';
	strcpy(buf + n + 1, in);
	out[0] = 0;
	for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			while (len > 0 && out[--len] != '/')
				;
			out[len] = 0;
			continue;
		}
		n = strlen(p);
		if (len + 1 + n >= PATH_MAX)
			return false;
		out[len++] = '/';
		memcpy(out + len, p, n + 1);
		len += n;
	}
	if (len == 0)
		strcpy(out, "/");
	return true;
}

/* Checks and normalizes the command's arguments in place. */
static int check_args(struct ctl_opts *o)
{
	char buf[PATH_MAX];
	bool everything = false;
	size_t total = 0;
	struct stat st;
	int i;

	if ((o->cmd == CMD_PAUSE || o->cmd == CMD_RESUME ||
	     o->cmd == CMD_STATUS) && o->npaths)
		return seg_usage_error("%s takes no argument, got '%s'",
				   cmd_names[o->cmd], o->paths[0]);
	if (o->cmd == CMD_PREWARM && !o->npaths)
		return seg_usage_error("prewarm needs one or more directories");
	for (i = 0; i < o->npaths; i++) {
		const char *arg = o->paths[i];

		if (strchr(arg, '\n'))
			return seg_usage_error("bad path: a newline in it");
		if (!arg[0] || !normalize(arg, buf))
			return seg_usage_error("bad path '%s'", arg);
		if (o->cmd == CMD_PREWARM) {
			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
				return seg_usage_error("prewarm: '%s' is not a "
						   "directory", arg);
			if (!strcmp(buf, "/"))
				return seg_usage_error("prewarm: '/' is not a site");
		}
		if (!(o->paths[i] = strdup(buf))) {
			fprintf(stderr, PROG ": %s\n", strerror(errno));
			return EXIT_FAIL;
		}
		total += strlen(buf) + 1;
		everything |= !strcmp(buf, "/");
	}
	if (o->cmd == CMD_PREWARM && total > SC_PREWARM_MAX)
		return seg_usage_error("prewarm: the directories take %zu bytes, "
				   "more than %d", total, SC_PREWARM_MAX);
	if (o->cmd == CMD_PURGE && total > SC_CTL_PATHS) {
		fprintf(stderr, PROG ": the paths take more than %d bytes: "
			"purging everything\n", SC_CTL_PATHS);
		everything = true;
	}
	if (o->cmd == CMD_PURGE && everything)
		o->npaths = 0;
	return EXIT_OK;
}

/* Parses argv into *o. Returns EXIT_OK, EXIT_USAGE after a message, or
 * -1 after -h (exit 0). */
static int parse_args(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, i;

	*o = (struct ctl_opts){ 0 };
	while ((c = getopt_long(argc, argv, "+n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			if (!seg_valid_name(optarg))
				return seg_usage_error("bad instance name '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return EXIT_USAGE;      /* getopt said why */
		}
	}
	if (optind >= argc)
		return seg_usage_error("no command");
	for (i = 0; cmd_names[i] && strcmp(cmd_names[i], argv[optind]); i++)
		;
	if (!cmd_names[i])
		return seg_usage_error("unknown command '%s'", argv[optind]);
	o->cmd = (enum cmd)i;
	o->paths = argv + optind + 1;
	o->npaths = argc - optind - 1;
	return check_args(o);
}

/* Takes the segment's lock, waiting for another sendcache-ctl a while: an
 * open file description lock for writing, which only a descriptor open
 * for writing can take (a reader of the segment cannot hold writers
 * off). */
static int lock_segment(const struct stat_seg *seg)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int waited;

	for (waited = 0; fcntl(seg->fd, F_OFD_SETLK, &fl) != 0; waited += 10) {
		if ((errno != EAGAIN && errno != EACCES) ||
		    waited >= LOCK_WAIT_MS) {
			fprintf(stderr, PROG ": %s: cannot lock it: %s\n",
				seg->name, errno == EAGAIN || errno == EACCES ?
				"another " PROG " holds it" : strerror(errno));
			return EXIT_FAIL;
		}
		usleep(10000);
	}
	return EXIT_OK;
}

/* Writes the prewarm list (one directory a line) beside the segment:
 * a file only this user can write, renamed into place. */
static int write_list(const struct stat_seg *seg, const struct ctl_opts *o)
{
	char tmp[sizeof(SHM_DIR) + SC_SHM_NAME_MAX + 64];
	char path[sizeof(SHM_DIR) + sizeof(SC_PREWARM_PREFIX) + SC_SHM_NAME_MAX];
	struct stat st;
	FILE *f;
	int fd, i;

	/* /dev/shm is sticky: a list of another user's cannot be replaced
	 * but by root. Said plainly rather than as EPERM. */
	snprintf(path, sizeof(path), SHM_DIR SC_PREWARM_PREFIX "%s", seg->name);
	if (lstat(path, &st) == 0 && st.st_uid != geteuid() && geteuid() != 0) {
		fprintf(stderr, PROG ": %s belongs to uid %u: only it or root "
			"may replace it (remove it as root)\n", path,
			(unsigned)st.st_uid);
		return EXIT_PERM;
	}
	snprintf(tmp, sizeof(tmp), SHM_DIR "/.sendcache-prewarm.%s.XXXXXX",
		 seg->name);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0644) != 0 ||
	    !(f = fdopen(fd, "w"))) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return EXIT_FAIL;
	}
	for (i = 0; i < o->npaths; i++)
		fprintf(f, "%s\n", o->paths[i]);
	if (fclose(f) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		return EXIT_FAIL;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Puts purge's paths into the block (check_args made sure they fit):
 * false when there are none (everything is purged). */
static bool put_paths(struct sc_shm_ctl *c, const struct ctl_opts *o)
{
	size_t at = 0, n;
	int i;

	for (i = 0; i < o->npaths; i++) {
		n = strlen(o->paths[i]) + 1;
		memcpy(c->paths + at, o->paths[i], n);
		at += n;
	}
	__atomic_store_n(&c->npaths, (uint32_t)o->npaths, __ATOMIC_RELAXED);
	return o->npaths > 0;
}

/* Writes the command into the block; returns the new generation. */
static uint64_t write_block(struct sc_shm_ctl *c, const struct ctl_opts *o)
{
	uint64_t gen = __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST) | 1;

	/* Odd: being written (or left odd by a writer that died). The fence
	 * keeps the fields' stores after it, as the readers' copy expects. */
	__atomic_store_n(&c->gen, gen, __ATOMIC_SEQ_CST);
	SC_CTL_FENCE(__ATOMIC_RELEASE, &c->gen);
	switch (o->cmd) {
	case CMD_PURGE:
		if (!put_paths(c, o))
			__atomic_store_n(&c->npaths, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&c->purges, 1, __ATOMIC_RELAXED);
		break;
	case CMD_PAUSE:
	case CMD_RESUME:
		__atomic_store_n(&c->paused, o->cmd == CMD_PAUSE, __ATOMIC_RELAXED);
		break;
	case CMD_PREWARM:
		__atomic_add_fetch(&c->prewarms, 1, __ATOMIC_RELAXED);
		break;
	default:
		break;
	}
	__atomic_store_n(&c->gen, gen + 1, __ATOMIC_SEQ_CST);
	return gen + 1;
}

static int control(struct stat_seg *seg, const struct ctl_opts *o)
{
	struct sc_shm_header *h;
	uint64_t gen;
	int rc;

	if ((rc = seg_open_mode(seg, O_RDWR)) != EXIT_OK ||
	    (rc = lock_segment(seg)) != EXIT_OK)
		return rc;
	if (o->cmd == CMD_PREWARM && (rc = write_list(seg, o)) != EXIT_OK)
		return rc;
	/* The header only: the segment is validated (seg_open) and at
	 * least that long. */
	h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED,
		 seg->fd, 0);
	if (h == MAP_FAILED) {
		fprintf(stderr, PROG ": %s: mmap: %s\n", seg->name,
			strerror(errno));
		return EXIT_FAIL;
	}
	gen = write_block(&h->ctl, o);
	munmap(h, sizeof(*h));
	printf("%s: %s%s, generation %" PRIu64 "\n", seg->name,
	       cmd_names[o->cmd], o->cmd == CMD_PURGE && !o->npaths ?
	       " of everything" : "", gen);
	return EXIT_OK;
}

/* What a process's acknowledgement says. */
static const char *ack_words(const struct sc_shm_slot *s, uint64_t gen)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%s%s%s%s",
		 s->ctl_ack == gen ? "current" : "behind: acts at its next call",
		 s->ctl_state & SC_ACK_PAUSED ? ", paused" : "",
		 s->ctl_state & SC_ACK_PREWARM_ROOT ?
			", prewarm not done: runs as root" : "",
		 s->ctl_state & SC_ACK_PREWARM_BAD ?
			", prewarm list refused (owner, mode or size)" : "");
	return buf;
}

/* The last purge's paths, as the processes will read them (a list that
 * does not hold together: everything). */
static void print_last_purge(const struct sc_shm_ctl *c)
{
	const char *p = c->paths, *end = c->paths + sizeof(c->paths);
	uint32_t i;
	size_t n;

	for (i = 0; i < c->npaths; i++, p += n + 1)
		if (p >= end || (n = strnlen(p, (size_t)(end - p))) == (size_t)(end - p) ||
		    p[0] != '/')
			break;
	printf("last purge");
	if (c->npaths == 0 || i < c->npaths) {
		printf(" everything\n");
		return;
	}
	for (i = 0, p = c->paths; i < c->npaths; i++, p += strlen(p) + 1)
		printf(" %s", p);
	putchar('\n');
}

static int status(struct stat_seg *seg)
{
	const struct sc_shm_ctl *c;
	uint32_t i;
	int rc;

	if ((rc = seg_open(seg)) != EXIT_OK)
		return rc;
	c = &seg->h->ctl;
	printf("instance   %s\n", seg->name);
	printf("generation %" PRIu64 "%s\n", c->gen,
	       c->gen & 1 ? " (being written)" : "");
	printf("paused     %s\n", c->paused ? "yes" : "no");
	printf("purges     %" PRIu64 "\n", c->purges);
	printf("prewarms   %" PRIu64 "\n", c->prewarms);
	if (c->purges)
		print_last_purge(c);
	printf("%-8s %-10s %s\n", "PID", "ACK", "STATE");
	for (i = 0; i < seg->nslots; i++) {
		const struct sc_shm_slot *s = shm_slot(seg->h, i);

		if (s->pid <= 0 || !shm_slot_alive(s))
			continue;
		printf("%-8" PRId32 " %-10" PRIu64 " %s\n", s->pid, s->ctl_ack,
		       ack_words(s, c->gen));
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct stat_seg seg = { .name = "", .fd = -1 };
	struct ctl_opts o;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (o.name)
		snprintf(seg.name, sizeof(seg.name), "%s", o.name);
	else if (seg_sweep_stale(), (rc = seg_find(&seg)) != EXIT_OK)
		return rc;
	if (o.cmd == CMD_STATUS)
		return seg_finish(status(&seg));
	return seg_finish(control(&seg, &o));
}
