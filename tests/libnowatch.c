/* libnowatch: inotify_add_watch() fails as it does when
 * fs.inotify.max_user_watches is exhausted (ENOSPC), for t4003.
 *
 * Preloaded after libsendcache.so, it takes the library's calls without
 * touching the system-wide limit that other processes share. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/inotify.h>

__attribute__((visibility("default")))
int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	(void)fd;
	(void)path;
	(void)mask;
	errno = ENOSPC;
	return -1;
}
