/* watch.c - inotify watches on the directories of cached paths. */
#define _GNU_SOURCE
#include "watch.h"
#include "config.h"
#include "fdtab.h"
#include "path.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include "mem.h"             /* before uthash.h: its tables use mem.c */
#include <uthash.h>

/* A directory on the way to a cached file, its parent included, must
 * report changes to its entries (rename, delete, create, permission change
 * of a subdirectory) and its own removal. Writes to the files in it are
 * not asked for: a cached file's own inode reports those (MASK_FILE; a
 * name is trusted as watched only with that watch), and the parent's
 * IN_MODIFY made every write to any file beside a cached one an event to
 * read and dispatch (a log, an upload, nginx's access.log beside its
 * nginx.conf). IN_DONT_FOLLOW with IN_ONLYDIR: a symlink on the way is not
 * watched (its target's own way would not be), and names through it are
 * revalidated by stat instead. */
#define MASK_WAY  (IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | \
		   IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | \
		   IN_DONT_FOLLOW)
/* A cached file's own inode: a write, a truncate, a chmod or a link count
 * change made through any of its names, including one in a directory we
 * do not watch (a hard link elsewhere: the kernel reports a link count
 * change to the inode's watches only). */
#define MASK_FILE (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)
/* Reads of 16 KiB per poll, at most: about 30,000 events. */
#define POLL_READS_MAX 64

struct wdir {
	int wd;
	uint32_t mask;
	bool moved;             /* the path may name another directory now */
	UT_hash_handle hh;      /* by path */
	char path[];
};

/* One wd can stand for several paths (a directory reached through a
 * symlink and directly), so events are matched by a second table. */
struct wnum {
	int wd;
	int npaths;
	struct wdir **paths;
	UT_hash_handle hh;      /* by wd */
};

/* Devices already asked about by watch_fs_complete(). */
#define FS_SEEN_MAX 16

static struct {
	dev_t dev;
	bool complete;
} fs_seen[FS_SEEN_MAX];
static int nfs_seen;

/* The watch of a cached file's inode, shared by the entries of it (one
 * being replaced may outlive its successor's start). By wd. */
struct wfile {
	int wd;
	int refs;
	dev_t dev;
	ino_t ino;
	UT_hash_handle hh;
};

static struct wfile *files;
static unsigned wgen = 1;       /* bumped when every watch is forgotten */

static int ifd = -1;
static struct wdir *by_path;
static struct wnum *by_wd;
static uint64_t last_poll_ms;
static bool lost;               /* ifd was lost: a new one at the next poll */

int watch_fd(void)
{
	return ifd;
}

/* The reports' receiver (watch_init). */
static const struct watch_ops *ops;

/* Opens an instance: at init, after a fork, after the instance was lost. */
static bool watch_open(void)
{
	if (!config.inotify || !REAL_HAS(fcntl))
		return false;
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0)
		return false;
	/* Where the kernel put it, usually 3 at start: the one number of
	 * the server's the library takes. Not with the cache's at the top
	 * (fdtab.h): fork copies the descriptor table up to the highest
	 * number, and the table of 64 a process starts with suffices the
	 * parent of busybox httpd, which caches nothing (2,000 forks: 154 us
	 * a fork with nothing above 64, 163-183 with one at 1024, 248 at
	 * 15,000). */
	fdtab_set(ifd, FD_OURS, NULL);
	STAT_INC(fds_held);
	return true;
}

static void forget_all(void)
{
	struct wdir *d, *dt;
	struct wnum *n, *nt;
	struct wfile *f, *ft;

	HASH_ITER(hh, files, f, ft) {
		HASH_DEL(files, f);
		mem_free(f);
	}
	wgen++;
	HASH_ITER(hh, by_path, d, dt) {
		HASH_DEL(by_path, d);
		mem_free(d);
	}
	HASH_ITER(hh, by_wd, n, nt) {
		HASH_DEL(by_wd, n);
		mem_free(n->paths);
		mem_free(n);
	}
}

void watch_lost(void)
{
	/* The number is already someone else's (or about to be closed by
	 * the kernel, inside a close_range): do not touch it, and open the
	 * new instance only at the next poll. */
	if (ifd >= 0)
		STAT_SUB(fds_held, 1);
	ifd = -1;
	forget_all();
	lost = true;
}

void watch_after_fork(void)
{
	struct fd_slot *s = fdtab_get(ifd);

	/* Still ours (the server cannot close an FD_OURS number, and a
	 * number reused behind our back is no longer marked ours): close the
	 * instance inherited from the parent. */
	if (s && s->kind == FD_OURS) {
		fdtab_mark(s, FD_UNKNOWN, NULL);
		real.close(ifd);
	}
	if (ifd >= 0)
		STAT_SUB(fds_held, 1);
	ifd = -1;
	forget_all();
	watch_open();
}

/* Filesystems whose every change goes through this host's VFS, so that
 * inotify sees it (inotify(7), "Limitations and caveats"). Anything else,
 * known or not, is not trusted. overlayfs: changes to a lower layer under
 * a mounted overlay are undefined anyway (overlayfs docs). */
static bool fs_type_complete(unsigned long type)
{
	switch (type) {
	case EXT4_SUPER_MAGIC: case XFS_SUPER_MAGIC: case BTRFS_SUPER_MAGIC:
	case TMPFS_MAGIC: case RAMFS_MAGIC: case F2FS_SUPER_MAGIC:
	case OVERLAYFS_SUPER_MAGIC: case SQUASHFS_MAGIC: case ISOFS_SUPER_MAGIC:
	case 0x2fc12fc1:        /* zfs */
	case 0xca451a4e:        /* bcachefs */
	case 0x3153464a:        /* jfs */
	case REISERFS_SUPER_MAGIC:
	case MSDOS_SUPER_MAGIC: case 0x2011bab0: /* exfat */
	case 0x7366746e:        /* ntfs3 */
		return true;
	}
	return false;
}

static bool fs_type_of(int fd, const char *path, bool *complete)
{
	struct statfs sf;

	if (fd >= 0 ? fstatfs(fd, &sf) != 0 : !path || statfs(path, &sf) != 0)
		return false;
	*complete = fs_type_complete((unsigned long)sf.f_type);
	return true;
}

bool watch_fs_complete(int fd, dev_t dev)
{
	bool complete;
	int i;

	for (i = 0; i < nfs_seen; i++)
		if (fs_seen[i].dev == dev)
			return fs_seen[i].complete;
	if (!fs_type_of(fd, NULL, &complete))
		return false;
	if (nfs_seen < FS_SEEN_MAX) {
		fs_seen[nfs_seen].dev = dev;
		fs_seen[nfs_seen++].complete = complete;
	}
	return complete;
}

static bool wnum_add(int wd, struct wdir *d)
{
	struct wnum *n;
	struct wdir **p;

	HASH_FIND_INT(by_wd, &wd, n);
	if (!n) {
		n = mem_zalloc(sizeof(*n));
		if (!n)
			return false;
		n->wd = wd;
		HASH_ADD_INT(by_wd, wd, n);
	}
	p = mem_realloc(n->paths, (size_t)(n->npaths + 1) * sizeof(*p));
	if (!p)
		return false;
	p[n->npaths++] = d;
	n->paths = p;
	return true;
}

/* Drops the record of a path that no longer names the directory its watch
 * is on; the kernel's watch goes with the last path it stands for. */
static void wdir_drop(struct wdir *d)
{
	struct wnum *n;
	int i;

	HASH_FIND_INT(by_wd, &d->wd, n);
	for (i = 0; n && i < n->npaths; i++) {
		if (n->paths[i] != d)
			continue;
		n->paths[i] = n->paths[--n->npaths];
		break;
	}
	if (n && n->npaths == 0) {
		inotify_rm_watch(ifd, n->wd);
		HASH_DEL(by_wd, n);
		mem_free(n->paths);
		mem_free(n);
	}
	HASH_DEL(by_path, d);
	mem_free(d);
}

/* Watches one directory (dir[0..len)) with at least mask. */
static bool watch_dir(const char *dir, size_t len, uint32_t mask)
{
	struct wdir *d;
	char buf[PATH_MAX];
	bool complete;
	int wd;

	if (len == 0) {
		buf[0] = '/';
		len = 1;
	} else {
		memcpy(buf, dir, len);
	}
	buf[len] = 0;
	HASH_FIND(hh, by_path, buf, len, d);
	if (d && d->moved) {
		wdir_drop(d);
		d = NULL;
	}
	if (d && (d->mask & mask) == mask)
		return true;
	/* A directory of a filesystem whose changes we would not all hear
	 * of: its names are revalidated by stat. */
	if (!d && (!fs_type_of(-1, buf, &complete) || !complete)) {
		STAT_INC(watch_fail);
		return false;
	}
	wd = inotify_add_watch(ifd, buf, mask | IN_MASK_ADD);
	if (wd < 0) {
		STAT_INC(watch_fail);
		return false;
	}
	if (d && d->wd == wd) {
		d->mask |= mask;
		return true;
	}
	/* The path names another directory than when it was watched: a
	 * record is in one wnum only. */
	if (d)
		wdir_drop(d);
	d = mem_alloc(sizeof(*d) + len + 1);
	if (!d)
		return false;
	d->wd = wd;
	d->mask = mask;
	d->moved = false;
	memcpy(d->path, buf, len + 1);
	HASH_ADD(hh, by_path, path[0], len, d);
	return wnum_add(wd, d);
}

/* From the root down: a directory is watched only once every directory
 * above it is, so that a later change above it is an event that marks it
 * moved. Walking up from the leaf, a symlink on the way stopped the walk
 * after the directories below it were watched through the link: once the
 * link was re-pointed, nothing marked them, and a later path through the
 * same names was taken for watched (a remembered ENOTDIR outlived the
 * change that ended it). */
bool watch_path(const char *abs)
{
	size_t dirlen = path_dirlen(abs), i;

	if (ifd < 0)
		return false;
	for (i = 0; i < dirlen; i++)
		if ((i == 0 || abs[i] == '/') && !watch_dir(abs, i, MASK_WAY))
			return false;
	return watch_dir(abs, dirlen, MASK_WAY);
}

unsigned watch_gen(void)
{
	return wgen;
}

int watch_file(int fd)
{
	char proc[32];
	struct wfile *f;
	int wd;

	if (ifd < 0)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(ifd, proc, MASK_FILE | IN_MASK_ADD);
	if (wd < 0) {
		STAT_INC(watch_fail);
		return -1;
	}
	HASH_FIND_INT(files, &wd, f);
	if (!f) {
		if (!(f = mem_alloc(sizeof(*f)))) {
			inotify_rm_watch(ifd, wd);
			return -1;
		}
		f->wd = wd;
		f->refs = 0;
		f->dev = 0;
		f->ino = 0;
		HASH_ADD_INT(files, wd, f);
	}
	f->refs++;
	return wd;
}

void watch_file_bind(int wd, dev_t dev, ino_t ino)
{
	struct wfile *f;

	HASH_FIND_INT(files, &wd, f);
	if (f) {
		f->dev = dev;
		f->ino = ino;
	}
}

void watch_file_put(int wd, unsigned gen)
{
	struct wfile *f;

	if (wd < 0 || gen != wgen)
		return;
	HASH_FIND_INT(files, &wd, f);
	if (!f || --f->refs > 0)
		return;
	inotify_rm_watch(ifd, wd);
	HASH_DEL(files, f);
	mem_free(f);
}

/* An event on a file's own watch. */
static bool dispatch_file(const struct inotify_event *ev)
{
	struct wfile *f;
	dev_t dev;
	ino_t ino;

	HASH_FIND_INT(files, &ev->wd, f);
	if (!f)
		return false;
	dev = f->dev;
	ino = f->ino;
	/* The kernel dropped the watch: forget it before the entry gives it
	 * back (watch_file_put then finds nothing to remove). */
	if (ev->mask & IN_IGNORED) {
		HASH_DEL(files, f);
		mem_free(f);
	}
	/* May free f: the entry's watch_file_put() of the last reference. */
	ops->file_changed(dev, ino);
	return true;
}

/* True if path is a directory on the way to some cached name: only then
 * can a change to it affect more than the one name it spells. */
static bool is_way(const char *path)
{
	struct wdir *d;

	HASH_FIND(hh, by_path, path, strlen(path), d);
	return d != NULL;
}

/* The kernel dropped wd (its directory is gone): forget its paths so that
 * names cached under them later are watched anew. */
static void forget_wd(struct wnum *n)
{
	int i;

	for (i = 0; i < n->npaths; i++) {
		ops->changed(n->paths[i]->path, true);
		HASH_DEL(by_path, n->paths[i]);
		mem_free(n->paths[i]);
	}
	HASH_DEL(by_wd, n);
	mem_free(n->paths);
	mem_free(n);
}

/* The directory at path (and so everything under it) was moved, removed or
 * replaced: each watched path from there down may name another directory
 * now, or none. Marked, and watched anew when next used (watch_dir). A
 * watch follows its inode, not its path: without this a directory swapped
 * in under the old name would be taken for watched. */
static void moved_under(const char *path)
{
	size_t len = strlen(path);
	struct wdir *d, *t;

	HASH_ITER(hh, by_path, d, t)
		if (!strncmp(d->path, path, len) &&
		    (d->path[len] == 0 || d->path[len] == '/'))
			d->moved = true;
}

#define MASK_RENAMES (IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE)
#define MASK_GONE (IN_MOVE_SELF | IN_DELETE_SELF)

/* Reports one event against every path its wd stands for. */
static void dispatch(const struct inotify_event *ev)
{
	struct wnum *n;
	char buf[PATH_MAX];
	int i;

	if (dispatch_file(ev))
		return;
	HASH_FIND_INT(by_wd, &ev->wd, n);
	if (!n)
		return;
	if (ev->mask & IN_IGNORED) {
		forget_wd(n);
		return;
	}
	for (i = 0; i < n->npaths; i++) {
		const char *dir = n->paths[i]->path;
		size_t dl = strlen(dir);

		if (ev->len == 0 || dl + 1 + strlen(ev->name) + 1 > sizeof(buf)) {
			if (ev->mask & MASK_GONE)
				moved_under(dir);
			ops->changed(dir, true);
			continue;
		}
		if (dl == 1)
			dl = 0;                     /* "/" + name */
		memcpy(buf, dir, dl);
		buf[dl] = '/';
		strcpy(buf + dl + 1, ev->name);
		if ((ev->mask & MASK_RENAMES) && is_way(buf))
			moved_under(buf);
		ops->changed(buf, is_way(buf));
	}
}

uint64_t watch_polled_ms(void)
{
	return ifd >= 0 ? last_poll_ms : 0;
}

void watch_poll(uint64_t now_ms, bool force)
{
	/* Not on the stack: a frame of 16 KiB puts this call's locals five
	 * pages down the stack, a page a forking parent would copy at each
	 * fork that polls. Its callers hold the cache's lock (or are alone). */
	static char buf[16384]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int reads = 0;

	if (lost) {
		lost = false;
		watch_open();
	}
	if (ifd < 0 || (!force && now_ms - last_poll_ms < config.check_ms))
		return;
	last_poll_ms = now_ms;
	/* Bounded, so that a number that is no longer an inotify instance
	 * (/dev/zero reads forever) cannot keep us here. */
	for (;;) {
		char *p = buf;

		if (reads++ == POLL_READS_MAX) {
			/* Events may be left unread: forget everything
			 * rather than serve what they would invalidate. */
			ops->lost_all();
			break;
		}
		n = real.read(ifd, buf, sizeof(buf));
		if (n <= 0)
			break;
		while (p + sizeof(struct inotify_event) <= buf + n) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				ops->lost_all();
			else
				dispatch(ev);
			p += sizeof(*ev) + ev->len;
		}
		/* A short read means the queue is drained: spare the
		 * read that would only say EAGAIN. */
		if ((size_t)n < sizeof(buf) / 2)
			break;
	}
}

bool watch_init(const struct watch_ops *o)
{
	ops = o;
	return watch_open();
}
