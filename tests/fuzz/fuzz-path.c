/* fuzz-path: path_make() and path_dirlen() on arbitrary cwd, path and
 * buffer sizes.
 *
 * Input: one byte of buffer size, then cwd and path separated by the first
 * NUL (no NUL: no cwd). A path the cache accepts must be absolute, fit in
 * the buffer with its NUL, be exactly path, or cwd + "/" + path, and hold
 * no empty, "." or ".." component when cwd is as getcwd() gives it; what it
 * refuses leaves nothing to check but the absence of memory errors. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "path.h"

#include <stdbool.h>
#include <string.h>

static bool clean_absolute(const char *p)
{
	const char *c = p + 1;

	if (p[0] != '/' || !p[1])
		return false;
	for (;;) {
		const char *end = strchrnul(c, '/');
		size_t len = (size_t)(end - c);

		if (len == 0 || (c[0] == '.' && (len == 1 || (len == 2 && c[1] == '.'))))
			return false;
		if (!*end)
			return true;
		c = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cwd = NULL, *path, *out, *copy;
	size_t outsz, clen;
	const char *nul;

	if (size < 1)
		return 0;
	outsz = data[0] + 1u;
	copy = malloc(size);
	out = malloc(outsz);
	fuzz_check(copy && out);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = 0;
	path = copy;
	nul = memchr(data + 1, 0, size - 1);
	if (nul) {
		cwd = copy;
		path = copy + (nul - (const char *)data);    /* after the NUL */
	}
	if (path_make(out, outsz, cwd, path)) {
		fuzz_check(memchr(out, 0, outsz) != NULL);
		if (path[0] == '/') {
			fuzz_check(!strcmp(out, path));
		} else {
			fuzz_check(cwd && cwd[0] == '/');
			clen = strcmp(cwd, "/") ? strlen(cwd) : 0;
			fuzz_check(!strncmp(out, cwd, clen) && out[clen] == '/' &&
				   !strcmp(out + clen + 1, path));
		}
		/* The engine's cwd comes from getcwd(): "/" or clean. From an
		 * unclean one ("/a/") the result is only cwd + "/" + path. */
		if (path[0] == '/' || !strcmp(cwd, "/") || clean_absolute(cwd)) {
			fuzz_check(clean_absolute(out));
			clen = path_dirlen(out);
			fuzz_check(out[clen] == '/' && !strchr(out + clen + 1, '/'));
		}
	}
	free(out);
	free(copy);
	return 0;
}
