/* path.c - lexical path checks, no syscalls. */
#include "path.h"

#include <string.h>

/* True if the components of p (absolute or relative, plen bytes) are all
 * plain names. */
static bool clean_components(const char *p, size_t plen)
{
	const char *c = p;

	/* Most paths have no component that starts with '.': then none is
	 * "." or "..", and only an empty one ("//", a trailing '/') is left
	 * to find, by two scans instead of one per component. */
	if (p[0] != '.' && !strstr(p, "/."))
		return p[plen - 1] != '/' && !strstr(p, "//");
	if (*c == '/')
		c++;
	for (;;) {
		const char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);

		if (len == 0)
			return false;               /* "//", trailing '/' */
		if (c[0] == '.' && (len == 1 || (len == 2 && c[1] == '.')))
			return false;               /* "." or ".." */
		if (!end)
			return true;
		c = end + 1;
	}
}

bool path_make(char *out, size_t outsz, const char *cwd, const char *path)
{
	size_t plen, clen;

	if (!path || !*path)
		return false;
	plen = strlen(path);
	if (!clean_components(path, plen))
		return false;
	if (path[0] == '/') {
		if (plen + 1 > outsz || plen == 1)
			return false;
		memcpy(out, path, plen + 1);
		return true;
	}
	if (!cwd || cwd[0] != '/')
		return false;
	clen = strlen(cwd);
	if (clen == 1)
		clen = 0;                           /* cwd "/" */
	if (clen + 1 + plen + 1 > outsz)
		return false;
	memcpy(out, cwd, clen);
	out[clen] = '/';
	memcpy(out + clen + 1, path, plen + 1);
	return true;
}

size_t path_dirlen(const char *abs)
{
	const char *slash = strrchr(abs, '/');

	return slash ? (size_t)(slash - abs) : 0;
}
