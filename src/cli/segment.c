/* segment.c - a stats segment for the command-line tools (segment.h):
 * read with pread into private memory, so that a segment truncated
 * meanwhile cannot raise SIGBUS here, checked with shm_validate(), summed
 * with shm_sum(). */
#define _GNU_SOURCE
#include "segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies taken before the totals are seen holding still. */
#define READ_TRIES 200

/* "PROG: " and the message, on stderr. */
static void seg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void seg_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", seg_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int seg_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", seg_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s -h)\n", seg_prog);
	return EXIT_USAGE;
}

int seg_finish(int rc)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		seg_err("writing the output: %s\n", strerror(errno));
		return rc ? rc : EXIT_FAIL;
	}
	return rc;
}

/* More segments than this in /dev/shm are not listed one by one in the
 * "several instances" error; a line of names is all the user needs. */
#define MAX_LISTED 16

/* Opens "/sendcache.NAME" of /dev/shm for reading as shm_open(3) would,
 * but never blocks: anyone may make a FIFO of that name, and opening a
 * FIFO for reading waits for a writer. */
static int open_seg(const char *shm_name, int mode)
{
	char path[sizeof(SHM_DIR) + sizeof(SC_SHM_PREFIX) + 256];

	snprintf(path, sizeof(path), SHM_DIR "%s", shm_name);
	return open(path, mode | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

bool seg_valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= SC_SHM_NAME_MAX && !strchr(name, '/');
}


static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* pread of len bytes at 0 into buf: true if all came. */
static bool read_all(int fd, void *buf, size_t len)
{
	size_t at = 0;
	ssize_t n;

	while (at < len) {
		n = pread(fd, (char *)buf + at, len - at, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		at += (size_t)n;
	}
	return true;
}

/* A segment no process has counted in for this long is left over (a
 * server killed outright); younger ones may still be being set up. */
#define STALE_AGE_S 2

/* True if the segment at fd is left over: old enough, unreadable as a
 * segment or read with no live process in it, and mapped by no process
 * (a live server's segment may be damaged, its slots scribbled over). */
static bool seg_stale(int fd)
{
	struct sc_shm_header *h;
	struct stat st;
	bool stale = true;
	uint32_t n;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (geteuid() != 0 && st.st_uid != geteuid()) ||
	    time(NULL) - st.st_ctime < STALE_AGE_S)
		return false;
	if ((size_t)st.st_size < sizeof(*h) ||
	    (size_t)st.st_size > shm_size(SC_MAX_SLOTS))
		return !shm_mapped(st.st_dev, st.st_ino);
	h = malloc((size_t)st.st_size);
	if (!h)
		return false;
	if (read_all(fd, h, (size_t)st.st_size) &&
	    shm_validate(h, (size_t)st.st_size, &n) == SHM_OK)
		stale = shm_live(h, n, 0, 1) == 0;
	free(h);
	return stale && !shm_mapped(st.st_dev, st.st_ino);
}

/* Removes the segments of this user (any, for root) that no process
 * counts in any more, so that the instance looked for is the one left. */
void seg_sweep_stale(void)
{
	const char *prefix = SC_SHM_PREFIX + 1;        /* "sendcache." */
	char name[sizeof(SC_SHM_PREFIX) + 256];
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd;

	if (!(dir = opendir(SHM_DIR)))
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(name, sizeof(name), "/%s", d->d_name);
		if ((fd = open_seg(name, O_RDONLY)) < 0)
			continue;
		if (seg_stale(fd) && fstat(fd, &st) == 0)
			shm_unlink_same(name, st.st_dev, st.st_ino);
		close(fd);
	}
	closedir(dir);
}

/* Finds the only sendcache.* object in /dev/shm and copies its instance
 * name into seg->name. Returns EXIT_OK, EXIT_NOSEG or EXIT_SEVERAL after
 * a message. */
int seg_find(struct stat_seg *seg)
{
	const char *prefix = SC_SHM_PREFIX + 1;        /* "sendcache." */
	const size_t plen = strlen(prefix);
	char *names[MAX_LISTED];
	struct dirent *d;
	size_t n = 0, i;
	DIR *dir;

	dir = opendir(SHM_DIR);
	if (!dir) {
		seg_err("%s: %s\n", SHM_DIR, strerror(errno));
		return errno == EACCES ? EXIT_PERM : EXIT_NOSEG;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, plen) ||
		    !seg_valid_name(d->d_name + plen))
			continue;
		if (n < MAX_LISTED)
			names[n] = strdup(d->d_name + plen);
		n++;
	}
	closedir(dir);
	if (n == 0) {
		seg_err("no stats segment " SHM_PATH "*: is a "
			"server running with sendcache loaded?\n");
		return EXIT_NOSEG;
	}
	if (n == 1 && names[0]) {
		snprintf(seg->name, sizeof(seg->name), "%s", names[0]);
		free(names[0]);
		return EXIT_OK;
	}
	qsort(names, n < MAX_LISTED ? n : MAX_LISTED, sizeof(*names), cmp_str);
	seg_err("%zu instances:", n);
	for (i = 0; i < n && i < MAX_LISTED; i++) {
		fprintf(stderr, " %s", names[i] ? names[i] : "?");
		free(names[i]);
	}
	fprintf(stderr, "%s; pick one with -n\n", n > MAX_LISTED ? " ..." : "");
	return EXIT_SEVERAL;
}

static int layout_error(const struct stat_seg *seg, enum shm_check why)
{
	const struct sc_shm_header *h = seg->h;
	const char *path = SHM_PATH;

	switch (why) {
	case SHM_BAD_MAGIC:
		seg_err("%s%s: not a sendcache stats segment "
			"(bad magic)\n", path, seg->name);
		break;
	case SHM_BAD_VERSION:
		seg_err("%s%s: layout version %" PRIu32 ", this %s reads "
			"version %d: use the %s of the same release as the "
			"library\n", path, seg->name, h->version, seg_prog,
			SC_SHM_VERSION, seg_prog);
		break;
	case SHM_BAD_LAYOUT:
		seg_err("%s%s: bad layout (header %" PRIu32
			", slot %" PRIu32 " bytes, %" PRIu32 " counters, %" PRIu32
			" slots; expected %zu, %zu, %d, 1 or more)\n", path,
			seg->name, h->header_size, h->slot_size, h->ncounters,
			h->nslots, sizeof(*h), sizeof(struct sc_shm_slot),
			SC_NCOUNTERS);
		break;
	default:
		seg_err("%s%s: truncated segment (%zu bytes)\n",
			path, seg->name, seg->len);
		break;
	}
	return EXIT_LAYOUT;
}

/* Takes a copy of the segment in which no fold was under way: the fold
 * counters read equal before the copy, in it, and after it. Validates
 * the copy; a layout other than the first read's is damage. Returns
 * EXIT_OK or an exit status after a message. */
int seg_read(struct stat_seg *seg)
{
	struct sc_shm_header before, after;
	enum shm_check why;
	uint32_t n;
	int tries;

	for (tries = 0; tries < READ_TRIES; tries++) {
		if (!read_all(seg->fd, &before, sizeof(before)) ||
		    !read_all(seg->fd, seg->h, seg->len) ||
		    !read_all(seg->fd, &after, sizeof(after))) {
			seg_err(SHM_PATH "%s: cannot read it "
				"whole (%zu bytes): changed in size?\n",
				seg->name, seg->len);
			return EXIT_LAYOUT;
		}
		why = shm_validate(seg->h, seg->len, &n);
		if (why != SHM_OK)
			return layout_error(seg, why);
		if (seg->nslots && n != seg->nslots) {
			seg_err(SHM_PATH "%s: damaged: its slot "
				"count changed from %" PRIu32 " to %" PRIu32 "\n",
				seg->name, seg->nslots, n);
			return EXIT_LAYOUT;
		}
		seg->nslots = n;
		if (before.folds_begun == before.folds_done &&
		    seg->h->folds_begun == before.folds_begun &&
		    seg->h->folds_done == before.folds_done &&
		    after.folds_begun == before.folds_begun)
			return EXIT_OK;
		if (tries % 10 == 9)
			usleep(1000);
	}
	seg_err(SHM_PATH "%s: damaged: a fold of counts "
		"never ended (%d reads)\n", seg->name, READ_TRIES);
	return EXIT_LAYOUT;
}

int seg_open(struct stat_seg *seg)
{
	return seg_open_mode(seg, O_RDONLY);
}

int seg_open_mode(struct stat_seg *seg, int mode)
{
	char shm_name[sizeof(SC_SHM_PREFIX) + SC_SHM_NAME_MAX];
	static struct sc_shm_header empty;
	struct stat st;
	int rc;

	snprintf(shm_name, sizeof(shm_name), SC_SHM_PREFIX "%s", seg->name);
	seg->fd = open_seg(shm_name, mode);
	if (seg->fd < 0) {
		int err = errno;

		if (err == EACCES && mode != O_RDONLY)
			seg_err(SHM_DIR "%s: %s: only its owner or root may "
				"control it\n", shm_name, strerror(err));
		else
			seg_err(SHM_DIR "%s: %s\n", shm_name,
				strerror(err));
		return err == ENOENT ? EXIT_NOSEG :
		       err == EACCES ? EXIT_PERM : EXIT_FAIL;
	}
	if (fstat(seg->fd, &st) < 0) {
		seg_err(SHM_DIR "%s: %s\n", shm_name,
			strerror(errno));
		return EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode)) {
		seg_err(SHM_DIR "%s: not a regular file: not a "
			"sendcache segment\n", shm_name);
		return EXIT_LAYOUT;
	}
	seg->len = (size_t)st.st_size;
	seg->h = &empty;
	if (seg->len < sizeof(struct sc_shm_header)) {
		uint32_t n;

		/* shm_validate() reads no further than len. */
		return layout_error(seg, shm_validate(&empty, seg->len, &n));
	}
	if (seg->len > shm_size(SC_MAX_SLOTS)) {
		seg_err(SHM_DIR "%s: %zu bytes, more than a "
			"segment of %d slots: not a sendcache segment\n",
			shm_name, seg->len, SC_MAX_SLOTS);
		return EXIT_LAYOUT;
	}
	seg->h = malloc(seg->len);
	if (!seg->h) {
		seg->h = &empty;
		seg_err("%s\n", strerror(errno));
		return EXIT_FAIL;
	}
	rc = seg_read(seg);
	return rc;
}

bool seg_has_slot(const struct stat_seg *seg, pid_t pid)
{
	uint32_t i;

	for (i = 0; i < seg->nslots; i++)
		if (shm_slot(seg->h, i)->pid == pid)
			return true;
	return false;
}

/* A fresh reading into s. Returns EXIT_OK or an exit status after a
 * message (the segment is damaged). */
int seg_snap(struct stat_seg *seg, pid_t pid, struct stat_snap *s)
{
	int rc = seg_read(seg);

	if (rc != EXIT_OK)
		return rc;
	s->live = shm_sum(seg->h, seg->nslots, pid, &s->c);
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	if (s->live < 0) {
		seg_err(SHM_PATH "%s: damaged: its totals "
			"do not hold still\n", seg->name);
		return EXIT_LAYOUT;
	}
	return EXIT_OK;
}

