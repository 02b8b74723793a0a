/* credcheck - what open, stat and access answer before and after a change
 * of credentials, for t4005; run as root, with and without the library.
 *
 * usage: credcheck DIR SCENARIO
 *
 * DIR holds (made by the test): f600 (mode 0600, owned by another user),
 * d700/f (a readable file in a directory of mode 0700, another user's),
 * g640 (mode 0640, group GID), d750/f (directory mode 0750, group GID),
 * f644 and link -> f644. GID is the number in DIR/gid.
 *
 * Every scenario first asks about every file twice as root (the second
 * round is answered from the cache when the library is loaded), then
 * changes credentials one way, then asks again (thread-*: a second
 * thread, still root, asks in between). Each answer is one line,
 * "STEP CALL NAME: ok" or "...: ERRNO", so that the two runs can be
 * compared line by line. Exit status 0 unless a credential call failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "compat.h"

#define NOBODY 65534

/* glibc exports capset but declares it nowhere (libcap's header does). */
extern int capset(cap_user_header_t h, cap_user_data_t d);

static const char *const names[] = { "f600", "d700/f", "g640", "d750/f",
				     "f644", "link" };
static gid_t group_gid;

static const char *result(int rc)
{
	static char buf[32];

	if (rc >= 0)
		return "ok";
	snprintf(buf, sizeof(buf), "%s", errno_name(errno));
	return buf;
}

/* One open, read of a byte, close: what a server does with a file. */
static int open_read(const char *name, int flags)
{
	char c;
	int fd = open(name, flags);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return close(fd);
}

static void probe(const char *step)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];

		printf("%s open %s: %s\n", step, n, result(open_read(n, O_RDONLY)));
		printf("%s stat %s: %s\n", step, n, result(stat(n, &st)));
		printf("%s lstat %s: %s", step, n, result(lstat(n, &st)));
		printf(" %s\n", S_ISLNK(st.st_mode) ? "link" : "");
		printf("%s access %s: %s\n", step, n, result(access(n, R_OK)));
		printf("%s nofollow %s: %s\n", step, n,
		       result(open_read(n, O_RDONLY | O_NOFOLLOW)));
	}
	fflush(stdout);
}

static int must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "credcheck: %s: %s\n", what, strerror(errno));
		exit(2);
	}
	return rc;
}

/* setfsuid and setfsgid say nothing of failure: ask again. */
static void fs_ids(uid_t u, gid_t g)
{
	setfsgid(g);
	setfsuid(u);
	if ((uid_t)setfsuid((uid_t)-1) != u || (gid_t)setfsgid((gid_t)-1) != g) {
		fprintf(stderr, "credcheck: setfsuid/setfsgid did not take\n");
		exit(2);
	}
}

/* All effective capabilities dropped; uid stays 0. */
static void drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	must((int)syscall(SYS_capget, &h, d), "capget");
	d[0].effective = d[1].effective = 0;
	must(capset(&h, d), "capset");
}

/* Drops root's rights the way SCENARIO names: one call alone, so that
 * it alone must make the library forget what root could open, or the
 * usual sequence of a server (full, initgroups). */
static void drop(const char *s)
{
	gid_t none[1] = { NOBODY };

	if (!strcmp(s, "full")) {
		must(setgroups(1, none), "setgroups");
		must(setgid(NOBODY), "setgid");
		must(setuid(NOBODY), "setuid");
	} else if (!strcmp(s, "initgroups")) {
		must(initgroups("nobody", NOBODY), "initgroups");
		must(setgid(NOBODY), "setgid");
		must(setuid(NOBODY), "setuid");
	} else if (!strcmp(s, "setuid")) {
		must(setuid(NOBODY), "setuid");
	} else if (!strcmp(s, "setresuid")) {
		must(setresuid(NOBODY, NOBODY, NOBODY), "setresuid");
	} else if (!strcmp(s, "setreuid")) {
		must(setreuid(NOBODY, NOBODY), "setreuid");
	} else if (!strcmp(s, "seteuid")) {
		must(seteuid(NOBODY), "seteuid");
	} else if (!strcmp(s, "setfsuid")) {
		fs_ids(NOBODY, 0);
	} else if (!strcmp(s, "capset")) {
		drop_caps();
	} else if (!strcmp(s, "syscall")) {
		/* A raw system call changes the calling thread only; this
		 * program has one. */
		must((int)syscall(SYS_setuid, NOBODY), "SYS_setuid");
	} else {
		fprintf(stderr, "credcheck: no scenario %s\n", s);
		exit(2);
	}
}

/* The other way: nobody is refused the group's files, then gets the
 * group (setgroups, back as root through the saved uid) and must be let
 * in. With "fs", the same through setfsuid/setfsgid. */
static void gain(const char *s)
{
	gid_t none[1] = { NOBODY }, with[2] = { NOBODY, group_gid };
	bool fs = !strcmp(s, "gain-fs");

	must(setgroups(1, none), "setgroups");
	if (fs) {
		fs_ids(NOBODY, NOBODY);
	} else {
		must(setegid(NOBODY), "setegid");
		must(seteuid(NOBODY), "seteuid");
	}
	probe("nobody");
	probe("nobody-again");
	if (fs) {
		fs_ids(0, 0);
		must(setgroups(2, with), "setgroups");
		fs_ids(NOBODY, NOBODY);
	} else {
		must(seteuid(0), "seteuid(0)");
		must(setgroups(2, with), "setgroups");
		must(seteuid(NOBODY), "seteuid");
	}
	probe("grouped");
}

/* Threaded: a second thread waits while the main thread changes its own
 * credentials only (setfsuid, or a raw setuid); then the second thread,
 * still root, asks about every file, and the main thread asks again. The
 * second thread's opens must not put in the cache what the main thread
 * may no longer open. */
static sem_t go;

static void *other_thread(void *arg)
{
	(void)arg;
	while (sem_wait(&go) != 0)
		;
	probe("other-thread");
	return NULL;
}

static void threaded(const char *s)
{
	pthread_t t;

	if (sem_init(&go, 0, 0) != 0 || pthread_create(&t, NULL, other_thread, NULL) != 0) {
		fprintf(stderr, "credcheck: cannot start a thread\n");
		exit(2);
	}
	probe("root");
	probe("root-again");
	if (!strcmp(s, "thread-setfsuid"))
		fs_ids(NOBODY, 0);
	else
		must((int)syscall(SYS_setuid, NOBODY), "SYS_setuid");
	sem_post(&go);
	pthread_join(t, NULL);
	probe("dropped");
}

int main(int argc, char **argv)
{
	FILE *f;

	if (argc != 3 || chdir(argv[1]) != 0) {
		fprintf(stderr, "usage: credcheck DIR SCENARIO\n");
		return 2;
	}
	f = fopen("gid", "r");
	if (!f || fscanf(f, "%u", &group_gid) != 1) {
		fprintf(stderr, "credcheck: no DIR/gid\n");
		return 2;
	}
	fclose(f);
	if (!strncmp(argv[2], "gain", 4)) {
		gain(argv[2]);
		return 0;
	}
	if (!strncmp(argv[2], "thread-", 7)) {
		threaded(argv[2]);
		return 0;
	}
	probe("root");
	probe("root-again");
	drop(argv[2]);
	probe("dropped");
	return 0;
}
