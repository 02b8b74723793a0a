/* segment.h - a sendcache stats segment as the command-line tools see
 * it: found among /dev/shm's (the only one, or by name), left-over ones
 * swept, opened read-only, copied whole into private memory and checked
 * (shm_validate), a reading of its counters taken (shm_sum). The segment
 * is untrusted input (DESIGN.md 11): every failure is one line on stderr,
 * headed by seg_prog, and its own exit status.
 */
#ifndef SC_CLI_SEGMENT_H
#define SC_CLI_SEGMENT_H

#include "shm.h"

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define SHM_DIR "/dev/shm"
/* shm_open(3) names are files of /dev/shm: "/sendcache.NAME" there. */
#define SHM_PATH SHM_DIR SC_SHM_PREFIX          /* + instance name */

/* The program's name, at the head of its messages. */
extern const char *seg_prog;

/* Exit statuses, the same for every tool. */
enum stat_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,          /* an unexpected system error (mmap, write) */
	EXIT_USAGE = 2,
	EXIT_NOSEG = 3,         /* no such segment (ENOENT) */
	EXIT_PERM = 4,          /* permission denied (EACCES) */
	EXIT_LAYOUT = 5,        /* bad magic, other version, bad layout */
	EXIT_SEVERAL = 6,       /* several instances and no -n */
	EXIT_NOSLOT = 7,        /* -p PID has no slot */
};

/* An open segment, the identity of the instance, and the last copy read
 * of it (private memory: the segment is untrusted, DESIGN.md 11). */
struct stat_seg {
	char name[SC_SHM_NAME_MAX + 1];
	int fd;
	struct sc_shm_header *h;        /* the copy */
	size_t len;
	uint32_t nslots;                /* validated at the first read */
};

/* One reading of the segment. */
struct stat_snap {
	int live;
	struct sc_counters c;
	struct timespec at;     /* CLOCK_MONOTONIC, for rates */
};

/* Prints "PROG: MESSAGE (see PROG -h)" on stderr; returns EXIT_USAGE. */
int seg_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* At the end of main: flushes stdout; a failed write is reported and
 * turns an rc of EXIT_OK into EXIT_FAIL. Returns the exit status. */
int seg_finish(int rc);

/* Whether name is an instance name: 1 to SC_SHM_NAME_MAX bytes, no '/'. */
bool seg_valid_name(const char *name);

/* Removes the segments of this user (any, for root) that no process
 * counts in any more and no process maps, older than two seconds. */
void seg_sweep_stale(void);

/* Finds the only sendcache.* object in /dev/shm and copies its instance
 * name into seg->name. Returns EXIT_OK, EXIT_NOSEG, EXIT_PERM or
 * EXIT_SEVERAL after a message. */
int seg_find(struct stat_seg *seg);

/* Opens the segment of seg->name read-only and reads a first copy.
 * Returns EXIT_OK with seg set, or an exit status after a message. */
int seg_open(struct stat_seg *seg);

/* The same, the file opened with mode (O_RDONLY, or O_RDWR to control
 * it: EXIT_PERM for who may only read). */
int seg_open_mode(struct stat_seg *seg, int mode);

/* A fresh copy into seg->h (see segment.c). EXIT_OK or a status. */
int seg_read(struct stat_seg *seg);

/* Whether the copy has a slot of process pid. */
bool seg_has_slot(const struct stat_seg *seg, pid_t pid);

/* A fresh reading into s: every process's counts, or pid's (> 0).
 * Returns EXIT_OK or an exit status after a message. */
int seg_snap(struct stat_seg *seg, pid_t pid, struct stat_snap *s);

#endif
