/* path.h - the one spelling under which a path is cached. */
#ifndef SC_PATH_H
#define SC_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the absolute form of path to out: path itself if it starts with
 * '/', else cwd + '/' + path (cwd NULL: relative paths are refused).
 * Refuses (returns false, out undefined) what it cannot spell safely
 * without asking the kernel: empty paths, "." or ".." components (".."
 * after a symlink is not lexical), "//", a trailing '/', and results that
 * do not fit in outsz. Never touches the file system. */
bool path_make(char *out, size_t outsz, const char *cwd, const char *path);

/* Length of the directory part of an absolute clean path ("/a/b" -> 2,
 * "/a" -> 0 meaning "/"). */
size_t path_dirlen(const char *abs);

#endif
