/* send.h - the send engine: held-back headers, merged sends.
 *
 * A write to a TCP socket is held back (reported as written, kept in a
 * per-socket buffer) when the server corked the socket (its TCP_CORK lives
 * here, not in the kernel), passed MSG_MORE, or wrote exactly one HTTP/1.x
 * response head. The next sendfile from a cached, mapped file sends header
 * and body with one writev; anything else that touches the socket, or the
 * thread's next blocking point, flushes first (DESIGN.md §4).
 */
#ifndef SC_SEND_H
#define SC_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fdtab.h"

struct cache_inode;

/* What the send rows (send_in.h) make and free for a cached file, under
 * the cache lock. send_prepare: at admission, and when a descriptor of a
 * file this process has no mapping of is handed out (a forked child),
 * each row that makes its resource then and fits the file (the writev
 * row maps it; not in a process warming up, SENDCACHE_PREWARM).
 * send_release: at the entry's end, each row's. */
void send_prepare(struct cache_inode *ino);
void send_release(struct cache_inode *ino);

/* The server closed fd, a descriptor of ino's we hold: true when it was
 * a row's resource (the pipe row's pipe), now forgotten. */
bool send_lost(struct cache_inode *ino, int fd);

/* The mapped bytes (whole pages) the writev row maps for a file of size
 * bytes: 0 when it would not; and the most it maps for any file. */
size_t send_map_need(off_t size);
size_t send_map_most(void);

/* In a process that woke after fork: of the writev row's mappings, only
 * held bytes (those the server holds, inherited) are this process's. */
void send_maps_kept(size_t held);

/* fd_slot.corked, send's: the server's TCP_CORK, kept in user space
 * (CORK_KERNEL: set in the kernel, as while paused); CORK_MORE:
 * bytes went out with MSG_MORE under it, which its uncork must push;
 * CORK_NODELAY: TCP_NODELAY is set on the socket by us (send.c
 * corked_sent), NODELAY_SERVER: by the server. */
#define CORK_SERVER 1
#define CORK_MORE 2
#define CORK_KERNEL 4   /* the server's cork went to the kernel (paused) */
#define CORK_NODELAY 8
#define NODELAY_SERVER 16

/* The slot of fd if it is a TCP socket (classifying it on first sight),
 * else NULL. */
struct fd_slot *send_tcp_slot(int fd);

/* True if bytes are held back on the TCP socket of slot s. */
bool send_holds(const struct fd_slot *s);

/* Offers a write of iov (total n bytes, flags as for send) on TCP socket
 * fd to the engine. Returns true if the engine took it, with the call's
 * result in *ret (errno set when -1); false if the caller must make the
 * real call itself (nothing is held on the socket then). */
bool send_offer(int fd, struct fd_slot *s, const struct iovec *iov,
		int iovcnt, int flags, ssize_t *ret);

/* sendfile(out, in, off, count) with merging. Same contract as sendfile(2),
 * except that it never returns 0 for count > 0 unless the real call did. */
ssize_t send_sendfile(int out, int in, off_t *off, size_t count);

/* Sends what is held on fd before the server reads from it, shuts it down
 * or closes it. Waits for room if needed (bounded). */
void send_flush_fd(int fd, struct fd_slot *s);

/* The thread is about to block: flush everything it holds. */
void send_flush_thread(void);

/* In a forked child that wakes, the forking thread's list of sockets
 * holding bytes is its parent's: forgotten (fdtab_after_fork clears the
 * slots). */
void send_after_fork(void);

/* TCP_CORK set by the server (kept in user space); uncorking flushes. */
void send_cork(int fd, struct fd_slot *s, bool on);

/* True if the server's TCP_CORK on s is kept here (send_cork). False
 * while paused (sendcache-ctl), unless s is corked here from before, and
 * while the kernel holds a cork set then: that call goes to the kernel,
 * through send_kernel_cork(). */
bool send_cork_here(const struct fd_slot *s);

/* setsockopt(TCP_CORK, on) made by the kernel, what it holds sent
 * first. Returns its result. */
int send_kernel_cork(int fd, struct fd_slot *s, bool on);

/* The server sets TCP_NODELAY on s (passed on to the kernel): ours, if
 * any (corked_sent), is replaced by the server's. */
void send_nodelay(struct fd_slot *s, bool on);

/* If a flush of ours took the connection's error (ECONNRESET...) from the
 * kernel, which reports it once, sets errno to it, forgets it and returns
 * true: the server's call on the socket must fail with it. */
bool send_take_error(struct fd_slot *s);

/* fd is gone (closed for real or reborn): free its held bytes. */
void send_forget(struct fd_slot *s);

/* fdtab_ops.send_end: s's held bytes (sent first if flush) and cork end. */
void send_end(int fd, struct fd_slot *s, bool flush);

/* True if send keeps anything for s: a hold (even emptied) or a cork. */
static inline bool send_tracks(const struct fd_slot *s)
{
	return s->hold || s->corked;
}

/* True if s has a hold allocated (held bytes, or an error kept). */
static inline bool send_has_hold(const struct fd_slot *s)
{
	return s->hold != NULL;
}

/* getsockopt(TCP_CORK or TCP_NODELAY) as the server set it, when kept
 * here: true with *v set; false if the kernel's answer is the server's. */
bool send_sockopt_kept(const struct fd_slot *s, int opt, int *v);

/* True if data (n bytes in iov) is exactly one HTTP/1.x response head:
 * "HTTP/1.x NNN ..." ending with the first blank line. Exposed for tests
 * and fuzzing. */
bool send_is_http_head(const char *buf, size_t n);

#endif
