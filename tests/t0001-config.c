/* t0001-config: SENDCACHE_* parsing, defaults and one line per bad value. */
#include "tap/tap.h"
#include "config.h"
#include "tap/config_eq.h"

#include <ctype.h>

static const char *const *env_table;

static const char *fake_getenv(const char *name)
{
	const char *const *p;
	size_t len = strlen(name);

	for (p = env_table; p && *p; p++)
		if (!strncmp(*p, name, len) && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

/* Parses table into a fresh default config; returns rejected count and
 * the number of lines written to the error stream. */
static int parse(const char *const *table, struct sc_config *cfg, int *lines)
{
	char *text = NULL;
	size_t size = 0;
	FILE *err = open_memstream(&text, &size);
	int bad, i;

	*cfg = config;          /* the compiled-in defaults */
	env_table = table;
	bad = config_parse(cfg, fake_getenv, err);
	fclose(err);
	*lines = 0;
	for (i = 0; text && text[i]; i++)
		*lines += text[i] == '\n';
	free(text);
	return bad;
}

/* Each variable's `shown` default, parsed, gives the compiled-in default;
 * a string kind's default is empty (unset). */
static bool documented_defaults(void)
{
	const struct sc_config *def = &config_defaults;
	const struct sc_config_var *v;
	struct sc_config c;
	char buf[128];
	bool good = true;

	for (v = config_vars; v->name; v++) {
		if (v->kind >= CK_NAME) {
			if (((const char *)def + v->offset)[0]) {
				diag("%s: a string default is not empty", v->name);
				good = false;
			}
			continue;
		}
		snprintf(buf, sizeof(buf), "%s=%s", v->name, v->shown);
		c = *def;
		env_table = (const char *[]){ buf, NULL };
		if (config_parse(&c, fake_getenv, NULL) || !same_config(&c, def)) {
			diag("%s: shown default '%s' is not the compiled-in one",
			     v->name, v->shown);
			good = false;
		}
	}
	return good;
}

/* --max-fds for SENDCACHE_MAX_FDS; a flag for a BOOL ("--no-" when it
 * clears one that is on by default), a value for every other kind. */
static bool options_named(void)
{
	const struct sc_config_var *v;
	char want[80], *p;
	bool good = true;

	for (v = config_vars; v->name; v++) {
		bool on = v->kind == CK_BOOL && strcmp(v->shown, "0");

		snprintf(want, sizeof(want), "--%s%s", on ? "no-" : "",
			 v->name + strlen("SENDCACHE_"));
		for (p = want + 2; *p; p++)
			*p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
		if (strncmp(v->option, want, strlen(want)) ||
		    (v->option[strlen(want)] != (v->kind == CK_BOOL ? 0 : ' '))) {
			diag("%s: option '%s', want '%s%s'", v->name, v->option,
			     want, v->kind == CK_BOOL ? "" : " VALUE");
			good = false;
		}
	}
	return good;
}

int main(void)
{
	struct sc_config def = config, c;
	int lines;

	plan(38);

	is_int(parse((const char *[]){ NULL }, &c, &lines), 0, "no variables: nothing rejected");
	is_int(c.max_fds, def.max_fds, "default max_fds");
	is_int(c.merge_max, 1 << 20, "default merge_max is 1M");
	is_int(config_fd_budget(16384, 1024), 256, "soft limit 1024: a budget of 256");
	is_int(config_fd_budget(16384, 20000), 5000, "soft limit 20000: 5000");
	is_int(config_fd_budget(16384, UINT64_MAX), 16384, "no limit: the ceiling");
	is_int(config_fd_budget(100, 8), 4, "never under 4");
	ok(!c.disabled && c.inotify && c.hold_heads, "default switches");
	ok(documented_defaults(), "every default the docs show is the compiled-in one");
	ok(options_named(), "every variable has a sendcache-run option named after it");

	is_int(parse((const char *[]){ "SENDCACHE_MAX_MAPPED=64M", "SENDCACHE_MERGE_MAX=16k",
				       "SENDCACHE_MAX_FDS=100", "SENDCACHE_CHECK_MS=5",
				       "SENDCACHE_REVALIDATE_MS=40", NULL }, &c, &lines), 0,
	       "valid values accepted");
	is_int(c.max_mapped, 64 << 20, "64M parsed");
	is_int(c.merge_max, 16 << 10, "16k parsed");
	is_int(c.max_fds, 100, "count parsed");
	is_int(c.check_ms, 5, "check_ms parsed");
	is_int(c.revalidate_ms, 40, "revalidate_ms parsed");

	is_int(parse((const char *[]){ "SENDCACHE_DISABLE=1", "SENDCACHE_INOTIFY=off",
				       "SENDCACHE_HOLD_HEADS=no", NULL }, &c, &lines), 0,
	       "switches accepted");
	ok(c.disabled && !c.inotify && !c.hold_heads, "switches parsed");

	is_int(parse((const char *[]){ "SENDCACHE_MAX_FDS=", NULL }, &c, &lines), 1, "empty value rejected");
	is_int(lines, 1, "one stderr line for it");
	is_int(c.max_fds, def.max_fds, "and the default kept");

	is_int(parse((const char *[]){ "SENDCACHE_MAX_FDS=-5", "SENDCACHE_MAX_MAPPED=lots",
				       "SENDCACHE_MERGE_MAX=99999999999999999999999",
				       "SENDCACHE_CHECK_MS=0", "SENDCACHE_REVALIDATE_MS=41",
				       "SENDCACHE_DISABLE=maybe", "SENDCACHE_MAX_FDS=12Q", NULL },
		     &c, &lines), 6, "negative, garbage, huge, out-of-range values rejected");
	is_int(lines, 6, "one line per rejected value");
	is_int(c.max_mapped, def.max_mapped, "max_mapped default kept");
	is_int(c.merge_max, def.merge_max, "merge_max default kept");
	is_int(c.check_ms, def.check_ms, "check_ms default kept");
	ok(!c.disabled, "a bad DISABLE value leaves sendcache on");

	is_int(parse((const char *[]){ "SENDCACHE_MAX_MAPPED=18446744073709551615G", NULL },
		     &c, &lines), 1, "multiplication overflow rejected");

	is_int(parse((const char *[]){ "SENDCACHE_STATS_NAME=web-1.a_b", "SENDCACHE_STATS=0",
				       "SENDCACHE_STATS_SLOTS=16", NULL }, &c, &lines), 0,
	       "stats variables accepted");
	ok(!strcmp(c.stats_name, "web-1.a_b") && !c.stats && c.stats_slots == 16, "and parsed");
	is_int(parse((const char *[]){ "SENDCACHE_STATS_NAME=../etc", "SENDCACHE_STATS_GROUP=a b",
				       "SENDCACHE_STATS_SLOTS=3", NULL }, &c, &lines), 3,
	       "a name with '/', a group with a space, too few slots rejected");
	ok(c.stats_name[0] == 0 && c.stats_slots == def.stats_slots, "defaults kept");

	is_int(parse((const char *[]){ "SENDCACHE_COPY_MAX=16K", "SENDCACHE_PIPE_MAX=256K",
				       "SENDCACHE_PREWARM=/srv/www:/var/www/html/", NULL }, &c, &lines), 0,
	       "copy, pipe and warm-up variables accepted");
	ok(c.copy_max == 16384 && c.pipe_max == 262144 &&
	   !strcmp(c.prewarm, "/srv/www:/var/www/html/"), "and parsed");
	is_int(parse((const char *[]){ "SENDCACHE_PREWARM=www", NULL }, &c, &lines), 1,
	       "a relative warm-up directory rejected");
	is_int(parse((const char *[]){ "SENDCACHE_PREWARM=/a::/b", NULL }, &c, &lines), 1,
	       "an empty element rejected");
	is_int(parse((const char *[]){ "SENDCACHE_PREWARM=/a:", NULL }, &c, &lines), 1,
	       "a trailing ':' rejected");
	ok(c.prewarm[0] == 0, "no warm-up then");
	return done_testing();
}
