/* stats.c - this process's counters and its slot in the stats segment.
 *
 * The first process of a server tree creates /dev/shm/sendcache.NAME
 * (O_EXCL, mode 0600 or 0640 with SENDCACHE_STATS_GROUP) before a master
 * forks workers or drops privileges; every process counts in a slot of its
 * own. A fork reserves the child's slot in the parent (prepare handler) so
 * that a parent that exits at once (a daemonizing server) never leaves the
 * segment without a live process.
 */
#define _GNU_SOURCE
#include "stats.h"
#include "config.h"
#include "real.h"
#include "shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct sc_counters stats_local;
struct sc_counters *stats_cur = &stats_local;

const char *const stats_names[] = {
#define SC_COUNTER(name, kind, desc) #name,
#include "stats_def.h"
#undef SC_COUNTER
	NULL,
};

static struct sc_shm_header *seg;
static struct sc_shm_slot *my_slot;
static char seg_name[SC_SHM_NAME_MAX + sizeof(SC_SHM_PREFIX)];
/* This process's pid: getpid() is a syscall, and a server forking per
 * connection would pay several per fork. Set at init and in each child. */
static int32_t my_pid;
static int reserved = -1;            /* slot reserved for the next child */
/* The parent's counters at fork, in private memory: the child must not
 * read them from the parent's slot, which the parent may already have
 * changed (or folded away, if it exited) by the time the child runs. */
static struct sc_counters at_fork;

size_t stats_format(char *buf, size_t size)
{
	size_t at = 0;
	int n;

#define SC_COUNTER(name, kind, desc)                                          \
	n = snprintf(buf + at, size - at, "%s %llu\n", #name,                 \
		     (unsigned long long)__atomic_load_n(&stats_cur->name,    \
							 __ATOMIC_RELAXED));  \
	if (n < 0 || (size_t)n >= size - at)                                  \
		return at;                                                    \
	at += (size_t)n;
#include "stats_def.h"
#undef SC_COUNTER
	return at;
}

const char *stats_instance(void)
{
	return seg ? seg_name + strlen(SC_SHM_PREFIX) : "";
}

static void seg_lock(void)
{
	int32_t me = my_pid, holder;

	for (;;) {
		holder = 0;
		if (__atomic_compare_exchange_n(&seg->lock, &holder, me, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		/* A holder killed inside the lock must not block us forever. */
		if (holder != me && kill(holder, 0) != 0 && errno == ESRCH)
			__atomic_compare_exchange_n(&seg->lock, &holder, 0, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		sched_yield();
	}
}

static void seg_unlock(void)
{
	__atomic_store_n(&seg->lock, 0, __ATOMIC_RELEASE);
}

/* Moves a slot's COUNT counters into the totals and frees it. Readers
 * retry while seq is odd, so no sum ever sees them twice or not at all. */
static void fold(struct sc_shm_slot *s)
{
	uint64_t *src = (uint64_t *)&s->c, *dst = (uint64_t *)&seg->totals;
	int i;

	__atomic_add_fetch(&seg->seq, 1, __ATOMIC_ACQ_REL);
	for (i = 0; i < SC_NCOUNTERS; i++)
		if (stats_kinds[i] == SC_COUNT)
			__atomic_add_fetch(&dst[i], src[i], __ATOMIC_RELAXED);
	memset(&s->c, 0, sizeof(s->c));
	__atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
	__atomic_add_fetch(&seg->seq, 1, __ATOMIC_ACQ_REL);
}

/* A free slot, folding dead ones on the way; marks it with pid. Returns
 * its index or -1. Called with the segment lock. */
static int take_slot(int32_t pid)
{
	uint32_t i;
	int pass;

	/* Telling a live slot from one whose pid was reused reads /proc,
	 * which a server forking per connection (busybox httpd) would pay on
	 * every fork for every slot. The first pass folds only slots whose
	 * process is gone (kill 0: one cheap syscall); the second, when no
	 * slot is free, checks start times too. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < seg->nslots; i++) {
			struct sc_shm_slot *s = shm_slot(seg, i);

			if (s->pid > 0 && pass == 0 && s->pid != my_pid &&
			    kill(s->pid, 0) < 0 &&
			    errno == ESRCH)
				fold(s);
			if (s->pid != 0 && pass == 1 && !shm_slot_alive(s))
				fold(s);
			if (s->pid == 0) {
				memset(&s->c, 0, sizeof(s->c));
				s->start_ticks = pid > 0 ? shm_start_ticks(pid) : 0;
				__atomic_store_n(&s->pid, pid, __ATOMIC_RELEASE);
				return (int)i;
			}
		}
	}
	return -1;
}

/* Counts from now on in slot i (taken for this process, which started at
 * ticks), carrying over the gauges of what this process already holds. */
static void use_slot(int i, uint64_t ticks)
{
	struct sc_shm_slot *s = shm_slot(seg, (uint32_t)i);

	s->start_ticks = ticks;
	s->c.entries = stats_cur->entries;
	s->c.fds_held = stats_cur->fds_held;
	s->c.mapped_bytes = stats_cur->mapped_bytes;
	s->c.negatives = stats_cur->negatives;
	__atomic_store_n(&s->pid, my_pid, __ATOMIC_RELEASE);
	my_slot = s;
	stats_cur = &s->c;
}

static void atfork_prepare(void)
{
	at_fork = *stats_cur;
	if (!seg)
		return;
	seg_lock();
	reserved = take_slot(-my_pid);
	seg_unlock();
}

static void atfork_parent(void)
{
	reserved = -1;
}

static void atfork_child(void)
{
	/* The child starts from the parent's gauges, not its counts. */
	memset(&stats_local, 0, sizeof(stats_local));
	stats_local.entries = at_fork.entries;
	stats_local.fds_held = at_fork.fds_held;
	stats_local.mapped_bytes = at_fork.mapped_bytes;
	stats_local.negatives = at_fork.negatives;
	stats_cur = &stats_local;
	my_slot = NULL;
	my_pid = getpid();
	if (seg && reserved >= 0)
		use_slot(reserved, shm_fork_ticks());
	reserved = -1;
}

static void default_name(char *out, size_t size)
{
	const char *prog = program_invocation_short_name;
	size_t i, n = 0;

	for (i = 0; prog[i] && n < 32; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789_-", prog[i]))
			out[n++] = prog[i];
	snprintf(out + n, size - n, "%s%d", n ? "-" : "sendcache-", (int)getpid());
}

/* Opens an existing segment of ours, or reports why not. Returns the fd. */
static int open_existing(void)
{
	struct stat st;
	int fd = shm_open(seg_name, O_RDWR, 0);

	if (fd < 0)
		return -1;
	if (real.fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (size_t)st.st_size < sizeof(*seg)) {
		real.close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static bool owned_by_us(int fd)
{
	struct stat st;

	return real.fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_uid == geteuid();
}

/* True if some process still counts in the segment at fd. An invalid
 * segment counts as in use if invalid_used (it may be one another process
 * is creating right now). */
static bool segment_in_use(int fd, bool invalid_used)
{
	struct stat st;
	struct sc_shm_header *h;
	struct sc_counters sum;
	bool used = false;

	if (real.fstat(fd, &st) != 0)
		return false;
	h = real.mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)            /* empty: not sized by its creator yet */
		return invalid_used;
	if (shm_validate(h, (size_t)st.st_size) != SHM_OK)
		used = invalid_used;
	else
		used = shm_sum(h, 0, &sum) > 0;
	real.munmap(h, (size_t)st.st_size);
	return used;
}

/* Removes segments of ours that no process counts in any more (a server
 * killed before its exit handlers ran). Run once, when a new instance
 * starts; only files owned by this user are touched. */
static void sweep_stale(void)
{
	char path[sizeof(SC_SHM_PREFIX) + 256];
	struct dirent *de;
	DIR *d = opendir("/dev/shm");
	int fd;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, SC_SHM_PREFIX + 1, strlen(SC_SHM_PREFIX) - 1))
			continue;
		snprintf(path, sizeof(path), "/%s", de->d_name);
		fd = shm_open(path, O_RDONLY, 0);
		if (fd < 0)
			continue;
		if (owned_by_us(fd) && !segment_in_use(fd, true))
			shm_unlink(path);
		real.close(fd);
	}
	closedir(d);
}

static int create_segment(size_t size)
{
	mode_t mode = config.stats_group[0] ? 0640 : 0600;
	struct group *gr;
	int fd;

	/* O_EXCL in /dev/shm (sticky; glibc adds O_NOFOLLOW): no one else's
	 * file or symlink can stand in for ours. */
	fd = shm_open(seg_name, O_RDWR | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) != 0)
		goto fail;
	if (config.stats_group[0]) {
		gr = getgrnam(config.stats_group);
		if (!gr || fchown(fd, (uid_t)-1, gr->gr_gid) != 0 ||
		    fchmod(fd, mode) != 0) {
			fprintf(stderr, "sendcache: cannot give group '%s' the stats segment; "
				"it stays readable by its owner only\n", config.stats_group);
			fchmod(fd, 0600);
		}
	}
	return fd;
fail:
	real.close(fd);
	shm_unlink(seg_name);
	return -1;
}

void stats_init(void)
{
	char name[SC_SHM_NAME_MAX];
	size_t size = shm_size(config.stats_slots);
	bool fresh = false;
	int fd, i;

	my_pid = getpid();

	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	if (!config.stats)
		return;
	if (config.stats_name[0])
		snprintf(name, sizeof(name), "%s", config.stats_name);
	else
		default_name(name, sizeof(name));
	snprintf(seg_name, sizeof(seg_name), "%s%s", SC_SHM_PREFIX, name);

	fd = open_existing();
	if (fd >= 0 && !segment_in_use(fd, false)) {
		/* Left behind by an instance that is gone: start afresh. */
		real.close(fd);
		shm_unlink(seg_name);
		fd = -1;
	}
	if (fd < 0 && errno != EPERM) {
		sweep_stale();
		fd = create_segment(size);
		fresh = fd >= 0;
	}
	if (fd < 0) {
		fprintf(stderr, "sendcache: no stats segment %s: %s; counters stay private\n",
			seg_name, strerror(errno));
		return;
	}
	if (!fresh) {
		struct stat st;

		if (real.fstat(fd, &st) != 0) {
			real.close(fd);
			return;
		}
		size = (size_t)st.st_size;
	}
	seg = real.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	real.close(fd);
	if (seg == MAP_FAILED || (!fresh && shm_validate(seg, size) != SHM_OK)) {
		fprintf(stderr, "sendcache: stats segment %s is unusable; counters stay private\n",
			seg_name);
		if (seg != MAP_FAILED)
			real.munmap(seg, size);
		seg = NULL;
		return;
	}
	if (fresh) {
		seg->version = SC_SHM_VERSION;
		seg->header_size = sizeof(*seg);
		seg->slot_size = sizeof(struct sc_shm_slot);
		seg->nslots = config.stats_slots;
		seg->ncounters = SC_NCOUNTERS;
		seg->creator_pid = my_pid;
		seg->created = time(NULL);
		__atomic_store_n(&seg->magic, SC_SHM_MAGIC, __ATOMIC_RELEASE);
	}
	seg_lock();
	/* After exec the process may still own its slot from before. */
	for (i = 0; i < (int)seg->nslots; i++)
		if (shm_slot(seg, (uint32_t)i)->pid == my_pid)
			break;
	if (i == (int)seg->nslots)
		i = take_slot(my_pid);
	seg_unlock();
	if (i >= 0)
		use_slot(i, shm_start_ticks(my_pid));
}

void stats_exit(void)
{
	bool last;

	if (!seg || !my_slot)
		return;
	stats_local = *stats_cur;
	stats_cur = &stats_local;
	seg_lock();
	fold(my_slot);
	my_slot = NULL;
	{
		struct sc_counters sum;

		last = shm_sum(seg, 0, &sum) == 0;
	}
	seg_unlock();
	if (last)
		shm_unlink(seg_name);
}
