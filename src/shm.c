/* shm.c - reading the stats segment (library and sendcache-stat). */
#define _GNU_SOURCE
#include "shm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const int stats_kinds[] = {
#define SC_COUNTER(name, kind, desc) SC_##kind,
#include "stats_def.h"
#undef SC_COUNTER
};

const char *const stats_descs[] = {
#define SC_COUNTER(name, kind, desc) desc,
#include "stats_def.h"
#undef SC_COUNTER
};

enum shm_check shm_validate(const struct sc_shm_header *h, size_t len)
{
	if (len < sizeof(h->magic) + sizeof(h->version))
		return SHM_SHORT;
	if (h->magic != SC_SHM_MAGIC)
		return SHM_BAD_MAGIC;
	if (h->version != SC_SHM_VERSION)
		return SHM_BAD_VERSION;
	if (len < sizeof(*h))
		return SHM_SHORT;
	if (h->header_size != sizeof(*h) ||
	    h->slot_size != sizeof(struct sc_shm_slot) ||
	    h->ncounters != SC_NCOUNTERS || h->nslots == 0)
		return SHM_BAD_LAYOUT;
	if (len < shm_size(h->nslots))
		return SHM_SHORT;
	return SHM_OK;
}

uint64_t shm_start_ticks(pid_t pid)
{
	char path[32], buf[512], *p;
	unsigned long long t = 0;
	FILE *f;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');          /* comm may hold spaces */
	if (!p)
		return 0;
	/* After ") ": field 3 (state) ... field 22 (starttime). */
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Ticks a child stamped from its clock may run ahead of /proc's value:
 * the tick it was forked in, plus one crossed before it read the clock. */
#define FORK_TICKS_SLACK 2

uint64_t shm_fork_ticks(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return shm_start_ticks(getpid());
	return (uint64_t)ts.tv_sec * (uint64_t)hz +
	       (uint64_t)ts.tv_nsec / (1000000000ull / (uint64_t)hz);
}

bool shm_slot_alive(const struct sc_shm_slot *s)
{
	int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);

	if (pid == 0)
		return false;
	if (pid < 0)
		return pid_alive(-pid);
	/* 0: no such process (or a slot not yet stamped, which only its
	 * owner fills in, under the segment lock or before publishing). */
	uint64_t t = s->start_ticks ? shm_start_ticks(pid) : 0;

	return t != 0 && t <= s->start_ticks &&
	       s->start_ticks - t <= FORK_TICKS_SLACK;
}

static void add(struct sc_counters *out, const struct sc_counters *in,
		bool gauges)
{
	const uint64_t *src = (const uint64_t *)in;
	uint64_t *dst = (uint64_t *)out;
	int i;

	for (i = 0; i < SC_NCOUNTERS; i++)
		if (stats_kinds[i] == SC_COUNT || gauges)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int shm_sum(const struct sc_shm_header *h, pid_t pid, struct sc_counters *out)
{
	uint32_t seq, i;
	int live;

	do {
		while ((seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE)) & 1)
			;
		memset(out, 0, sizeof(*out));
		live = 0;
		if (pid <= 0)
			add(out, &h->totals, false);
		for (i = 0; i < h->nslots; i++) {
			const struct sc_shm_slot *s = shm_slot(h, i);
			int32_t spid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
			bool alive;

			/* A slot reserved for a child being forked: live (the
			 * segment is in use) but nothing to sum yet. */
			if (spid < 0 && pid <= 0)
				live += shm_slot_alive(s);
			if (spid <= 0 || (pid > 0 && spid != pid))
				continue;
			alive = shm_slot_alive(s);
			live += alive;
			add(out, &s->c, alive);
		}
	} while (__atomic_load_n(&h->seq, __ATOMIC_ACQUIRE) != seq);
	return live;
}
