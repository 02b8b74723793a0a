/* mkseg.c - test helper: write a stats segment with chosen contents.
 *
 *   mkseg NAME [--nslots N] [--mode OCTAL] [--version V] [--magic-bad]
 *              [--ncounters N] [--total COUNTER:VALUE]...
 *              [--slot PID[@TICKS]=COUNTER:VALUE,...]...
 *   mkseg --ctl-offset
 *
 * Creates (or replaces) /dev/shm/sendcache.NAME laid out as src/shm.h says,
 * so that sendcache-stat can be tested without a server. A slot's start
 * time is the process's real one (shm_start_ticks) unless @TICKS is given;
 * a pid that does not exist gets start time 1, so that its slot reads as
 * a dead process. --ctl-offset prints where the control block starts
 * in a segment (for a test that writes it). Exits 0, or 2 after a
 * message.
 */
#define _GNU_SOURCE
#include "shm.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOTS 64

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "mkseg: %s '%s'\n", what, arg);
	exit(2);
}

static int counter_index(const char *name, size_t len)
{
	int i;

	for (i = 0; i < SC_NCOUNTERS; i++)
		if (strlen(stats_names[i]) == len &&
		    !strncmp(stats_names[i], name, len))
			return i;
	return -1;
}

/* Adds "COUNTER:VALUE[,COUNTER:VALUE...]" to the counters at c. */
static void set_counters(struct sc_counters *c, const char *list)
{
	uint64_t *v = (uint64_t *)c;
	const char *p = list;

	while (*p) {
		const char *colon = strchr(p, ':');
		char *end;
		int i;

		if (!colon || (i = counter_index(p, (size_t)(colon - p))) < 0)
			die("unknown counter in", list);
		v[i] = strtoull(colon + 1, &end, 10);
		if (end == colon + 1 || (*end && *end != ','))
			die("bad value in", list);
		p = *end ? end + 1 : end;
	}
}

/* Fills the next slot from "PID[@TICKS]=COUNTER:VALUE,...". */
static void set_slot(struct sc_shm_slot *s, const char *spec)
{
	char *end;
	long pid = strtol(spec, &end, 10);

	if (end == spec || pid == 0 || pid < INT32_MIN || pid > INT32_MAX)
		die("bad pid in", spec);
	s->pid = (int32_t)pid;
	if (*end == '@') {
		s->start_ticks = strtoull(end + 1, &end, 10);
	} else {
		s->start_ticks = pid > 0 ? shm_start_ticks((pid_t)pid) : 0;
		if (pid > 0 && !s->start_ticks)
			s->start_ticks = 1;     /* no such process: dead */
	}
	if (*end == '=')
		set_counters(&s->c, end + 1);
	else if (*end)
		die("bad slot", spec);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nslots",    required_argument, NULL, 'N' },
		{ "mode",      required_argument, NULL, 'm' },
		{ "version",   required_argument, NULL, 'v' },
		{ "magic-bad", no_argument,       NULL, 'M' },
		{ "ncounters", required_argument, NULL, 'C' },
		{ "total",     required_argument, NULL, 't' },
		{ "slot",      required_argument, NULL, 's' },
		{ "ctl-offset", no_argument,      NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_shm_header h = {
		.magic = SC_SHM_MAGIC, .version = SC_SHM_VERSION,
		.header_size = sizeof(h), .slot_size = sizeof(struct sc_shm_slot),
		.nslots = 4, .ncounters = SC_NCOUNTERS,
		.creator_pid = (int32_t)getpid(), .created = (int64_t)time(NULL),
	};
	static struct sc_shm_slot slots[MAX_SLOTS];
	char name[sizeof(SC_SHM_PREFIX) + SC_SHM_NAME_MAX];
	unsigned nused = 0, i;
	mode_t mode = 0644;
	size_t size;
	char *p;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': h.nslots = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': mode = (mode_t)strtoul(optarg, NULL, 8); break;
		case 'v': h.version = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'M': h.magic ^= 0xff; break;
		case 'C': h.ncounters = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': set_counters(&h.totals, optarg); break;
		case 's':
			if (nused == MAX_SLOTS)
				die("too many slots at", optarg);
			set_slot(&slots[nused++], optarg);
			break;
		case 'O':
			printf("%zu\n", offsetof(struct sc_shm_header, ctl));
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || strchr(argv[optind], '/'))
		die("usage: mkseg NAME [options], got", optind < argc ? argv[optind] : "");
	if (nused > h.nslots)
		die("more --slot than --nslots for", argv[optind]);
	snprintf(name, sizeof(name), SC_SHM_PREFIX "%s", argv[optind]);
	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, mode);
	size = shm_size(h.nslots);
	if (fd < 0 || fchmod(fd, mode) < 0 || ftruncate(fd, (off_t)size) < 0)
		die("cannot create", name);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("cannot map", name);
	memcpy(p, &h, sizeof(h));
	for (i = 0; i < nused; i++)
		memcpy(p + sizeof(h) + i * sizeof(slots[0]), &slots[i],
		       sizeof(slots[0]));
	munmap(p, size);
	close(fd);
	return 0;
}
