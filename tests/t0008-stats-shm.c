/* t0008-stats-shm: the library's own stats segment: created 0600 by the
 * first process, N processes x M increments sum exactly, a killed
 * process's counts are kept (and its gauges dropped) when its slot is
 * reclaimed, another user cannot read it, the last process removes it. */
#include "tap/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "shm.h"
#include "stats.h"

#define NPROC 4
#define MINC 100000

static struct sc_shm_header *view;
static size_t view_len;
static uint32_t view_nslots;

static uint64_t sum_of(size_t offset, int *live)
{
	struct sc_counters c;
	int n = shm_sum(view, view_nslots, 0, &c);

	if (live)
		*live = n;
	return *(uint64_t *)((char *)&c + offset);
}

#define SUM(name) sum_of(offsetof(struct sc_counters, name), NULL)

static void wait_all(void)
{
	while (wait(NULL) > 0)
		;
}

int main(void)
{
	char path[128], cmd[256];
	struct stat st;
	uint64_t before, gauges;
	int fd, i, live, status;
	pid_t pid, killed;

	plan(11);
	if (!*stats_instance()) {
		printf("Bail out! the library made no stats segment\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/shm/sendcache.%s", stats_instance());
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_uid == geteuid(),
	   "segment %s exists, mode 0600, ours", path);
	fd = open(path, O_RDONLY);
	view_len = (size_t)st.st_size;
	view = mmap(NULL, view_len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ok(view != MAP_FAILED && shm_validate(view, view_len, &view_nslots) == SHM_OK, "and valid");

	before = SUM(open_hit);
	for (i = 0; i < NPROC; i++) {
		if (fork() == 0) {
			int k;

			sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
			for (k = 0; k < MINC; k++)
				STAT_INC(open_hit);
			exit(0);
		}
	}
	for (i = 0; i < 200 && SUM(open_hit) < before + NPROC * MINC; i++)
		usleep(5000);
	wait_all();
	is_int(SUM(open_hit), before + NPROC * MINC, "%d processes x %d increments sum exactly", NPROC, MINC);

	/* Killed before its exit handlers: counts stay, gauges go. */
	before = SUM(open_hit);
	gauges = SUM(entries);
	killed = pid = fork();
	if (pid == 0) {
		sc_poll(NULL, 0, 0);  /* it waits, as a worker does: awake */
		STAT_ADD(open_hit, 777);
		STAT_ADD(entries, 5);
		raise(SIGKILL);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status), "a child killed by SIGKILL");
	is_int(SUM(open_hit), before + 777, "its counts are still summed");
	is_int(SUM(entries), gauges, "its gauges are not");
	/* The next child to wake reclaims its slot: the total must not move. */
	if ((pid = fork()) == 0) {
		sc_poll(NULL, 0, 0);
		exit(0);
	}
	waitpid(pid, NULL, 0);
	is_int(SUM(open_hit), before + 777, "after its slot is reclaimed the total is unchanged");
	{
		uint32_t k, dead = 0;

		for (k = 0; k < view_nslots; k++)
			dead += shm_slot(view, k)->pid == killed ||
				shm_slot(view, k)->pid == pid;
		is_int(dead, 0, "no slot is left to the exited processes");
	}

	if (geteuid() == 0 && access("/usr/sbin/runuser", X_OK) == 0) {
		/* The CLI of this build (make sets TAP_BUILD: build/musl's
		 * for a musl build). */
		const char *b = getenv("TAP_BUILD");

		snprintf(cmd, sizeof(cmd),
			 "runuser -u nobody -- %s/sendcache-stat -n %s >/dev/null 2>&1",
			 b && *b ? b : "build", stats_instance());
		status = system(cmd);
		is_int(WEXITSTATUS(status), 4, "another user is refused (exit 4: permission denied)");
	} else {
		ok(1, "# SKIP not root or no runuser");
	}

	sum_of(0, &live);
	is_int(live, 1, "one live process: this one");
	stats_exit();
	ok(access(path, F_OK) != 0 && errno == ENOENT, "the last process removed the segment");
	return done_testing();
}
