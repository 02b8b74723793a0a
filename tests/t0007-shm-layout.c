/* t0007-shm-layout: the stats segment's layout is pinned field by field,
 * shm_validate() refuses every malformed buffer without reading past it,
 * shm_sum() counts gauges of live processes only, and damage written
 * into a segment after it was validated costs bounded work and no read
 * outside it.
 *
 * The offsets below are the on-disk contract between a library and a
 * sendcache-stat of the same SC_SHM_VERSION: a change here without a
 * version bump breaks readers of running servers.
 */
#include "tap/tap.h"
#include "shm.h"

#include <unistd.h>

#define NSLOTS 3

#define is_off(type, field, want) \
	is_int(offsetof(type, field), want, "offsetof(" #type ", " #field ")")

static void header_offsets(void)
{
	is_off(struct sc_shm_header, magic, 0);
	is_off(struct sc_shm_header, version, 8);
	is_off(struct sc_shm_header, header_size, 12);
	is_off(struct sc_shm_header, slot_size, 16);
	is_off(struct sc_shm_header, nslots, 20);
	is_off(struct sc_shm_header, ncounters, 24);
	is_off(struct sc_shm_header, creator_pid, 28);
	is_off(struct sc_shm_header, created, 32);
	is_off(struct sc_shm_header, folds_begun, 40);
	is_off(struct sc_shm_header, folds_done, 44);
	is_off(struct sc_shm_header, totals, 48);
	is_off(struct sc_shm_header, ctl, 48 + SC_NCOUNTERS * 8);
	is_off(struct sc_shm_ctl, gen, 0);
	is_off(struct sc_shm_ctl, purges, 8);
	is_off(struct sc_shm_ctl, prewarms, 16);
	is_off(struct sc_shm_ctl, paused, 24);
	is_off(struct sc_shm_ctl, npaths, 28);
	is_off(struct sc_shm_ctl, paths, 32);
}

static void slot_offsets(void)
{
	is_off(struct sc_shm_slot, pid, 0);
	is_off(struct sc_shm_slot, ctl_state, 4);
	is_off(struct sc_shm_slot, start_ticks, 8);
	is_off(struct sc_shm_slot, ctl_ack, 16);
	is_off(struct sc_shm_slot, c, 24);
}

static void sizes(void)
{
	int n = 0, i;

	is_int(sizeof(struct sc_counters), SC_NCOUNTERS * 8,
	       "counters: %d packed u64", SC_NCOUNTERS);
	is_int(sizeof(struct sc_shm_header), 48 + SC_NCOUNTERS * 8 + 32 +
	       SC_CTL_PATHS, "header: 48 bytes + totals + control block");
	is_int(sizeof(struct sc_shm_slot), 24 + SC_NCOUNTERS * 8,
	       "slot: 24 bytes + counters");
	is_int(shm_size(NSLOTS), sizeof(struct sc_shm_header) +
	       NSLOTS * sizeof(struct sc_shm_slot), "shm_size(%d)", NSLOTS);
	ok(!memcmp(&(uint64_t){ SC_SHM_MAGIC }, "SCSTATS1", 8),
	   "the magic reads SCSTATS1 in memory");
	while (stats_names[n])
		n++;
	is_int(n, SC_NCOUNTERS, "SC_NCOUNTERS is the number of stats_names");
	for (i = 0; i < SC_NCOUNTERS; i++)
		if ((stats_kinds[i] != SC_COUNT && stats_kinds[i] != SC_GAUGE) ||
		    !stats_descs[i] || !stats_descs[i][0])
			break;
	is_int(i, SC_NCOUNTERS, "every counter has a kind and a description");
}

/* A well-formed segment of NSLOTS slots, zeroed, in h (aligned). */
static void make_good(struct sc_shm_header *h)
{
	memset(h, 0, shm_size(NSLOTS));
	h->magic = SC_SHM_MAGIC;
	h->version = SC_SHM_VERSION;
	h->header_size = sizeof(*h);
	h->slot_size = sizeof(struct sc_shm_slot);
	h->nslots = NSLOTS;
	h->ncounters = SC_NCOUNTERS;
	h->creator_pid = (int32_t)getpid();
}

static void validate(struct sc_shm_header *h)
{
	size_t len = shm_size(NSLOTS);
	uint32_t n;

	make_good(h);
	is_int(shm_validate(h, len, &n), SHM_OK, "a good segment is valid");
	is_int(n, NSLOTS, "and its slot count is handed back");
	is_int(shm_validate(h, 0, &n), SHM_SHORT, "0 bytes: short");
	is_int(shm_validate(h, 11, &n), SHM_SHORT, "11 bytes (no whole version): short");
	is_int(shm_validate(h, sizeof(*h) - 1, &n), SHM_SHORT, "cut header: short");
	is_int(shm_validate(h, len - 1, &n), SHM_SHORT, "cut last slot: short");
	h->magic ^= 1;
	is_int(shm_validate(h, len, &n), SHM_BAD_MAGIC, "bad magic");
	is_int(shm_validate(h, 12, &n), SHM_BAD_MAGIC,
	       "bad magic is told apart from short at 12 bytes");
	make_good(h);
	h->version = SC_SHM_VERSION + 1;
	is_int(shm_validate(h, len, &n), SHM_BAD_VERSION, "another version");
	is_int(shm_validate(h, 12, &n), SHM_BAD_VERSION,
	       "another version is told at 12 bytes, whatever its size");
	make_good(h);
	h->header_size += 8;
	is_int(shm_validate(h, len, &n), SHM_BAD_LAYOUT, "other header_size");
	make_good(h);
	h->slot_size -= 8;
	is_int(shm_validate(h, len, &n), SHM_BAD_LAYOUT, "other slot_size");
	make_good(h);
	h->ncounters = SC_NCOUNTERS + 1;
	is_int(shm_validate(h, len, &n), SHM_BAD_LAYOUT, "other ncounters");
	make_good(h);
	h->nslots = 0;
	is_int(shm_validate(h, len, &n), SHM_BAD_LAYOUT, "no slots");
	make_good(h);
	h->nslots = NSLOTS + 1;
	is_int(shm_validate(h, len, &n), SHM_SHORT, "more slots than bytes: short");
}

/* totals + a live slot (this process) + a dead one (a start time that is
 * not ours): COUNT counters of all three, gauges of the live slot only. */
static void sum(struct sc_shm_header *h)
{
	struct sc_shm_slot *live = shm_slot(h, 0), *dead = shm_slot(h, 2);
	uint64_t ticks = shm_start_ticks(getpid());
	struct sc_counters out;
	int n;

	make_good(h);
	ok(ticks > 0, "shm_start_ticks(getpid()) = %llu",
	   (unsigned long long)ticks);
	h->totals.open_hit = 100;
	live->pid = (int32_t)getpid();
	live->start_ticks = ticks;
	live->c.open_hit = 10;
	live->c.entries = 3;
	dead->pid = (int32_t)getpid();
	dead->start_ticks = ticks + 1000;   /* a pid reused 10 s later */
	dead->c.open_hit = 1;
	dead->c.entries = 50;
	n = shm_sum(h, NSLOTS, 0, &out);
	is_int(n, 1, "shm_sum: one live process");
	is_int(out.open_hit, 111, "COUNT: totals + every slot");
	is_int(out.entries, 3, "GAUGE: live slots only");
	n = shm_sum(h, NSLOTS, getpid(), &out);
	is_int(out.open_hit, 11, "one pid: its slots, without the totals");
	is_int(n, 1, "one pid: one of them live");
	/* Every slot is stamped with its process's start time from /proc. */
	dead->start_ticks = ticks;
	is_int(shm_sum(h, NSLOTS, 0, &out), 2, "stamped with /proc's start: live");
	dead->start_ticks = ticks + 1;
	is_int(shm_sum(h, NSLOTS, 0, &out), 1, "stamped after /proc's start: not live");
	dead->start_ticks = ticks - 1;
	is_int(shm_sum(h, NSLOTS, 0, &out), 1, "stamped before /proc's start: not live");
	dead->start_ticks = ticks + 1000;
	/* A slot a live parent reserved for a child being forked keeps the
	 * segment in use even when the parent itself has left its slot. */
	live->pid = 0;
	shm_slot(h, 1)->pid = -(int32_t)getpid();
	n = shm_sum(h, NSLOTS, 0, &out);
	is_int(n, 1, "a slot being claimed by a live process counts as live");
	is_int(out.open_hit, 101, "and adds nothing to the sums");
	is_int(shm_live(h, NSLOTS, 0, 9), 1, "shm_live: the same one");
	is_int(shm_live(h, NSLOTS, getpid(), 9), 0, "shm_live: none but the excepted pid");
}

/* What any process of the instance may write there: every field below is
 * damage that a reader must survive with bounded work and no access
 * outside the slots it validated (ASan's build checks the second). */
static void damaged(struct sc_shm_header *h)
{
	struct sc_shm_slot *s0 = shm_slot(h, 0);
	struct sc_counters out;

	make_good(h);
	h->totals.open_hit = 5;
	s0->pid = (int32_t)getpid();
	s0->start_ticks = shm_start_ticks(getpid());
	s0->c.open_hit = 1;
	h->nslots = 0x7fffffff;          /* changed after validation */
	is_int(shm_sum(h, NSLOTS, 0, &out), 1,
	       "a slot count changed after validation: the validated one is used");
	is_int(out.open_hit, 6, "and the sums are those of the validated slots");
	h->nslots = NSLOTS;
	h->folds_begun = h->folds_done + 1;      /* a fold that never ends */
	is_int(shm_sum(h, NSLOTS, 0, &out), -1,
	       "a fold that never ends: shm_sum gives up (-1), bounded");
	h->folds_begun = h->folds_done;
	s0->pid = SC_PID_MAX + 1;
	is_int(shm_sum(h, NSLOTS, 0, &out), 0, "a pid past the largest: not live");
	is_int(out.open_hit, 5, "and not summed");
	s0->pid = INT32_MIN;
	is_int(shm_sum(h, NSLOTS, 0, &out), 0, "pid INT32_MIN (no -pid): not live");
	ok(!shm_pid_exists(0) && !shm_pid_exists(-1) && !shm_pid_exists(SC_PID_MAX + 1),
	   "shm_pid_exists: 0, -1 and past the largest pid are no process");
	ok(shm_start_ticks(-1) == 0 && shm_start_ticks(SC_PID_MAX + 1) == 0,
	   "shm_start_ticks reads no /proc entry for a pid out of range");
}

int main(void)
{
	static union {
		struct sc_shm_header h;
		char bytes[sizeof(struct sc_shm_header) +
			   NSLOTS * sizeof(struct sc_shm_slot)];
	} seg;

	plan(18 + 5 + 7 + 15 + 13 + 8);
	header_offsets();
	slot_offsets();
	sizes();
	validate(&seg.h);
	sum(&seg.h);
	damaged(&seg.h);
	return done_testing();
}
