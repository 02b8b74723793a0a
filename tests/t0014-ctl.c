/* t0014-ctl: the control block (sendcache-ctl) as the engine reads it:
 * purge of paths and of everything, a damaged list of paths, purges
 * missed, a block left half-written, pause and resume, a cork across
 * them; then random bytes over the whole block while files change, where
 * every read must still return the file's bytes as they are and nothing
 * may crash.
 *
 * The block is written here as sendcache-ctl writes it (generation odd,
 * fields, generation even), through this process's own segment.
 */
#include "tap/files.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "cache.h"
#include "config.h"
#include "ctl.h"
#include "engine.h"
#include "shm.h"
#include "stats.h"

static char dir[64], fa[128], fb[128], sub[128];
static struct sc_shm_ctl *b;

/* Opens p through the engine and reads it; 1 if it holds want. */
static int content_is(const char *p, const char *want)
{
	char buf[256];
	int fd = sc_openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = sc_read(fd, buf, sizeof(buf) - 1);
	sc_close(fd);
	if (n < 0)
		return 0;
	buf[n] = 0;
	if (strcmp(buf, want)) {
		diag("%s: got '%s', want '%s'", p, buf, want);
		return 0;
	}
	return 1;
}

/* 1 if an open of p is answered from the cache. */
static int hit(const char *p)
{
	uint64_t before = stats_cur->open_hit;
	int fd = sc_openat(AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0);

	if (fd >= 0)
		sc_close(fd);
	return stats_cur->open_hit > before;
}

/* Caches p (an open that misses, then one that hits). */
static void warm(const char *p)
{
	hit(p);
	hit(p);
}

static void begin(void)
{
	__atomic_store_n(&b->gen, b->gen | 1, __ATOMIC_SEQ_CST);
}

static void end(void)
{
	__atomic_store_n(&b->gen, (b->gen | 1) + 1, __ATOMIC_SEQ_CST);
}

/* A purge of the NUL-separated list paths (len bytes, n paths). */
static void purge(const char *paths, size_t len, uint32_t n)
{
	begin();
	memset(b->paths, 0, sizeof(b->paths));
	memcpy(b->paths, paths, len);
	b->npaths = n;
	b->purges++;
	end();
}

static void test_purge(void)
{
	warm(fa);
	warm(fb);
	ok(hit(fa) && hit(fb), "both files are cached");
	purge(sub, strlen(sub) + 1, 1);
	ok(!hit(fb) && hit(fa), "purge of a directory: its file is dropped, the other kept");
	is_int((int)ctl_seen, (int)b->gen, "the process acted on the generation");
	ok(stats_cur->purged == 1, "purged counts it");
	warm(fb);
	purge("", 0, 0);
	ok(!hit(fa) && !hit(fb), "purge of everything: both dropped");

	warm(fa);
	warm(fb);
	purge("relative/path", 14, 1);
	ok(!hit(fa) && !hit(fb), "a relative path in the list: everything dropped");
	warm(fa);
	warm(fb);
	begin();
	memset(b->paths, 'x', sizeof(b->paths));
	memcpy(b->paths, fa, strlen(fa) + 1);
	b->npaths = 2;          /* the second never ends inside the block */
	b->purges++;
	end();
	ok(!hit(fa) && !hit(fb), "a list that runs past the block: everything dropped");
	warm(fa);
	warm(fb);
	begin();
	memcpy(b->paths, sub, strlen(sub) + 1);
	b->npaths = 1;
	b->purges += 2;         /* one purge missed */
	end();
	ok(!hit(fa) && !hit(fb), "two purges since the last seen: everything dropped");

	warm(fa);
	begin();
	b->purges++;
	b->npaths = 0;
	ok(!hit(fa) && ctl_paused,
	   "a block left odd (a writer stopped): dropped, and calls pass as if paused");
	end();
	warm(fa);
	ok(hit(fa) && !ctl_paused, "once written, the process caches again");
	ok(ctl_seen == b->gen, "... having acted on it");
}

static void test_pause(void)
{
	struct stat st;
	uint64_t passed;

	warm(fa);
	begin();
	b->paused = 1;
	end();
	passed = stats_cur->pass_paused;
	ok(!hit(fa) && !hit(fa), "paused: opens are not answered from the cache");
	ok(sc_fstatat(AT_FDCWD, fa, &st, 0) == 0 && st.st_size == 2,
	   "paused: stat answers, from the kernel");
	ok(stats_cur->pass_paused >= passed + 3, "pass_paused counts the calls passed");
	ok(stats_cur->entries == 0, "paused: nothing cached");
	ok(content_is(fa, "a\n"), "paused: reads are right");
	begin();
	b->paused = 0;
	end();
	warm(fa);
	ok(hit(fa), "resumed: cached again");
}

/* The kernel's TCP_CORK on fd (libc's getsockopt, not the engine's). */
static int kernel_cork(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, &len);
	return v;
}

static void set_paused(uint32_t on)
{
	begin();
	b->paused = on;
	end();
	hit(fa);                /* a call: the process acts */
}

/* A cork set while paused goes to the kernel, and its uncork after the
 * resume follows it there; later corks are kept in user space again. */
static void test_cork(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int l, c, a, v, one = 1, zero = 0;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&sa, &sl) ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (a = accept(l, NULL, NULL)) < 0) {
		printf("Bail out! no loopback TCP connection\n");
		exit(1);
	}
	set_paused(1);
	sc_setsockopt(a, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	is_int(kernel_cork(a), 1, "paused: the server's cork goes to the kernel");
	set_paused(0);
	sl = sizeof(v);
	ok(sc_getsockopt(a, IPPROTO_TCP, TCP_CORK, &v, &sl) == 0 && v == 1,
	   "resumed: getsockopt says corked");
	sc_setsockopt(a, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	is_int(kernel_cork(a), 0, "resumed: the uncork reaches the kernel too");
	sc_setsockopt(a, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	sl = sizeof(v);
	ok(kernel_cork(a) == 0 &&
	   sc_getsockopt(a, IPPROTO_TCP, TCP_CORK, &v, &sl) == 0 && v == 1,
	   "a cork after that is kept in user space again");
	sc_setsockopt(a, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	sc_close(a);
	close(c);
	close(l);
}

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Random bytes over the block, the generation included, while the two
 * files are replaced: every read must give the file's current bytes. */
static void test_scribble(void)
{
	char want_a[32] = "a\n", want_b[32] = "b\n";
	int i, wrong = 0;

	for (i = 0; i < 20000; i++) {
		unsigned char *p = (unsigned char *)b;
		size_t at = rnd() % sizeof(*b);
		int n = 1 + (int)(rnd() % 64);

		while (n-- > 0 && at < sizeof(*b))
			p[at++] = (unsigned char)rnd();
		/* The list alone, often: paths of every shape. */
		if (rnd() % 4 == 0)
			b->npaths = (uint32_t)(rnd() % 8);
		if (i % 500 == 0) {
			snprintf(want_a, sizeof(want_a), "a%d\n", i);
			file_replace(fa, want_a);
			snprintf(want_b, sizeof(want_b), "b%d\n", i);
			file_replace(fb, want_b);
			/* A change is seen within 50 ms (DESIGN.md 4). */
			usleep(60 * 1000);
		}
		wrong += !content_is(fa, want_a);
		wrong += !content_is(fb, want_b);
	}
	is_int(wrong, 0, "20,000 random writes over the block: every read right");
	memset(b, 0, sizeof(*b));
	end();
	hit(fa);
	ok(ctl_seen == b->gen, "a clean block afterwards is acted on");
	warm(fa);
	ok(hit(fa), "and the cache serves again");
}

int main(void)
{
	if (!(b = stats_ctl())) {
		printf("1..0 # SKIP no stats segment here\n");
		return 0;
	}
	plan(11 + 6 + 4 + 3);
	snprintf(dir, sizeof(dir), "%s", tmpdir_make());
	snprintf(sub, sizeof(sub), "%s/b", dir);
	mkdir(sub, 0755);
	snprintf(fa, sizeof(fa), "%s/a.txt", dir);
	snprintf(fb, sizeof(fb), "%s/b/b.txt", dir);
	file_put(fa, "a\n");
	file_put(fb, "b\n");
	test_purge();
	test_pause();
	test_cork();
	test_scribble();
	tmpdir_remove(dir);
	return done_testing();
}
