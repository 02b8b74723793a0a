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

int main(void)
{
	char small[8], longp[PATH_MAX + 10];

	plan(20);
	yes("/srv", "/var/www/a.html", "/var/www/a.html");
	yes("/srv/www", "a.html", "/srv/www/a.html");
	yes("/srv/www", "img/b.png", "/srv/www/img/b.png");
	yes("/", "a", "/a");
	yes(NULL, "/abs", "/abs");
	yes("/w", ".hidden", "/w/.hidden");
	yes("/w", "..x", "/w/..x");
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
