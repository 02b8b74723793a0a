/* pipe.h - sending a cached pipe's bytes: tee into a scratch pipe of the
 * thread's, then splice to the socket.
 *
 * tee duplicates the cached pipe's buffers (page references, no copy)
 * without consuming them, so one pipe filled once serves every request;
 * splice then hands the scratch pipe's pages to the socket.
 */
#ifndef SC_PIPE_H
#define SC_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A pipe is made a page larger than the bytes it holds: its buffers are
 * whole pages. */
#define PIPE_PAGE 4096

/* Sends the first n bytes held by pipe src to socket out. Returns n, the
 * bytes sent if the socket took fewer (what remained in the scratch pipe
 * is dropped with it), or -1 with errno from splice (EAGAIN, EPIPE...).
 * Returns -2 (errno unchanged) when it could not start: no scratch pipe
 * (EMFILE, EPERM), or tee took fewer than n bytes; nothing was sent. */
ssize_t pipe_send(int out, int src, size_t n);

/* Whether a file of size bytes is sent from a cached pipe: at most
 * SENDCACHE_PIPE_MAX, and with a page to spare under fs.pipe-max-size
 * (read once). The pipe row's bound, read here only. */
bool pipe_fits(size_t size);

/* In a forked child: the scratch pipe is the parent's too; forget it. */
void pipe_after_fork(void);

#endif
