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
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct sc_counters stats_local;
struct sc_counters *stats_cur = &stats_local;

static struct sc_shm_header *seg;
/* The segment's geometry, validated once when it was mapped and kept
 * here: never read again from memory every process can write. */
static size_t seg_len;
static uint32_t seg_nslots;
static dev_t seg_dev;             /* its inode, to find it in /proc maps */
static ino_t seg_ino;
/* The pid of the process that created the segment, if this process or
 * one it was forked from did (0 otherwise): private memory, inherited at
 * fork, so a worker knows its master's pid without reading the segment. */
static int32_t seg_creator;
static struct sc_shm_slot *my_slot;
/* The segment's owner: who may write a prewarm list (ctl.c). */
static uid_t seg_uid;
/* What this process last acknowledged of the control block (stats_ack),
 * in private memory: a slot claimed later starts from it. */
static uint64_t my_ack;
static uint32_t my_ack_state;
static char seg_name[SC_SHM_NAME_MAX + sizeof(SC_SHM_PREFIX)];
/* This process's pid: getpid() is a syscall, and a server forking per
 * connection would pay several per fork. Set at init and in each child. */
static int32_t my_pid;
/* Set once this process forks: at exit it then looks for children that
 * may not have claimed their slots yet (a daemonizing server exits right
 * after its fork). Private memory: nothing a worker writes. */
static bool has_forked;
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

struct sc_shm_ctl *stats_ctl(void)
{
	return seg ? &seg->ctl : NULL;
}

uid_t stats_owner(void)
{
	return seg_uid;
}

void stats_ack(uint64_t gen, uint32_t state)
{
	my_ack = gen;
	my_ack_state = state;
	if (!my_slot)
		return;
	__atomic_store_n(&my_slot->ctl_state, state, __ATOMIC_RELAXED);
	__atomic_store_n(&my_slot->ctl_ack, gen, __ATOMIC_RELEASE);
}

/* Moves slot s's COUNT counters into the totals and zeroes them; s's pid
 * must be -my_pid (ours to fold). Readers retry while folds_begun and
 * folds_done differ, so no sum sees the counts twice or not at all. */
static void fold_counts(struct sc_shm_header *h, struct sc_shm_slot *s)
{
	uint64_t *src = (uint64_t *)&s->c, *dst = (uint64_t *)&h->totals;
	int i;

	for (i = 0; i < SC_NCOUNTERS; i++)
		if (stats_kinds[i] == SC_COUNT)
			__atomic_add_fetch(&dst[i],
					   __atomic_load_n(&src[i], __ATOMIC_RELAXED),
					   __ATOMIC_RELAXED);
	memset(&s->c, 0, sizeof(s->c));
}

/* Takes slot s from `from` (0: free; otherwise a pid whose process is
 * gone, its counts folded on the way) for this process. False if another
 * process changed the slot first. The slot's pid reads -my_pid until the
 * caller publishes it. */
static bool grab(struct sc_shm_header *h, struct sc_shm_slot *s, int32_t from)
{
	bool folding = from != 0;

	if (folding)
		__atomic_add_fetch(&h->folds_begun, 1, __ATOMIC_ACQ_REL);
	if (!__atomic_compare_exchange_n(&s->pid, &from, -my_pid, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		if (folding)
			__atomic_add_fetch(&h->folds_done, 1, __ATOMIC_ACQ_REL);
		return false;
	}
	if (folding) {
		fold_counts(h, s);
		__atomic_add_fetch(&h->folds_done, 1, __ATOMIC_ACQ_REL);
	}
	return true;
}

/* A slot of this process in the segment: a free one, or, when none is,
 * one whose process is gone. Two bounded passes over the slots this
 * process validated; every pid read is checked (shm_slot_alive). Returns
 * NULL when every slot is taken. */
static struct sc_shm_slot *claim_slot(void)
{
	uint32_t i;
	int pass;

	/* Telling a live slot from one whose pid was reused reads /proc,
	 * which a server forking per connection (busybox httpd) would pay on
	 * every fork for every slot. The first pass takes a free slot or one
	 * whose process is gone (kill 0: one cheap syscall); the second, when
	 * there is none, checks start times too. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < seg_nslots; i++) {
			struct sc_shm_slot *s = shm_slot(seg, i);
			int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);
			bool gone;

			if (pid == my_pid)
				continue;
			if (pid == 0)
				gone = true;
			else if (pid < 0 && pid != INT32_MIN)
				gone = !shm_pid_exists(-pid);
			else if (pass == 0)
				gone = !shm_pid_exists(pid);
			else
				gone = !shm_slot_alive(s);
			if (gone && grab(seg, s, pid))
				return s;
		}
	}
	return NULL;
}

/* Copies the gauges (stats_def.h: kind GAUGE) of from into to, writing
 * only those that differ: a page written at fork is copied again at the
 * next one. */
static void copy_gauges(struct sc_counters *to, const struct sc_counters *from)
{
#define SC_COUNTER(name, kind, desc)                                          \
	if (SC_##kind == SC_GAUGE && to->name != from->name)                  \
		to->name = from->name;
#include "stats_def.h"
#undef SC_COUNTER
}

/* Counts from now on in slot s (grabbed by this process, which started at
 * ticks), carrying over the gauges of what this process already holds. */
static void use_slot(struct sc_shm_slot *s, uint64_t ticks)
{
	memset(&s->c, 0, sizeof(s->c));
	s->start_ticks = ticks;
	s->ctl_ack = my_ack;
	s->ctl_state = my_ack_state;
	copy_gauges(&s->c, stats_cur);
	__atomic_store_n(&s->pid, my_pid, __ATOMIC_RELEASE);
	my_slot = s;
	stats_cur = &s->c;
}

/* Leaves slot s of h (this process's, pid me): its counts go to the
 * totals and the slot is free. A slot some other process changed (a
 * damaged segment) is left alone. */
static void leave_slot(struct sc_shm_header *h, struct sc_shm_slot *s,
		       int32_t me)
{
	__atomic_add_fetch(&h->folds_begun, 1, __ATOMIC_ACQ_REL);
	if (__atomic_compare_exchange_n(&s->pid, &me, -my_pid, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		fold_counts(h, s);
		__atomic_store_n(&s->pid, 0, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&h->folds_done, 1, __ATOMIC_ACQ_REL);
}

/* The parent does nothing in the segment at fork: a privileged master
 * (nginx's, Apache's) touches memory its workers can write as little as
 * it can. Each child claims its own slot when it wakes. Only what changed
 * is written: each page written here is copied at the next fork. */
void stats_fork_prepare(void)
{
	if (!has_forked)
		has_forked = true;
	copy_gauges(&at_fork, stats_cur);
}

void stats_after_fork(pid_t me)
{
	struct sc_shm_slot *s;

	/* The child starts from the parent's gauges, not its counts. */
	memset(&stats_local, 0, sizeof(stats_local));
	copy_gauges(&stats_local, &at_fork);
	stats_cur = &stats_local;
	my_slot = NULL;
	has_forked = false;
	my_pid = me;
	if (seg && (s = claim_slot()) != NULL)
		use_slot(s, shm_start_ticks(me));
}

/* True if this thread has a child still running (not one that exited and
 * waits to be reaped: a server that just reaped none yet, lighttpd after
 * a CGI): the kernel's list, read only by a process that forked, at exit
 * and when it gives up root; unknown when the list cannot be read. */
static bool has_children(bool unknown)
{
	char buf[512], *p, *end;
	ssize_t n;
	long pid;
	int fd;

	fd = real.openat(AT_FDCWD, "/proc/thread-self/children",
			 O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return unknown;
	n = real.read(fd, buf, sizeof(buf) - 1);
	real.close(fd);
	if (n < 0)
		return unknown;
	if (n == (ssize_t)sizeof(buf) - 1)
		return true;            /* too many to look at: some run */
	buf[n] = '\0';
	for (p = buf; *p; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		switch (shm_proc_state((pid_t)pid)) {
		case 0: case 'Z': case 'X':     /* gone, or waits to be reaped */
			break;
		default:
			return true;
		}
	}
	return false;
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
	    st.st_uid != geteuid() || (size_t)st.st_size < sizeof(*seg) ||
	    (size_t)st.st_size > shm_size(SC_MAX_SLOTS)) {
		real.close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* A segment that no process counts in is removed by the next start or
 * by sendcache-stat, but not in its first seconds: its creator may not
 * have claimed its own slot yet. */
#define SWEEP_MIN_AGE_S 2

/* Looks at one segment of this user (fd, named path): leaves a slot this
 * very process held before it exec'd (a wrapper such as env, taskset or
 * sh -c exec left its instance then), and removes the segment when no
 * process counts in it any more. Every value read is checked. */
static void sweep_one(int fd, const char *path)
{
	struct sc_shm_header *h;
	struct stat st;
	uint32_t n, i;
	bool left = false, old;

	if (real.fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid())
		return;
	old = time(NULL) - st.st_ctime >= SWEEP_MIN_AGE_S;
	if ((size_t)st.st_size < sizeof(*h) ||
	    (size_t)st.st_size > shm_size(SC_MAX_SLOTS)) {
		if (old && !shm_mapped(st.st_dev, st.st_ino))
			shm_unlink_same(path, st.st_dev, st.st_ino);
		return;
	}
	h = real.mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return;
	/* Invalid: damaged by a process of a live server, or left by a dead
	 * one; only the kernel's maps tell which. */
	if (shm_validate(h, (size_t)st.st_size, &n) != SHM_OK) {
		if (old && !shm_mapped(st.st_dev, st.st_ino))
			shm_unlink_same(path, st.st_dev, st.st_ino);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct sc_shm_slot *s = shm_slot(h, i);

		/* Our pid, stamped with our start time: ours before exec. */
		if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) == my_pid &&
		    shm_slot_alive(s)) {
			leave_slot(h, s, my_pid);
			left = true;
		}
	}
	if ((left || old) && shm_live(h, n, 0, 1) == 0 &&
	    !shm_mapped(st.st_dev, st.st_ino))
		shm_unlink_same(path, st.st_dev, st.st_ino);
out:
	real.munmap(h, (size_t)st.st_size);
}

/* Runs sweep_one on every sendcache segment of this user. */
static void sweep(void)
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
		fd = shm_open(path, O_RDWR, 0);
		if (fd < 0)
			continue;
		sweep_one(fd, path);
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

/* Writes the header of a segment this process just created. */
static void init_header(struct sc_shm_header *h)
{
	h->version = SC_SHM_VERSION;
	h->header_size = sizeof(*h);
	h->slot_size = sizeof(struct sc_shm_slot);
	h->nslots = config.stats_slots;
	h->ncounters = SC_NCOUNTERS;
	h->creator_pid = my_pid;
	h->created = time(NULL);
	__atomic_store_n(&h->magic, SC_SHM_MAGIC, __ATOMIC_RELEASE);
}

void stats_init(void)
{
	char name[SC_SHM_NAME_MAX];
	size_t size = shm_size(config.stats_slots);
	struct sc_shm_slot *s;
	bool fresh = false;
	struct stat st;
	int fd;

	my_pid = getpid();
	if (!config.stats)
		return;
	if (config.stats_name[0])
		snprintf(name, sizeof(name), "%s", config.stats_name);
	else
		default_name(name, sizeof(name));
	snprintf(seg_name, sizeof(seg_name), "%s%s", SC_SHM_PREFIX, name);

	sweep();
	fd = open_existing();
	if (fd < 0 && errno != EPERM) {
		fd = create_segment(size);
		fresh = fd >= 0;
	}
	if (fd < 0) {
		fprintf(stderr, "sendcache: no stats segment %s: %s; counters stay private\n",
			seg_name, strerror(errno));
		return;
	}
	if (real.fstat(fd, &st) != 0) {
		real.close(fd);
		return;
	}
	if (!fresh)
		size = (size_t)st.st_size;
	seg_dev = st.st_dev;
	seg_ino = st.st_ino;
	seg_uid = st.st_uid;
	seg_creator = fresh ? my_pid : 0;
	seg = real.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	real.close(fd);
	if (seg != MAP_FAILED && fresh)
		init_header(seg);
	if (seg == MAP_FAILED || shm_validate(seg, size, &seg_nslots) != SHM_OK) {
		fprintf(stderr, "sendcache: stats segment %s is unusable; counters stay private\n",
			seg_name);
		if (seg != MAP_FAILED)
			real.munmap(seg, size);
		seg = NULL;
		return;
	}
	seg_len = size;
	if ((s = claim_slot()) != NULL)
		use_slot(s, shm_start_ticks(my_pid));
}

void stats_uid_changing(uid_t ruid, uid_t euid)
{
	struct stat st;
	int fd, saved = errno;

	/* Only a drop for good (the real uid leaves root too: not seteuid's
	 * temporary one), only while no other process counts in the segment
	 * and no child of ours lives (a root process must never map a
	 * segment its new owner could truncate under it). */
	if (!seg || seg_creator != my_pid || geteuid() != 0 ||
	    ruid == (uid_t)-1 || ruid == 0 || euid == (uid_t)-1 || euid == 0 ||
	    shm_live(seg, seg_nslots, my_pid, 1) != 0 ||
	    (has_forked && has_children(true)))
		return;
	fd = shm_open(seg_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	if (real.fstat(fd, &st) == 0 && st.st_dev == seg_dev &&
	    st.st_ino == seg_ino && st.st_uid != euid &&
	    fchown(fd, euid, (gid_t)-1) == 0)
		seg_uid = euid;
	real.close(fd);
out:
	errno = saved;
}

void stats_exit(void)
{
	bool last;

	if (!seg || !my_slot)
		return;
	stats_local = *stats_cur;
	stats_cur = &stats_local;
	leave_slot(seg, my_slot, my_pid);
	my_slot = NULL;
	/* The segment goes with the last process that counts in it. While
	 * its creator lives (nginx's master, Apache's parent) a child is not
	 * the last, whatever the slots say: a worker can not get its
	 * siblings' segment removed by writing over their slots. The creator
	 * goes by the slots and its own children. Any other process (of a
	 * segment it found, or whose creator is gone) asks the kernel's maps
	 * before it removes one. A process that wrongly thinks it is not the
	 * last leaves the segment to the next sweep. */
	if (seg_creator != my_pid && seg_creator != 0 &&
	    shm_pid_exists(seg_creator))
		return;
	last = shm_live(seg, seg_nslots, my_pid, 1) == 0 &&
	       !(has_forked && has_children(false)) &&
	       (seg_creator == my_pid || !shm_mapped(seg_dev, seg_ino));
	if (last)
		shm_unlink_same(seg_name, seg_dev, seg_ino);
}

/* Opens SENDCACHE_STATS_FILE for one append without following a symlink
 * anywhere on the way (openat2 RESOLVE_NO_SYMLINKS; O_NOFOLLOW on the last
 * name where the kernel lacks openat2), and only if it is a regular file
 * with one link. It lives where the workers may write, and a root master
 * appends to it at exit: a worker must not be able to point that append
 * at another file. Returns the fd, or -1 after one line on stderr. */
static int open_stats_file(void)
{
	const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
			  O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
	struct open_how how = { .flags = flags, .mode = 0600,
				.resolve = RESOLVE_NO_SYMLINKS };
	struct stat st;
	int fd;

	fd = (int)REAL.syscall(SYS_openat2, AT_FDCWD, config.stats_file, &how,
			       sizeof(how));
	/* Without openat2 only the last name is guarded (O_NOFOLLOW): a
	 * directory on the way could be a worker's symlink. Root does not
	 * take that chance. */
	if (fd < 0 && errno == ENOSYS && geteuid() != 0)
		fd = REAL.openat(AT_FDCWD, config.stats_file, flags, 0600);
	if (fd >= 0 && REAL.fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1)
		return fd;
	if (fd >= 0) {
		REAL.close(fd);
		errno = EINVAL;
	}
	fprintf(stderr, "sendcache: SENDCACHE_STATS_FILE %s: %s; it must be a "
		"regular file reached without a symlink; counters are not "
		"written there\n", config.stats_file,
		errno == EINVAL ? "not a regular file of one link" : strerror(errno));
	return -1;
}

void stats_dump_file(void)
{
	char buf[4096];
	size_t n;
	int fd;

	if ((fd = open_stats_file()) < 0)
		return;
	/* One write per process, so that dumps of exiting workers do not
	 * interleave. */
	n = (size_t)snprintf(buf, sizeof(buf), "pid %d\n", (int)getpid());
	n += stats_format(buf + n, sizeof(buf) - n);
	if (REAL.write(fd, buf, n) < 0)
		n = 0;
	REAL.close(fd);
}
