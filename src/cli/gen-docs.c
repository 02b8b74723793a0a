/* gen-docs - print the tables made from src/config_def.h.
 *
 *   gen-docs config-md | config-man | run-help | run-sh | run-man | vars
 *
 * scripts/gen-docs puts each between the markers of the README, the man
 * pages and sendcache-run; t5003 fails when a file and the list differ.
 * A build tool: not installed, and it links nothing of the engine.
 */
#include <stdio.h>
#include <string.h>

struct var {
	const char *name, *kind, *shown, *option, *brief, *meaning;
};

static const struct var vars[] = {
#define SC_VAR(N, f, K, val, lo, hi, shown, opt, brief, meaning) \
	{ "SENDCACHE_" #N, #K, shown, opt, brief, meaning },
#include "config_def.h"
#undef SC_VAR
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* A flag option (no value) sets its variable to this. */
static const char *flag_value(const struct var *v)
{
	return strncmp(v->option, "--no-", 5) ? "1" : "0";
}

static int takes_value(const struct var *v)
{
	return strchr(v->option, ' ') != NULL;
}

/* The option's name alone: "--max-fds" of "--max-fds N". */
static size_t option_len(const struct var *v)
{
	return strcspn(v->option, " ");
}

/* The first n bytes of s for roff: `code` in bold, '-' and '\'
 * escaped. */
static void put_roff_n(const char *s, size_t n)
{
	const char *end = s + n;
	int bold = 0;

	for (; s < end && *s; s++) {
		if (*s == '`') {
			fputs(bold ? "\\fR" : "\\fB", stdout);
			bold = !bold;
		} else if (*s == '-' || *s == '\\') {
			printf("\\%c", *s);
		} else {
			putchar(*s);
		}
	}
}

static void put_roff(const char *s)
{
	put_roff_n(s, strlen(s));
}

static void config_md(void)
{
	const struct var *v;

	puts("| variable | default | meaning |");
	puts("|---|---|---|");
	for (v = vars; v->name; v++)
		printf("| `%s` | %s | %s |\n", v->name, v->shown, v->meaning);
}

static void config_man(void)
{
	const struct var *v;

	for (v = vars; v->name; v++) {
		printf(".TP\n.B %s\n", v->name);
		put_roff(v->meaning);
		printf(".\nDefault: %s.\n", v->shown);
	}
}

static void run_help(void)
{
	const struct var *v;
	char var[80];

	for (v = vars; v->name; v++) {
		snprintf(var, sizeof(var), "%s%s%s", v->name,
			 takes_value(v) ? "" : "=", takes_value(v) ? "" : flag_value(v));
		printf("  %-20s %-36s (%s)\n", v->option, v->brief, var);
	}
}

static void run_sh(void)
{
	const struct var *v;

	printf("# Every variable the library reads.\nconfig_vars=(");
	for (v = vars; v->name; v++)
		printf("%s%s", v == vars ? "" : " ", v->name);
	puts(")\n");
	puts("config_usage() {\n\tcat <<'USAGE'");
	run_help();
	puts("USAGE\n}\n");
	puts("# config_option ARGS...: exports the variable of option $1 and"
	     " returns\n# the number of arguments used; 0: not a variable's"
	     " option.\nconfig_option() {\n\tcase $1 in");
	for (v = vars; v->name; v++) {
		if (takes_value(v))
			printf("\t%.*s) need_arg \"$@\"; export %s=$2; return 2 ;;\n",
			       (int)option_len(v), v->option, v->name);
		else
			printf("\t%s) export %s=%s; return 1 ;;\n", v->option,
			       v->name, flag_value(v));
	}
	puts("\tesac\n\treturn 0\n}");
}

static void run_man(void)
{
	const struct var *v;

	for (v = vars; v->name; v++) {
		if (takes_value(v)) {
			printf(".TP\n.BI ");
			put_roff_n(v->option, option_len(v));
			printf(" \" %s\"\n", v->option + option_len(v) + 1);
		} else {
			printf(".TP\n.B ");
			put_roff_n(v->option, option_len(v));
			printf("\n");
		}
		printf(".B %s%s%s\n", v->name, takes_value(v) ? "" : "=",
		       takes_value(v) ? "" : flag_value(v));
		printf("(%s)\n", v->brief);
	}
}

/* "SENDCACHE_MAX_FDS COUNT" lines, for tests that try every variable. */
static void list_vars(void)
{
	const struct var *v;

	for (v = vars; v->name; v++)
		printf("%s %s\n", v->name, v->kind);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} outs[] = {
		{ "config-md", config_md }, { "config-man", config_man },
		{ "run-help", run_help }, { "run-sh", run_sh },
		{ "run-man", run_man }, { "vars", list_vars },
	};
	size_t i;

	for (i = 0; argc == 2 && i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!strcmp(argv[1], outs[i].name)) {
			outs[i].fn();
			return fflush(stdout) ? 1 : 0;
		}
	}
	fputs("usage: gen-docs config-md|config-man|run-help|run-sh|run-man|vars\n",
	      stderr);
	return 2;
}
