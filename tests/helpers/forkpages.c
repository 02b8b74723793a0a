/* forkpages: the pages a fork-per-connection server's fork costs (t4012).
 *
 * forkpages DIR sleep|wake [ROUNDS [GAP_MS]]
 *
 * Plays busybox httpd: accept a connection, fork; the parent closes its
 * copy of the connection and accepts the next; the child serves a file of
 * DIR (stat, open, fstat, write the head, sendfile to the end, close) on
 * descriptors 0 and 1 and exits. With "wake" the child first waits in
 * poll(), as a long-lived worker does. ROUNDS connections (2 if not
 * given; the first warms what a server has warm after it), GAP_MS apart
 * (0 if not given). Then prints
 *
 *   pages N
 *   stack S
 *   bytes M
 *   fds F
 *
 * N: private writable pages but the stack's that the child holds alone
 * once both have done their part: each is a page one of them wrote after
 * the fork, which the kernel copied (a page written by either side is no
 * longer shared, so each one counts once, in the child's view). S: the
 * same for the stack, whose depth moves a page either way with the
 * environment's size. M: the bytes the client got in the last round. F:
 * the descriptors the parent has open at the end. Run with and without
 * LD_PRELOAD, the difference in N is what the library adds to every fork.
 * Pages are read from /proc/self/pagemap through syscall(), which the
 * library passes straight to the kernel. FORKPAGES_DEBUG=1 lists each
 * page counted on stderr, with its mapping.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_EXCLUSIVE (1ull << 56)

static char maps[1 << 16];
static uint64_t entries[4096];

static long sys_open(const char *path)
{
	return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

/* Descriptors open in this process, read through syscall(). */
static long open_fds(void)
{
	char buf[8192];
	long dir = syscall(SYS_openat, AT_FDCWD, "/proc/self/fd",
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC), n, got = 0;

	if (dir < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			const char *name = buf + off + 19;      /* d_name */

			if (name[0] != '.')
				got++;
			off += *(unsigned short *)(buf + off + 16);     /* d_reclen */
		}
	}
	syscall(SYS_close, dir);
	return got - 1;         /* not dir itself */
}

/* Pages of private writable mappings that this process alone maps, the
 * stack's in *stack, the others returned. */
static long exclusive_pages(long *stack)
{
	long fd = sys_open("/proc/self/maps"), pm, n, got = 0, count = 0;

	*stack = 0;
	char *line, *save = NULL;

	if (fd < 0)
		return -1;
	while ((n = syscall(SYS_read, fd, maps + got, sizeof(maps) - 1 - got)) > 0)
		got += n;
	syscall(SYS_close, fd);
	maps[got] = 0;
	if ((pm = sys_open("/proc/self/pagemap")) < 0)
		return -1;
	for (line = strtok_r(maps, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi, page;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 ||
		    strcmp(perms, "rw-p") != 0)
			continue;
		for (page = lo / 4096; page < hi / 4096;) {
			unsigned long k, want = hi / 4096 - page;

			if (want > sizeof(entries) / 8)
				want = sizeof(entries) / 8;
			n = syscall(SYS_pread64, pm, entries, want * 8, page * 8);
			if (n <= 0)
				break;
			for (k = 0; k < (unsigned long)n / 8; k++)
				if ((entries[k] & PM_PRESENT) &&
				    (entries[k] & PM_EXCLUSIVE)) {
					if (strstr(line, "[stack]"))
						++*stack;
					else
						count++;
					if (getenv("FORKPAGES_DEBUG"))
						fprintf(stderr, "%s +%lx\n", line, page + k - lo / 4096);
				}
			page += (unsigned long)n / 8;
		}
	}
	syscall(SYS_close, pm);
	return count;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("forkpages: connect");
		exit(2);
	}
	if (write(fd, "GET /f HTTP/1.0\r\n\r\n", 19) != 19)
		exit(2);
	return fd;
}

/* The child's request, as busybox httpd serves it. */
static void serve(int listener, int conn, const char *file)
{
	static const char head[] = "HTTP/1.0 200 OK\r\nContent-Length: 1024\r\n\r\n";
	static char req[256];
	struct stat st;
	int fd;

	close(listener);
	dup2(conn, 0);
	close(conn);
	dup2(0, 1);
	if (read(0, req, sizeof(req)) <= 0 || stat(file, &st) != 0 ||
	    (fd = open(file, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
		_exit(3);
	if (write(1, head, sizeof(head) - 1) != (ssize_t)sizeof(head) - 1 ||
	    sendfile(1, fd, NULL, (size_t)st.st_size) != st.st_size ||
	    sendfile(1, fd, NULL, (size_t)st.st_size) != 0)
		_exit(4);
	close(fd);
	shutdown(1, SHUT_WR);
}

/* One connection: fork, both sides do their part, the child measures.
 * Returns the child's count, or -1. */
static long one_round(int listener, int client2_port, const char *file,
		      int wake, int *client, long *stack)
{
	int conn, to_child[2], to_parent[2], other;
	long pages[2] = { -1, -1 };
	char go = 'g';
	pid_t pid;

	conn = accept(listener, NULL, NULL);
	if (conn < 0 || pipe(to_child) != 0 || pipe(to_parent) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (read(to_child[0], &go, 1) != 1)
			_exit(5);
		if (wake)
			poll(NULL, 0, 0);
		serve(listener, conn, file);
		pages[0] = exclusive_pages(&pages[1]);
		if (write(to_parent[1], pages, sizeof(pages)) != sizeof(pages))
			_exit(6);
		exit(0);
	}
	/* The parent's part, as busybox's: its copy of the connection goes,
	 * the next is accepted (and, here, let go). */
	close(conn);
	*client = connect_to(client2_port);
	other = accept(listener, NULL, NULL);
	close(other);
	if (write(to_child[1], &go, 1) != 1 ||
	    read(to_parent[0], pages, sizeof(pages)) != sizeof(pages))
		pages[0] = -1;
	waitpid(pid, NULL, 0);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	*stack = pages[1];
	return pages[0];
}

int main(int argc, char **argv)
{
	static char file[4096], buf[4096];
	struct stat st;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	long pages = -1, stack = -1, bytes = 0, n;
	int listener, client, spare = -1, round, rounds = 2, gap_ms = 0, wake;

	if (argc >= 4)
		rounds = atoi(argv[3]);
	if (argc >= 5)
		gap_ms = atoi(argv[4]);
	if (argc < 3 || argc > 5 || rounds < 1 || gap_ms < 0 ||
	    (strcmp(argv[2], "sleep") && strcmp(argv[2], "wake"))) {
		fprintf(stderr, "usage: forkpages DIR sleep|wake [ROUNDS [GAP_MS]]\n");
		return 2;
	}
	wake = strcmp(argv[2], "wake") == 0;
	snprintf(file, sizeof(file), "%s/f", argv[1]);
	/* Written once: a prewarmed copy stays valid in the next runs. The
	 * check goes straight to the kernel: a hit would tell the library
	 * that this parent uses its cache. */
	memset(buf, 'x', 1024);
	if (syscall(SYS_newfstatat, AT_FDCWD, file, &st, 0) != 0 ||
	    st.st_size != 1024) {
		n = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (n < 0 || write((int)n, buf, 1024) != 1024 ||
		    close((int)n) != 0)
			return 2;
	}
	/* As busybox looks for /etc/httpd.conf: a failed lookup is no use of
	 * the cache (the judge of cache_fork.c must still see none). */
	snprintf(buf, sizeof(buf), "%s/absent.conf", argv[1]);
	if (open(buf, O_RDONLY) >= 0)
		return 2;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(listener, 16) != 0 ||
	    getsockname(listener, (struct sockaddr *)&a, &alen) != 0)
		return 2;
	/* Round 0 warms what a server has warm after its first connection;
	 * the last is measured. */
	for (round = 0; round < rounds; round++) {
		if (round && gap_ms)
			poll(NULL, 0, gap_ms);
		client = connect_to(ntohs(a.sin_port));
		pages = one_round(listener, ntohs(a.sin_port), file, wake, &spare,
				  &stack);
		bytes = 0;
		while ((n = read(client, buf, sizeof(buf))) > 0)
			bytes += n;
		close(client);
		close(spare);
	}
	printf("pages %ld\nstack %ld\nbytes %ld\nfds %ld\n", pages, stack, bytes,
	       open_fds());
	return pages < 0;
}
