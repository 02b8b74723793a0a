/* corpus-driver: runs a fuzz target over files, without libFuzzer.
 *
 * Built with the ordinary compiler, it replays the committed corpus (seeds
 * and every input that once broke a target) as a regression test inside
 * make check: a TAP line per file, a failed check aborts. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <string.h>

int main(int argc, char **argv)
{
	int i;

	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t n = 0, cap = 0, r;

		if (!f) {
			printf("not ok %d - %s: cannot open\n", i, argv[i]);
			continue;
		}
		do {
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			r = fread(buf + n, 1, cap - n, f);
			n += r;
		} while (r > 0);
		fclose(f);
		fflush(stdout);
		LLVMFuzzerTestOneInput(buf, n);
		printf("ok %d - %s\n", i, strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i]);
		free(buf);
	}
	return 0;
}
