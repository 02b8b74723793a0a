/* t0002-path: the one spelling under which a path is cached. */
#include "tap/tap.h"

#include <limits.h>

#include "path.h"

static void yes(const char *cwd, const char *in, const char *want)
{
	char out[PATH_MAX] = "";

	ok(path_make(out, sizeof(out), cwd, in) && !strcmp(out, want),
	   "'%s' in '%s' -> '%s' (got '%s')", in, cwd ? cwd : "(none)", want, out);
}

static void no(const char *cwd, const char *in)
{
	char out[PATH_MAX];

	ok(!path_make(out, sizeof(out), cwd, in), "'%s' refused", in ? in : "(null)");
}

/* The rule path_make() applies, spelled the slow way: split at every
 * '/' and look at each component. */
static bool clean_by_components(const char *p)
{
	const char *c = p + (*p == '/'), *end;
	size_t len;

	for (;; c = end + 1) {
		end = strchr(c, '/');
		len = end ? (size_t)(end - c) : strlen(c);
		if (len == 0 || !strncmp(c, ".", len) || !strncmp(c, "..", len))
			return false;
		if (!end)
			return true;
	}
}

/* Every path of up to 7 characters over '/', '.', 'a': path_make() (with
 * its shortcut for paths without "/.") must agree with the rule. */
static void all_short_paths(void)
{
	static const char alphabet[] = "/.a";
	char in[8], out[PATH_MAX];
	unsigned long n, total = 0, wrong = 0, x;
	int len, i;

	for (len = 1; len <= 7; len++) {
		for (n = 1, i = 0; i < len; i++)
			n *= 3;
		for (x = 0; x < n; x++, total++) {
			unsigned long y = x;
			bool got, want;

			for (i = 0; i < len; i++, y /= 3)
				in[i] = alphabet[y % 3];
			in[len] = 0;
			want = clean_by_components(in);
			got = path_make(out, sizeof(out), "/w", in);
			if (got != want && wrong++ < 5)
				diag("'%s': path_make says %d, the rule %d", in, got, want);
		}
	}
	ok(wrong == 0, "all %lu paths of 1 to 7 of '/', '.', 'a': as the rule says (%lu differ)",
	   total, wrong);
}

int main(void)
{
	char small[8], longp[PATH_MAX + 10];

	plan(22);
	all_short_paths();
	yes("/srv", "/var/www/a.html", "/var/www/a.html");
	yes("/srv/www", "a.html", "/srv/www/a.html");
	yes("/srv/www", "img/b.png", "/srv/www/img/b.png");
	yes("/", "a", "/a");
	yes(NULL, "/abs", "/abs");
	yes("/w", ".hidden", "/w/.hidden");
	yes("/w", "..x", "/w/..x");
	yes(NULL, "/srv/www/d1/.htaccess", "/srv/www/d1/.htaccess");
	no("/srv", "");
	no("/srv", NULL);
	no("/srv", "/");
	no("/srv", "/a//b");
	no("/srv", "/a/./b");
	no("/srv", "/a/../b");
	no("/srv", "../b");
	no("/srv", "a/");
	no("/srv", "./a");
	no(NULL, "relative");
	ok(!path_make(small, sizeof(small), "/", "/0123456789"), "too long for the buffer");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	no("/", longp);
	is_int(path_dirlen("/a/b/c"), 4, "dirlen of /a/b/c");
	return done_testing();
}
