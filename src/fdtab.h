/* fdtab.h - what we know of each fd number of this process.
 *
 * An array indexed by fd number, mapped lazily (untouched pages cost
 * nothing) and sized once from the hard RLIMIT_NOFILE. Numbers above it are
 * never tracked: every call on them is forwarded as it is.
 */
#ifndef SC_FDTAB_H
#define SC_FDTAB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum fd_kind {
	FD_UNKNOWN = 0,  /* not classified yet (default of a fresh slot) */
	FD_OTHER,        /* anything we leave alone: files, pipes, UNIX, UDP */
	FD_TCP,          /* a TCP socket: candidate for holds and merges */
	FD_HANDED,       /* a cached file's descriptor, given to the server */
	FD_POOL,         /* a cached file's spare descriptor, ours */
	FD_OURS,         /* ours for good: an entry's master, the inotify fd */
};

struct hold;
struct cache_inode;

struct fd_slot {
	uint8_t kind;
	uint8_t corked;         /* TCP: send.c's cork bits (send.h) */
	uint8_t cloexec;        /* HANDED: FD_CLOEXEC as the server sees it */
	uint8_t hlock;          /* TCP: guards hold (a spin flag) */
	uint8_t adopted;        /* HANDED: the server's own open, closed for real */
	int oflags;             /* HANDED: open flags, for F_GETFL */
	off_t pos;              /* HANDED: the server's own file position */
	struct cache_inode *ino;/* HANDED, POOL */
	struct hold *hold;      /* TCP: bytes held back, or NULL */
};

extern struct fd_slot *fdtab;
extern int fdtab_size;
/* Set in a process whose forked children never wake (cache_fork.c):
 * fdtab_born() leaves a fresh slot unknown, so that the number of a
 * connection it accepts and closes after the fork writes no page. */
extern bool fdtab_lazy;

/* What the end of a descriptor means to the modules that keep state in
 * its slot, given once to fdtab_init(). */
struct fdtab_ops {
	/* fd, a descriptor of the cache's (HANDED, POOL, OURS), is gone
	 * or about to be: the cache forgets it (and its kind). */
	void (*lost)(int fd, struct fd_slot *s);
	/* fd's send state ends (held bytes, cork); flush: what is held
	 * goes out first, the socket being still open. */
	void (*send_end)(int fd, struct fd_slot *s, bool flush);
};

/* Maps the table. Returns false (and sendcache stays off) if it cannot. */
bool fdtab_init(const struct fdtab_ops *ops);

/* The lowest number of the library's own descriptors. The kernel gives a
 * process the lowest free number; a server may size a table by a limit of
 * its own below RLIMIT_NOFILE and index it by descriptor (lighttpd:
 * min(soft limit, 4096) slots), trusting that numbers never pass the
 * count it holds. So ours live at the top, from the soft limit (at most
 * FDTAB_TOP, or twice a larger budget) down by the descriptor budget and
 * FDTAB_SPARE: every number the server would be given alone stays free
 * for it. */
extern int fdtab_base;
#define FDTAB_TOP 32768
#define FDTAB_SPARE 16

/* Sets fdtab_base for a budget of budget descriptors under the current
 * soft limit. */
void fdtab_set_base(size_t budget);

/* A close-on-exec duplicate of fd at or above fdtab_base, or -1 (errno
 * set; EINVAL if the soft limit fell under fdtab_base). Never a lower
 * number: that one may be the server's next. */
int fdtab_dup_high(int fd);

/* The slot of fd, or NULL for a number we do not track. */
static inline struct fd_slot *fdtab_get(int fd)
{
	if (__builtin_expect(fd < 0 || fd >= fdtab_size, 0))
		return 0;
	return &fdtab[fd];
}

/* The one writer of a slot's kind: s is now of kind (enum fd_kind), of
 * entry ino (HANDED, POOL, OURS of an entry; else NULL), at position 0,
 * not adopted. */
static inline void fdtab_mark(struct fd_slot *s, int kind,
			      struct cache_inode *ino)
{
	s->kind = (uint8_t)kind;
	s->ino = ino;
	s->pos = 0;
	s->adopted = 0;
}

/* fdtab_mark() by number; nothing for a number we do not track. */
static inline void fdtab_set(int fd, int kind, struct cache_inode *ino)
{
	struct fd_slot *s = fdtab_get(fd);

	if (s)
		fdtab_mark(s, kind, ino);
}

/* A descriptor of the cache's: HANDED, POOL or OURS. */
static inline bool fdtab_is_cache(const struct fd_slot *s)
{
	return s->kind == FD_HANDED || s->kind == FD_POOL || s->kind == FD_OURS;
}

/* fd was just returned by the kernel: whatever was known of its number
 * is void (a number the cache thought its own was closed behind its back
 * and reused). It is of kind from now on. */
void fdtab_born(int fd, int kind);

/* The kernel is about to close fd (close, dup2 over it): its state ends,
 * held bytes going out first. */
void fdtab_closing(int fd, struct fd_slot *s);

/* fdtab_closing() for every tracked number from lo to hi. */
void fdtab_closing_range(unsigned lo, unsigned hi);

/* A forked child wakes: what it did while asleep went by us, so every
 * slot but the cache's (HANDED, POOL, OURS) starts over, UNKNOWN. */
void fdtab_after_fork(void);

/* Classifies an UNKNOWN slot as FD_TCP or FD_OTHER (one or two getsockopt
 * calls, once per fd lifetime). Returns the kind. */
int fdtab_classify(int fd, struct fd_slot *s);

#endif
