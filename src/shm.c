/* shm.c - the stats segment's counters and reading it, for the library
 * and for sendcache-stat (which links this file and no other). */
#define _GNU_SOURCE
#include "shm.h"
#include "rawsys.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

const char *const stats_names[] = {
#define SC_COUNTER(name, kind, desc) #name,
#include "stats_def.h"
#undef SC_COUNTER
	NULL,
};

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

enum shm_check shm_validate(const struct sc_shm_header *h, size_t len,
			    uint32_t *nslots)
{
	uint32_t n;

	*nslots = 0;
	if (len < sizeof(h->magic) + sizeof(h->version))
		return SHM_SHORT;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != SC_SHM_MAGIC)
		return SHM_BAD_MAGIC;
	if (__atomic_load_n(&h->version, __ATOMIC_RELAXED) != SC_SHM_VERSION)
		return SHM_BAD_VERSION;
	if (len < sizeof(*h))
		return SHM_SHORT;
	n = __atomic_load_n(&h->nslots, __ATOMIC_RELAXED);
	if (__atomic_load_n(&h->header_size, __ATOMIC_RELAXED) != sizeof(*h) ||
	    __atomic_load_n(&h->slot_size, __ATOMIC_RELAXED) !=
		    sizeof(struct sc_shm_slot) ||
	    __atomic_load_n(&h->ncounters, __ATOMIC_RELAXED) != SC_NCOUNTERS ||
	    n == 0 || n > SC_MAX_SLOTS)
		return SHM_BAD_LAYOUT;
	if (len < shm_size(n))
		return SHM_SHORT;
	*nslots = n;
	return SHM_OK;
}

/* /proc/PID/stat of pid into buf; returns what follows the command name
 * (field 3, the state, on), or NULL if the process is gone. */
static const char *proc_stat(pid_t pid, char *buf, size_t size)
{
	char path[32], *p;
	FILE *f;
	size_t n;

	if (pid <= 0 || pid > SC_PID_MAX)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');          /* comm may hold spaces */
	return p && p[1] == ' ' ? p + 2 : NULL;
}

uint64_t shm_start_ticks(pid_t pid)
{
	unsigned long long t = 0;
	char buf[512];
	const char *p = proc_stat(pid, buf, sizeof(buf));
	int i;

	/* field 3 (state) ... field 22 (starttime) */
	for (i = 3; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

char shm_proc_state(pid_t pid)
{
	char buf[128];
	const char *p = proc_stat(pid, buf, sizeof(buf));

	return p ? *p : 0;
}

bool shm_pid_exists(int32_t pid)
{
	int saved = errno;
	bool r;

	if (pid <= 0 || pid > SC_PID_MAX)
		return false;
	r = kill(pid, 0) == 0 || errno != ESRCH;
	errno = saved;
	return r;
}

/* The effective uid of process pid (the second Uid: field of its status,
 * which every user may read), or -1. */
static long proc_euid(const char *pid)
{
	char path[64], line[256];
	long uid = -1, real_uid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %ld %ld", &real_uid, &uid) == 2)
			break;
	fclose(f);
	return uid;
}

/* True if the maps of process pid name the inode (dev, ino). Lines longer
 * than the buffer (a long path) are read on to their end. */
static bool maps_name(const char *pid, dev_t dev, ino_t ino, bool *unreadable)
{
	char path[64], line[512];
	unsigned int maj, min;
	unsigned long long i;
	bool found = false, start = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	if (!(f = fopen(path, "re"))) {
		*unreadable = errno == EACCES || errno == EPERM;
		return false;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		/* address perms offset major:minor inode path */
		if (start && sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min,
				    &i) == 3 && i == (unsigned long long)ino &&
		    maj == major(dev) && min == minor(dev))
			found = true;
		start = strchr(line, '\n') != NULL;
	}
	/* A process whose maps change under us reads as an error at worst. */
	fclose(f);
	return found;
}

void shm_unlink_same(const char *name, dev_t dev, ino_t ino)
{
	char path[sizeof("/dev/shm") + 256];

	/* Not the library's own fstatat or syscall (interposed names):
	 * glibc's statx; with another libc (musl before 1.2.5 has no statx)
	 * the system call itself, where its struct stat is the kernel's
	 * (x86_64, aarch64); elsewhere the segment is left to the sweep. */
	snprintf(path, sizeof(path), "/dev/shm%s", name);
#ifdef __GLIBC__
	struct statx now;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_INO, &now) == 0 &&
	    now.stx_ino == (uint64_t)ino && now.stx_dev_major == major(dev) &&
	    now.stx_dev_minor == minor(dev) && shm_unlink(name) == 0)
		shm_unlink_prewarm(name);
#elif defined(SYS_newfstatat) && (defined(__x86_64__) || defined(__aarch64__))
	struct stat now;

	if (raw_syscall(SYS_newfstatat, AT_FDCWD, (long)path, (long)&now,
			AT_SYMLINK_NOFOLLOW, 0, 0) == 0 &&
	    now.st_ino == ino && now.st_dev == dev && shm_unlink(name) == 0)
		shm_unlink_prewarm(name);
#endif
}

void shm_unlink_prewarm(const char *name)
{
	char list[sizeof(SC_PREWARM_PREFIX) + 256];

	if (strncmp(name, SC_SHM_PREFIX, strlen(SC_SHM_PREFIX)))
		return;
	snprintf(list, sizeof(list), SC_PREWARM_PREFIX "%s",
		 name + strlen(SC_SHM_PREFIX));
	shm_unlink(list);
}

bool shm_mapped(dev_t dev, ino_t ino)
{
	long me = (long)geteuid();
	char self[24];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(self, sizeof(self), "%d", (int)getpid());
	if (!(dir = opendir("/proc")))
		return true;            /* cannot tell: keep the segment */
	while (!found && (d = readdir(dir)) != NULL) {
		bool unreadable = false;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    strcmp(d->d_name, self) == 0)
			continue;
		/* Root reads every process's maps but a few the kernel
		 * guards (pid 1 in some sandboxes), which are not servers. */
		found = maps_name(d->d_name, dev, ino, &unreadable) ||
			(unreadable && me != 0 && proc_euid(d->d_name) == me);
	}
	closedir(dir);
	return found;
}

bool shm_slot_alive(const struct sc_shm_slot *s)
{
	int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
	uint64_t want, t;

	if (pid == 0 || pid == INT32_MIN)
		return false;
	if (pid < 0)
		return shm_pid_exists(-pid);
	/* 0: no such process (or a slot not yet stamped, which only its
	 * owner fills in, before it publishes its pid). */
	want = __atomic_load_n(&s->start_ticks, __ATOMIC_RELAXED);
	t = want ? shm_start_ticks(pid) : 0;
	return t != 0 && t == want;
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

/* One reading of the sums; false if a fold ran during it. */
static bool sum_once(const struct sc_shm_header *h, uint32_t nslots,
		     pid_t pid, struct sc_counters *out, int *live)
{
	uint32_t done = __atomic_load_n(&h->folds_done, __ATOMIC_ACQUIRE);
	uint32_t begun = __atomic_load_n(&h->folds_begun, __ATOMIC_ACQUIRE);
	uint32_t i;

	if (begun != done)
		return false;
	memset(out, 0, sizeof(*out));
	*live = 0;
	if (pid <= 0)
		add(out, &h->totals, false);
	for (i = 0; i < nslots; i++) {
		const struct sc_shm_slot *s = shm_slot(h, i);
		int32_t spid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
		bool alive;

		/* A slot being claimed or folded: live (the segment is in
		 * use), its counts on their way to the totals. */
		if (spid < 0 && pid <= 0)
			*live += shm_slot_alive(s);
		if (spid <= 0 || spid > SC_PID_MAX || (pid > 0 && spid != pid))
			continue;
		alive = shm_slot_alive(s);
		*live += alive;
		add(out, &s->c, alive);
	}
	return __atomic_load_n(&h->folds_begun, __ATOMIC_ACQUIRE) == begun;
}

int shm_sum(const struct sc_shm_header *h, uint32_t nslots, pid_t pid,
	    struct sc_counters *out)
{
	int tries, live;

	for (tries = 0; tries < SHM_SUM_TRIES; tries++) {
		if (sum_once(h, nslots, pid, out, &live))
			return live;
		if (tries % 16 == 15)
			sched_yield();
	}
	memset(out, 0, sizeof(*out));
	return -1;
}

int shm_live(const struct sc_shm_header *h, uint32_t nslots, pid_t except,
	     int enough)
{
	uint32_t i;
	int live = 0;

	for (i = 0; i < nslots && live < enough; i++) {
		const struct sc_shm_slot *s = shm_slot(h, i);
		int32_t spid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);

		if (spid != 0 && spid != except && spid != -except)
			live += shm_slot_alive(s);
	}
	return live;
}
