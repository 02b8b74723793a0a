/* spawner - posix_spawn, vfork and fork from a process whose files are
 * cached, for t4007.
 *
 *   spawner spawn DIR      posix_spawn and vfork+execve children
 *   spawner fork DIR N     N forks while 4 threads use the cache
 *
 * Run with the library preloaded (and without, for comparison). The
 * program writes its own files in DIR (1 KiB, 200 KiB, 1 MiB of a known
 * pattern), reads them twice through libc so the library caches them, then
 * runs its children. It prints one "name value" line per result on stdout;
 * t4007 asserts on them. DESIGN.md invariant 7: a vfork/posix_spawn child
 * does nothing of the library's and inherits none of its descriptors; a
 * child forked beside running threads has a working cache of its own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NFILES   3
#define NTHREADS 4
/* How long a child may take before it counts as deadlocked. */
#define CHILD_SECONDS 5

static const size_t sizes[NFILES] = { 1024, 200 * 1024, 1024 * 1024 };
static char paths[NFILES][4096];
static unsigned char *want[NFILES];
static size_t want_len[NFILES];

static void fill(int i, int seed)
{
	size_t k;

	for (k = 0; k < want_len[i]; k++)
		want[i][k] = (unsigned char)(k * 31 + (size_t)seed * 7 + k / 251);
}

/* write_file I SEED: DIR/fI.bin gets the pattern of SEED, written in place. */
static int write_file(int i, int seed)
{
	int fd;
	ssize_t n;

	fill(i, seed);
	fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = write(fd, want[i], want_len[i]);
	close(fd);
	return n == (ssize_t)want_len[i] ? 0 : -1;
}

/* read_ok I: open, fstat, read to the end and close DIR/fI.bin through
 * libc; 1 when the bytes and the size are the expected ones. */
static int read_ok(int i, unsigned char *buf)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, good;

	fd = open(paths[i], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	good = fstat(fd, &st) == 0 && (size_t)st.st_size == want_len[i];
	while (good && (n = read(fd, buf + got, want_len[i] + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	return good && got == want_len[i] && memcmp(buf, want[i], got) == 0;
}

static int warm(unsigned char *buf)
{
	struct stat st;
	int i, r, good = 1;

	for (r = 0; r < 2; r++)
		for (i = 0; i < NFILES; i++)
			good &= stat(paths[i], &st) == 0 && read_ok(i, buf);
	return good;
}

/* count_fds PATTERN: descriptors of this process whose target contains
 * PATTERN. */
static int count_fds(const char *pattern)
{
	char link[300], target[4096];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	ssize_t len;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		if (strstr(target, pattern))
			n++;
	}
	closedir(dir);
	return n;
}

/* drain FD, OUT, CAP: read a pipe to its end; returns the bytes read. */
static size_t drain(int fd, unsigned char *out, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, out + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* wait_bounded PID: its exit status, or -1 (and it is killed) when it has
 * not ended within CHILD_SECONDS. */
static int wait_bounded(pid_t pid)
{
	struct timespec ms = { 0, 1000000 };
	int status, i;

	for (i = 0; i < CHILD_SECONDS * 1000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -2;
		nanosleep(&ms, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* run_child HOW ARGV ENVP OUT CAP LEN: run ARGV with HOW ("spawn" or
 * "vfork"), its stdout into OUT; returns its wait status (-1: timed out). */
static int run_child(const char *how, char *const argv[], char *const envp[],
		     unsigned char *out, size_t cap, size_t *len)
{
	posix_spawn_file_actions_t fa;
	int p[2], status;
	pid_t pid = -1;

	*len = 0;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -3;
	if (strcmp(how, "spawn") == 0) {
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		if (posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) != 0)
			pid = -1;
		posix_spawn_file_actions_destroy(&fa);
	} else {
		pid = vfork();
		if (pid == 0) {
			/* The classic vfork child: dup2 (interposed by the
			 * library) and execve, sharing the parent's memory. */
			if (dup2(p[1], 1) < 0)
				_exit(126);
			execve(argv[0], argv, envp);
			_exit(127);
		}
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -3;
	}
	*len = drain(p[0], out, cap);
	close(p[0]);
	status = wait_bounded(pid);
	return status;
}

/* env_without_preload: environ less LD_PRELOAD, so that a child's fd
 * listing shows only what it inherited. */
static char **env_without_preload(void)
{
	static char *env[256];
	int i, n = 0;

	for (i = 0; environ[i] && n < 255; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[n++] = environ[i];
	env[n] = NULL;
	return env;
}

/* Descriptors this process was started with (open at main's entry, before
 * any file went through the library): a child inherits them by design. */
static char inherited[1024];
/* DIR as the kernel names it in /proc/PID/fd links. */
static char dir_real[4096];

static void note_inherited(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		fd = atoi(d->d_name);
		if (d->d_name[0] != '.' && fd != dirfd(dir) && fd >= 0 && fd < 1024)
			inherited[fd] = 1;
	}
	closedir(dir);
}

/* leaked_fds OUT LEN: lines of `ls -l /proc/self/fd` output naming a
 * descriptor beyond 0-2, ls's own directory and those this process was
 * started with, or naming a cached file or an inotify instance; prints
 * them. */
static int leaked_fds(const char *how, unsigned char *out, size_t len)
{
	char *line, *save, *text = strndup((char *)out, len);
	int n = 0, fd;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, " -> ");
		char *num;

		if (!arrow)
			continue;
		*arrow = 0;
		num = strrchr(line, ' ');
		num = num ? num + 1 : line;
		fd = atoi(num);
		if (!strstr(arrow + 4, "inotify") && !strstr(arrow + 4, dir_real) &&
		    (fd <= 2 || strstr(arrow + 4, "/proc/") ||
		     (fd < 1024 && inherited[fd])))
			continue;
		fprintf(stderr, "%s child inherited fd %s -> %s\n", how, num, arrow + 4);
		n++;
	}
	free(text);
	return n;
}

static int spawn_mode(void)
{
	static const char *const hows[] = { "spawn", "vfork" };
	size_t cap = sizes[NFILES - 1] + 1, len;
	unsigned char *buf = malloc(cap + 1), *out = malloc(cap);
	char *ls_argv[] = { "/bin/ls", "-l", "/proc/self/fd", NULL };
	struct timespec ms50 = { 0, 50 * 1000000 };
	int h, i, status, good;
	char tmp[4200];

	printf("warm %d\n", warm(buf));
	/* What a child could inherit: the library's descriptors (its
	 * pools, its inotify instance) while none of ours is open. */
	printf("parent_cached_fds %d\n", count_fds(paths[0]) +
	       count_fds(paths[1]) + count_fds(paths[2]));
	printf("parent_inotify_fds %d\n", count_fds("inotify"));

	for (h = 0; h < 2; h++) {
		const char *how = hows[h];

		for (i = 0; i < NFILES; i++) {
			char *cat_argv[] = { "/bin/cat", paths[i], NULL };

			/* cat with the library too (environ as it is) */
			status = run_child(how, cat_argv, environ, out, cap, &len);
			printf("%s_cat_f%d_status %d\n", how, i,
			       status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + status);
			printf("%s_cat_f%d_bytes %d\n", how, i,
			       len == want_len[i] && memcmp(out, want[i], len) == 0);
		}
		status = run_child(how, ls_argv, env_without_preload(), out, cap, &len);
		printf("%s_ls_status %d\n", how,
		       status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + status);
		printf("%s_ls_lines %d\n", how, len > 0);
		printf("%s_leaked_fds %d\n", how, leaked_fds(how, out, len));
		good = 1;
		for (i = 0; i < NFILES; i++)
			good &= read_ok(i, buf);
		printf("%s_parent_after %d\n", how, good);
	}

	/* Fresh after the children: f0 rewritten in place, f1 replaced by a
	 * rename, each read 50 ms later. */
	if (write_file(0, 2) != 0)
		return 1;
	snprintf(tmp, sizeof(tmp), "%s.new", paths[1]);
	fill(1, 3);
	{
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || write(fd, want[1], want_len[1]) != (ssize_t)want_len[1])
			return 1;
		close(fd);
	}
	if (rename(tmp, paths[1]) != 0)
		return 1;
	nanosleep(&ms50, NULL);
	printf("fresh_inplace %d\n", read_ok(0, buf));
	printf("fresh_rename %d\n", read_ok(1, buf));
	printf("fresh_untouched %d\n", read_ok(2, buf));
	return 0;
}

static volatile int stop_threads;

struct worker {
	pthread_t tid;
	long reads, bad;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(sizes[NFILES - 1] + 1);
	int i = 0;

	struct stat st;
	char missing[4200];
	unsigned n = 0;

	while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED)) {
		if (!read_ok(i, buf))
			w->bad++;
		w->reads++;
		i = (i + 1) % NFILES;
		/* Misses too (lookups of names that do not exist, each new
		 * for a while): they hold the cache's lock longer than hits,
		 * so a fork often finds it taken. */
		snprintf(missing, sizeof(missing), "%s.%p.%u", paths[0],
			 (void *)w, n++ % 4096);
		if (stat(missing, &st) == 0)
			w->bad++;
	}
	free(buf);
	return NULL;
}

static int fork_mode(int nforks)
{
	struct worker w[NTHREADS];
	unsigned char *buf = malloc(sizes[NFILES - 1] + 1);
	int i, status, failed = 0, deadlocked = 0;
	long reads = 0, bad = 0;

	printf("warm %d\n", warm(buf));
	for (i = 0; i < NTHREADS; i++) {
		w[i].reads = w[i].bad = 0;
		pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	}
	for (i = 0; i < nforks; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			int k, good = 1;

			/* A child stuck on a lock a vanished thread held
			 * would hang: the alarm ends it. */
			alarm(CHILD_SECONDS);
			for (k = 0; k < NFILES; k++)
				good &= read_ok((i + k) % NFILES, buf);
			good &= read_ok(i % NFILES, buf);   /* a hit in the child */
			_exit(good ? 0 : 1);
		}
		if (pid < 0) {
			failed++;
			continue;
		}
		status = wait_bounded(pid);
		if (status == -1 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM))
			deadlocked++;
		else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	__atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].tid, NULL);
		reads += w[i].reads;
		bad += w[i].bad;
	}
	printf("forks %d\n", nforks);
	printf("fork_failed %d\n", failed);
	printf("fork_deadlocked %d\n", deadlocked);
	printf("thread_reads %ld\n", reads);
	printf("thread_bad %ld\n", bad);
	printf("parent_after %d\n", warm(buf));
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: spawner spawn DIR | spawner fork DIR N\n");
		return 2;
	}
	note_inherited();
	if (!realpath(argv[2], dir_real))
		snprintf(dir_real, sizeof(dir_real), "%s", argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < NFILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/f%d.bin", argv[2], i);
		want_len[i] = sizes[i];
		want[i] = malloc(sizes[i]);
		if (!want[i] || write_file(i, 1) != 0) {
			perror(paths[i]);
			return 1;
		}
	}
	if (strcmp(argv[1], "spawn") == 0)
		return spawn_mode();
	if (strcmp(argv[1], "fork") == 0 && argc > 3)
		return fork_mode(atoi(argv[3]));
	fprintf(stderr, "spawner: unknown mode %s\n", argv[1]);
	return 2;
}
