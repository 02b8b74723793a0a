/* fuzz.h - what the fuzz targets share: a check that stops the run. */
#ifndef SC_FUZZ_H
#define SC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A broken invariant: say which, then abort so that libFuzzer (or the
 * corpus driver) keeps the input that broke it. */
#define fuzz_check(cond)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz: %s:%d: %s\n", __FILE__,      \
				__LINE__, #cond);                           \
			abort();                                            \
		}                                                           \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
