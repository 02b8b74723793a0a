/* blocking.c - the calls a server waits in (epoll, poll, select, accept):
 * what this thread holds goes out before it waits (DESIGN.md §4), and a
 * sleeping child that waits is a server process: it wakes. */
#define _GNU_SOURCE
#include "engine.h"
#include "engine_in.h"
#include "fdtab.h"
#include "real.h"
#include "send.h"


/* Blocking points: the thread's held bytes go out first (DESIGN.md §4);
 * a prewarm sendcache-ctl asked for is done here, where the process
 * would otherwise wait. */
static void blocking(void)
{
	if (sc_state == SC_ON && on_wake()) {
		send_flush_thread();
		if (__builtin_expect(__atomic_load_n(&ctl_prewarm_due,
						     __ATOMIC_RELAXED), 0))
			ctl_prewarm();
	}
}

/* A server that arms a socket in an epoll set waits for it next, perhaps
 * in another thread whose blocking points do not flush this one's bytes:
 * Apache's event MPM hands a keep-alive connection to its listener thread
 * and parks the worker on a condition variable, which we do not see. What
 * the socket holds (the head of a 304 or a HEAD answer) goes out now. */
int sc_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct fd_slot *s;

	if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && on_fd(fd, -1) &&
	    (s = fdtab_get(fd)) != NULL && send_has_hold(s))
		send_flush_fd(fd, s);
	return REAL.epoll_ctl(epfd, op, fd, ev);
}

int sc_epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout)
{
	blocking();
	return REAL.epoll_wait(epfd, ev, n, timeout);
}

int sc_epoll_pwait(int epfd, struct epoll_event *ev, int n, int timeout,
		   const sigset_t *mask)
{
	blocking();
	return REAL.epoll_pwait(epfd, ev, n, timeout, mask);
}

int sc_epoll_pwait2(int epfd, struct epoll_event *ev, int n,
		    const struct timespec *timeout, const sigset_t *mask)
{
	blocking();
	return REAL.epoll_pwait2(epfd, ev, n, timeout, mask);
}

int sc_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	blocking();
	return REAL.poll(fds, n, timeout);
}

int sc_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
	     const sigset_t *mask)
{
	blocking();
	return REAL.ppoll(fds, n, timeout, mask);
}

int sc_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	blocking();
	return REAL.select(n, r, w, e, tv);
}

int sc_pselect(int n, fd_set *r, fd_set *w, fd_set *e,
	       const struct timespec *ts, const sigset_t *mask)
{
	blocking();
	return REAL.pselect(n, r, w, e, ts, mask);
}

int sc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags,
	       int use_accept4)
{
	struct fd_slot *ls;
	int nfd;

	blocking();
	do
		nfd = use_accept4 ? REAL.accept4(fd, addr, len, flags)
				  : REAL.accept(fd, addr, len);
	while (emfile_again(nfd));
	if (nfd >= 0 && on()) {
		/* A connection accepted on a TCP listener is TCP: no need to
		 * ask the kernel about each one. */
		ls = send_tcp_slot(fd);
		fdtab_born(nfd, ls ? FD_TCP : FD_UNKNOWN);
	}
	return nfd;
}
