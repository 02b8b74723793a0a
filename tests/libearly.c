/* libearly.c - a library whose constructor calls open(), read(), fstat()
 * and close() before sendcache's constructor has run (it is loaded after
 * sendcache, so the loader initialises it first). Used by t1001. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((constructor)) static void early(void)
{
	const char *path = getenv("EARLY_FILE");
	char buf[64];
	struct stat st;
	int i, good = 0;

	if (!path)
		return;
	for (i = 0; i < 3; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (n >= 0 && fstat(fd, &st) == 0 && st.st_size == n) {
			buf[n] = 0;
			good += !strcmp(buf, "early bytes\n");
		}
		if (fd >= 0)
			close(fd);
	}
	printf("early: %d of 3 opens read the file\n", good);
	fflush(stdout);
}
