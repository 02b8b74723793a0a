/* creds.c - credential changes (set*id, setgroups, initgroups, setfs*id,
 * capset, and syscall(2) making any of them): what may be opened changes,
 * so the cache is dropped; a thread changing its own stops the cache
 * answering paths at all. */
#define _GNU_SOURCE
#include "engine.h"
#include "engine_in.h"
#include "cache.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static int creds_changed(int rc)
{
	if (rc == 0 && sc_state == SC_ON && on_wake()) {
		cache_drop_all();
		ctl_creds();
	}
	return rc;
}

int sc_setuid(uid_t u)
{ sc_init(); stats_uid_changing(u, u); return creds_changed(REAL.setuid(u)); }
int sc_setgid(gid_t g)
{ sc_init(); return creds_changed(REAL.setgid(g)); }
int sc_seteuid(uid_t u)
{ sc_init(); return creds_changed(REAL.seteuid(u)); }
int sc_setegid(gid_t g)
{ sc_init(); return creds_changed(REAL.setegid(g)); }
int sc_setreuid(uid_t r, uid_t e)
{ sc_init(); stats_uid_changing(r, e); return creds_changed(REAL.setreuid(r, e)); }
int sc_setregid(gid_t r, gid_t e)
{ sc_init(); return creds_changed(REAL.setregid(r, e)); }
int sc_setresuid(uid_t r, uid_t e, uid_t s)
{ sc_init(); stats_uid_changing(r, e); return creds_changed(REAL.setresuid(r, e, s)); }
int sc_setresgid(gid_t r, gid_t e, gid_t s)
{ sc_init(); return creds_changed(REAL.setresgid(r, e, s)); }
int sc_setgroups(size_t n, const gid_t *list)
{ sc_init(); return creds_changed(REAL.setgroups(n, list)); }
int sc_initgroups(const char *user, gid_t g)
{ sc_init(); return creds_changed(REAL.initgroups(user, g)); }

/* True if this process has one thread. Asked after a thread changed its
 * own credentials: if it is alone, it was alone when it made the change,
 * and every thread there will ever be descends from it with its
 * credentials. proc(5): /proc/self/task has 2 links plus one per thread. */
static bool single_threaded(void)
{
	struct stat st;

	return REAL.fstatat(AT_FDCWD, "/proc/self/task", &st, 0) == 0 &&
	       st.st_nlink == 3;
}

/* A thread's own credentials changed: drop everything and, if other
 * threads keep theirs, stop answering paths from the cache (the flag is
 * set before the drop, so no open that starts after it caches again). */
static void creds_split(void)
{
	if (sc_state != SC_ON || !on_wake())
		return;
	if (!single_threaded() &&
	    !__atomic_exchange_n(&creds_per_thread, true, __ATOMIC_ACQ_REL))
		fprintf(stderr, "sendcache: a thread changed its own credentials; "
			"files are no longer answered from the cache\n");
	cache_drop_all();
}

/* setfsuid and setfsgid return the previous id whether or not they
 * changed it: any call with an id (not -1, which only asks) may have. */
static int fs_id_set(int rc, bool asked_only)
{
	if (!asked_only)
		creds_split();
	return rc;
}

int sc_setfsuid(uid_t u)
{ sc_init(); return fs_id_set(REAL.setfsuid(u), u == (uid_t)-1); }
int sc_setfsgid(gid_t g)
{ sc_init(); return fs_id_set(REAL.setfsgid(g), g == (gid_t)-1); }

int sc_capset(void *hdr, void *data)
{
	int rc;

	sc_init();
	rc = REAL.capset(hdr, data);
	if (rc == 0)
		creds_split();
	return rc;
}

static bool changes_creds(long n)
{
	switch (n) {
	case SYS_setuid: case SYS_setgid: case SYS_setreuid: case SYS_setregid:
	case SYS_setresuid: case SYS_setresgid: case SYS_setfsuid:
	case SYS_setfsgid: case SYS_setgroups: case SYS_capset:
		return true;
	}
	return false;
}

long sc_syscall(long n, const long a[6])
{
	long rc;
	int saved;

	if (n == SYS_setuid)
		stats_uid_changing((uid_t)a[0], (uid_t)a[0]);
	else if (n == SYS_setreuid || n == SYS_setresuid)
		stats_uid_changing((uid_t)a[0], (uid_t)a[1]);
	/* Never starts sendcache: called while libc's names are being
	 * resolved, it goes straight to the kernel. */
	rc = REAL.syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (changes_creds(n) && (rc == 0 || n == SYS_setfsuid ||
				 n == SYS_setfsgid)) {
		saved = errno;
		creds_split();
		errno = saved;
	}
	return rc;
}
