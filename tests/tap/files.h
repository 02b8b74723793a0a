/* files.h - small file helpers for the C tests (header only). */
#ifndef SC_TAP_FILES_H
#define SC_TAP_FILES_H

#include "tap.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under /tmp; exits the test on failure. */
static inline char *tmpdir_make(void)
{
	static char dir[] = "/tmp/sc-test-XXXXXX";

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp failed\n");
		exit(1);
	}
	return dir;
}

static inline void tmpdir_remove(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

/* Writes text to path (created, truncated) with the real libc, not ours:
 * the tests link the engine but call it only through sc_* functions. */
static inline void file_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

/* Writes text into a temporary file beside path and renames it over. */
static inline void file_replace(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	file_put(tmp, text);
	if (rename(tmp, path) != 0) {
		printf("Bail out! rename failed\n");
		exit(1);
	}
}

#endif
