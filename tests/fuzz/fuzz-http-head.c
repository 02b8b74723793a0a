/* fuzz-http-head: send_is_http_head() against a plain reading of its
 * contract, on arbitrary bytes.
 *
 * A write is held back only if it is exactly one HTTP/1.x response head:
 * "HTTP/1.0 " or "HTTP/1.1 ", a status from 100 to 599, and the first
 * blank line ("\r\n\r\n") at its very end. Anything else (a body after the
 * head, two heads, TLS records, HTTP/2 frames) must go out untouched, so a
 * false "yes" would hold back bytes that are not a head. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "send.h"

#include <stdbool.h>
#include <string.h>

static bool reference(const char *b, size_t n)
{
	size_t i;

	if (n < 16 || strncmp(b, "HTTP/1.", 7) || (b[7] != '0' && b[7] != '1') ||
	    b[8] != ' ' || b[9] < '1' || b[9] > '5')
		return false;
	for (i = 0; i + 4 <= n; i++)
		if (!memcmp(b + i, "\r\n\r\n", 4))
			return i + 4 == n;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	bool got;

	fuzz_check(buf != NULL);
	memcpy(buf, data, size);
	got = send_is_http_head(buf, size);
	fuzz_check(got == reference(buf, size));
	if (got) {
		fuzz_check(size >= 16 && !memcmp(buf + size - 4, "\r\n\r\n", 4));
		fuzz_check(memmem(buf, size, "\r\n\r\n", 4) == buf + size - 4);
	}
	free(buf);
	return 0;
}
