/* watch.h - invalidation: inotify on every directory of a cached path.
 *
 * All functions run under the cache lock. Events are not delivered by a
 * thread: the cache calls watch_poll() on each lookup, and it reads pending
 * events at most every check_ms milliseconds (one non-blocking read). An
 * event is queued by the kernel when the change happens, so any lookup that
 * starts check_ms or more after a change sees it (DESIGN.md §3.4). A name
 * that changed in the last second is "hot": each lookup of it reads the
 * events first (cache.c), so it is as fresh as the kernel's own answer.
 */
#ifndef SC_WATCH_H
#define SC_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What watch reports, to the module that owns the names (the cache). All
 * are called under that module's lock, from watch_poll(). */
struct watch_ops {
	/* Something at path changed. subtree: path is, or may be, a
	 * directory: everything below it is affected too. */
	void (*changed)(const char *path, bool subtree);
	/* The file (dev, ino) changed, through whatever name. */
	void (*file_changed)(dev_t dev, ino_t ino);
	/* Events were lost (queue overflow, the instance lost): every name. */
	void (*lost_all)(void);
};

/* Opens this process's inotify instance (unless config.inotify is 0) and
 * reports changes to ops from then on. Returns false when inotify is
 * unavailable: every name is revalidated. */
bool watch_init(const struct watch_ops *ops);

/* Watches every directory from "/" down to the parent of abs. Returns
 * false if any could not be watched (no inotify, ENOSPC, EACCES...): that
 * name must be revalidated by stat instead. */
bool watch_path(const char *abs);

/* True if inotify sees every change to files of the filesystem that holds
 * the open file fd (device dev): a local filesystem. On FUSE, NFS, SMB, 9p,
 * Ceph and the like a watch succeeds but reports only changes made through
 * this mount on this host, so their files are never cached. One fstatfs
 * per device, remembered. */
bool watch_fs_complete(int fd, dev_t dev);

/* Watches the inode of the open file fd: once watch_file_bind() has told
 * its (dev, ino), any change to its bytes or attributes, through whatever
 * name, calls ops->file_changed() (events are read under the cache lock:
 * bind before unlocking). Returns the watch (>= 0) for watch_file_put(),
 * or -1. A file watched twice shares one watch, counted. Made before the
 * file's snapshot is taken, so no change falls between. */
int watch_file(int fd);
void watch_file_bind(int wd, dev_t dev, ino_t ino);

/* Gives back a watch_file() made when watch_gen() was gen. */
void watch_file_put(int wd, unsigned gen);

/* Changes when every watch is forgotten (a fork, a lost instance): a
 * watch_file() of another generation is gone. */
unsigned watch_gen(void);

/* Reads pending events if check_ms has passed since the last read (or
 * force is true), and calls ops->changed() for each. now_ms is
 * CLOCK_MONOTONIC_COARSE. */
void watch_poll(uint64_t now_ms, bool force);

/* When events were last read (now_ms of that watch_poll), or 0 without
 * inotify: the age of the view of a process forked now. */
uint64_t watch_polled_ms(void);

/* In a forked child: the inotify fd is shared with the parent (both would
 * consume the same events). Called lazily before the child's first use:
 * closes the parent's instance (if the number is still ours) and opens a
 * fresh one. Watches are re-added as names are used again. */
void watch_after_fork(void);

/* The inotify fd was closed or replaced behind our back: forget it and
 * every watch (the caller drops the cache) without touching the number;
 * the next watch_poll() opens a new instance. */
void watch_lost(void);

/* The inotify fd, or -1. */
int watch_fd(void);

#endif
