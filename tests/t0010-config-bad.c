/* t0010-config-bad: every SENDCACHE_* variable given garbage, negative, huge,
 * empty and multi-line values: one stderr line naming it, its default kept.
 *
 * The table below lists bad values per variable; a variable of config_vars[]
 * that the table does not know fails the test, so a new variable cannot go
 * untested. */
#include "tap/tap.h"
#include "config.h"
#include "tap/config_eq.h"

#include <stdbool.h>

static const char *env_name, *env_value;

static const char *one_getenv(const char *name)
{
	return env_name && !strcmp(name, env_name) ? env_value : NULL;
}

/* A string of n copies of c, in a static buffer (n < 4096). */
static const char *repeat(char c, size_t n)
{
	static char buf[4096];

	memset(buf, c, n);
	buf[n] = 0;
	return buf;
}

/* Values wrong for every numeric or on/off variable. */
static const char *const numeric_bad[] = {
	"", "garbage", "-1", "-99999999999999999999", "99999999999999999999999",
	"18446744073709551616", "12Q", " 5", "5 ", "+5", "0x10", "1e3", "5\n",
	"5\nsendcache: forged", "1KK", "\t", NULL,
};

/* Values wrong for a name (stats instance, group). */
static const char *const name_bad[] = {
	"", "../etc", "a/b", ".hidden", "a b", "x\ny", "caf\xc3\xa9", NULL,
};

/* Values wrong for an absolute path. */
static const char *const path_bad[] = {
	"", "relative", "-1", "./x", "/a\nb", "/tab\there", NULL,
};

/* Values wrong for a list of absolute directories. */
static const char *const dirs_bad[] = {
	"", "relative", "-1", "/a:", ":/a", "/a::/b", "/a:b", "\n", NULL,
};

struct var_case {
	const char *name;
	const char *const *bad;
	const char *extra[4];    /* more values, for this variable only */
};

static const struct var_case cases[] = {
	{ "SENDCACHE_DISABLE", numeric_bad, { "2", "maybe", "true", NULL } },
	{ "SENDCACHE_MAX_FDS", numeric_bad, { "0", "3", "1048577", "2G" } },
	{ "SENDCACHE_ADMIT_ALL", numeric_bad, { "2", "all", NULL, NULL } },
	{ "SENDCACHE_MAX_MAPPED", numeric_bad, { "1025G", "17179869184G", "1T", NULL } },
	{ "SENDCACHE_MERGE_MAX", numeric_bad, { "2G", "1073741825", NULL, NULL } },
	{ "SENDCACHE_CHECK_MS", numeric_bad, { "0", "41", "1k", NULL } },
	{ "SENDCACHE_REVALIDATE_MS", numeric_bad, { "0", "41", "4294967297", NULL } },
	{ "SENDCACHE_INOTIFY", numeric_bad, { "2", "yes please", NULL, NULL } },
	{ "SENDCACHE_HOLD_HEADS", numeric_bad, { "2", "On", NULL, NULL } },
	{ "SENDCACHE_STATS", numeric_bad, { "2", "-0", NULL, NULL } },
	{ "SENDCACHE_STATS_NAME", name_bad, { NULL, NULL, NULL, NULL } },
	{ "SENDCACHE_STATS_GROUP", name_bad, { NULL, NULL, NULL, NULL } },
	{ "SENDCACHE_STATS_SLOTS", numeric_bad, { "3", "65537", "1M", NULL } },
	{ "SENDCACHE_COPY_MAX", numeric_bad, { "2G", "1073741825", NULL, NULL } },
	{ "SENDCACHE_PIPE_MAX", numeric_bad, { "2G", "1073741825", NULL, NULL } },
	{ "SENDCACHE_PREWARM", dirs_bad, { NULL, NULL, NULL, NULL } },
	{ "SENDCACHE_STATS_FILE", path_bad, { NULL, NULL, NULL, NULL } },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const struct var_case *find_case(const char *name)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

/* Parses NAME=VALUE alone into a default config. True when it was rejected
 * once, with exactly one line, newline-terminated, that names the variable
 * and says the default is used, and nothing changed. */
static bool rejected_cleanly(const char *name, const char *value,
			     const struct sc_config *def)
{
	struct sc_config c = *def;
	char *text = NULL, *nl;
	size_t size = 0;
	FILE *err = open_memstream(&text, &size);
	bool good;
	int bad;

	env_name = name;
	env_value = value;
	bad = config_parse(&c, one_getenv, err);
	fclose(err);
	nl = text ? strchr(text, '\n') : NULL;
	good = bad == 1 && nl && nl[1] == 0 && !strncmp(text, "sendcache: ", 11) &&
	       strstr(text, name) && strstr(text, "using the default") &&
	       same_config(&c, def);
	if (!good)
		diag("%s: rejected %d, output '%s'", name, bad, text ? text : "");
	free(text);
	return good;
}

int main(void)
{
	const struct sc_config def = config;
	const struct sc_config_var *v;
	const struct var_case *vc;
	size_t nvars = 0;
	int i, tried, clean;

	for (v = config_vars; v->name; v++)
		nvars++;
	plan((int)nvars + 5);

	for (v = config_vars; v->name; v++) {
		vc = find_case(v->name);
		if (!vc) {
			ok(0, "%s: the test knows bad values for it", v->name);
			continue;
		}
		tried = clean = 0;
		for (i = 0; vc->bad[i]; i++, tried++)
			clean += rejected_cleanly(v->name, vc->bad[i], &def);
		for (i = 0; i < 4 && vc->extra[i]; i++, tried++)
			clean += rejected_cleanly(v->name, vc->extra[i], &def);
		ok(clean == tried, "%s: %d of %d bad values give one line and the default",
		   v->name, clean, tried);
	}

	/* Huge values: a name or a list far past its buffer. */
	ok(rejected_cleanly("SENDCACHE_STATS_NAME", repeat('a', 64), &def),
	   "a 64-character instance name is rejected");
	ok(rejected_cleanly("SENDCACHE_STATS_GROUP", repeat('g', 4000), &def),
	   "a 4000-character group is rejected");
	ok(rejected_cleanly("SENDCACHE_STATS_FILE", repeat('/', 256), &def),
	   "a 256-byte counters file is rejected");
	ok(rejected_cleanly("SENDCACHE_PREWARM", repeat('/', 1024), &def),
	   "a 1024-byte directory list is rejected");

	/* Every variable bad at once: one line each, all defaults. */
	{
		struct sc_config c = def;
		char *text = NULL;
		size_t size = 0, k;
		FILE *err = open_memstream(&text, &size);
		int lines = 0, bad;

		env_name = NULL;
		bad = 0;
		for (k = 0; k < NCASES; k++) {
			env_name = cases[k].name;
			env_value = "-1";
			if (!strcmp(env_name, "SENDCACHE_STATS_NAME") ||
			    !strcmp(env_name, "SENDCACHE_STATS_GROUP"))
				env_value = "a/b";
			bad += config_parse(&c, one_getenv, err);
		}
		fclose(err);
		for (k = 0; text && text[k]; k++)
			lines += text[k] == '\n';
		free(text);
		ok(bad == (int)NCASES && lines == (int)NCASES && same_config(&c, &def),
		   "each of %zu bad variables: one line, and every default kept "
		   "(%d rejected, %d lines)", NCASES, bad, lines);
	}
	return done_testing();
}
