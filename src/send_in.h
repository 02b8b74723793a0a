/* send_in.h - what send.c shares with its strategy rows (send_writev.c,
 * send_pipe.c, send_sendfile.c), not for other modules. */
#ifndef SC_SEND_IN_H
#define SC_SEND_IN_H

#include "cache.h"
#include "fdtab.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Response heads of nginx, lighttpd and Apache are a few hundred bytes;
 * anything larger than this passes through in order. */
#define HOLD_MAX 8192

struct hold {
	const void *owner;     /* the thread whose blocking point flushes it */
	size_t len;
	/* The connection's error (ECONNRESET...) as a flush of ours took it
	 * from the kernel, which reports it once: it belongs to the server's
	 * next call on the socket. */
	int err;
	char buf[HOLD_MAX];
};

static inline size_t held_len(const struct fd_slot *s)
{
	return s->hold ? s->hold->len : 0;
}

/* Result of account() when every held byte went out but none of the
 * caller's: the caller must try its own bytes with the real call, whose
 * EAGAIN (if any) arms the edge-triggered EPOLLOUT a server waits for, and
 * whose answer for a truncated file is the one the server would get. */
#define ONLY_HELD (-2)

/* Accounts for a send of held bytes + n of the caller's bytes that
 * returned r: held bytes go first, the caller learns only of its own.
 * A short write inside the held bytes is EAGAIN: the socket is full. */
ssize_t send_account(struct fd_slot *s, ssize_t r, size_t n);

/* A send under the server's cork went out: TCP_NODELAY once per
 * connection (send.c). Keeps errno. */
void send_corked_sent(int fd, struct fd_slot *s);

/* Sends the held bytes alone, with flags. 0 when all went out, -1 with
 * errno otherwise (EAGAIN: the rest is still held). */
int send_hold_out(int fd, struct fd_slot *s, int flags);

/* A sendfile call with held bytes, as the strategies see it. */
struct body {
	int out, in;
	struct fd_slot *os;       /* out's slot, hold locked */
	struct cache_inode *ino;  /* in's entry, or NULL: not a cached file */
	off_t *offp;              /* the offset sendfile uses and advances */
	size_t count;
};

/* A strategy's answer when it cannot take this body: nothing of the
 * body went out, and what is still held stays held (or went out with
 * MSG_MORE), for the next row of the table. */
#define DECLINE (-3)

/* Strategy rows take the body only from a fresh cached file. */
bool send_cached(const struct body *b);

/* After a head went out with MSG_MORE alone, r from the body's send: the
 * head is pushed if no body byte followed. */
ssize_t send_after_more(int out, ssize_t r);

/* A way to send a body after held bytes, with what it sends from: the
 * first row of send.c's table whose send() does not DECLINE sends it.
 * A row's resource for a cached file (the writev row's mapping, the pipe
 * row's pipe) is made, counted in the budgets and freed by the row alone,
 * under the cache lock; struct cache_inode only holds it. */
struct send_row {
	const char *name;
	/* Whether the row can send a whole file of size bytes: its bound,
	 * read in the row's own files only (send_writev.c; send_pipe.c
	 * and pipe.c). */
	bool (*fits)(off_t size);
	/* Makes the row's resource for ino (send.h, send_prepare; NULL:
	 * the row makes it at its first send). */
	void (*prepare)(struct cache_inode *ino);
	ssize_t (*send)(struct body *b);
	/* Frees ino's resource, if any (NULL: none). */
	void (*release)(struct cache_inode *ino);
	/* The server closed fd, a descriptor of ino's we hold: true when it
	 * was the row's resource, which is now forgotten (NULL: none). */
	bool (*lost)(struct cache_inode *ino, int fd);
};
extern const struct send_row send_by_writev, send_by_pipe, send_by_sendfile;

#endif
