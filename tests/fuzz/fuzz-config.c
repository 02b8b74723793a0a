/* fuzz-config: config_parse() on an arbitrary environment.
 *
 * Input: "NAME=VALUE" entries separated by NUL bytes (a NAME without
 * "SENDCACHE_" gets it prepended, so that short inputs reach real
 * variables); values may hold newlines, which must not add lines. Whatever the
 * values, every field must end inside its documented range, each rejected
 * value must cost exactly one line on the error stream, every line must
 * name a variable, and nothing may read or write out of bounds. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "config.h"

#include <string.h>

#define MAX_VARS 32

static char *names[MAX_VARS], *values[MAX_VARS];
static int nvars;

static const char *table_getenv(const char *name)
{
	int i;

	for (i = 0; i < nvars; i++)          /* the first one, as getenv */
		if (!strcmp(names[i], name))
			return values[i];
	return NULL;
}

/* Splits text (size bytes, NUL-terminated one past) into the table.
 * Entries end at NUL bytes, so that values may hold newlines. */
static void parse_input(char *text, size_t size)
{
	char *line, *eq;

	nvars = 0;
	for (line = text; line < text + size && nvars < MAX_VARS;
	     line += strlen(line) + 1) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		if (asprintf(&names[nvars], "%s%s",
			     strncmp(line, "SENDCACHE_", 10) ? "SENDCACHE_" : "",
			     line) < 0)
			abort();
		values[nvars++] = eq + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *err_text = NULL, *p;
	struct sc_config c = config;
	size_t err_size = 0;
	int bad, lines = 0, i;
	FILE *err;

	fuzz_check(text != NULL);
	memcpy(text, data, size);
	text[size] = 0;
	parse_input(text, size);

	err = open_memstream(&err_text, &err_size);
	fuzz_check(err != NULL);
	bad = config_parse(&c, table_getenv, err);
	fclose(err);

	for (p = err_text; p && *p; p = strchr(p, '\n') + 1) {
		fuzz_check(strchr(p, '\n') != NULL);   /* every line ends */
		fuzz_check(!strncmp(p, "sendcache: SENDCACHE_", 21));
		lines++;
	}
	fuzz_check(lines == bad);
	fuzz_check(c.max_fds >= 4 && c.max_fds <= (1u << 20));
	fuzz_check(c.max_mapped <= (1ull << 40));
	fuzz_check(c.merge_max <= (1u << 30) && c.copy_max <= (1u << 30));
	fuzz_check(c.pipe_max <= (1u << 30));
	fuzz_check(c.check_ms >= 1 && c.check_ms <= 40);
	fuzz_check(c.revalidate_ms >= 1 && c.revalidate_ms <= 40);
	fuzz_check(c.stats_slots >= 4 && c.stats_slots <= 65536);
	fuzz_check(memchr(c.stats_name, 0, sizeof(c.stats_name)) != NULL);
	fuzz_check(memchr(c.stats_group, 0, sizeof(c.stats_group)) != NULL);
	fuzz_check(memchr(c.prewarm, 0, sizeof(c.prewarm)) != NULL);
	fuzz_check(!strchr(c.stats_name, '/') && c.stats_name[0] != '.');
	fuzz_check(!c.prewarm[0] || c.prewarm[0] == '/');
	fuzz_check(memchr(c.stats_file, 0, sizeof(c.stats_file)) != NULL);
	fuzz_check(!c.stats_file[0] || c.stats_file[0] == '/');

	free(err_text);
	for (i = 0; i < nvars; i++)
		free(names[i]);
	free(text);
	return 0;
}
