/* fmaps.h - the file mappings the server holds, so that the send engine
 * never reads one.
 *
 * A page of a file mapping that lies past the end of the file (the file
 * was truncated after the mmap) raises SIGBUS when read in user space; the
 * kernel's own copy, in writev or send, fails with EFAULT instead. A server
 * that writes its mapping of a file (Apache: writev(head, mapping)) is safe
 * without us, so we must never look at or copy bytes in such a mapping
 * (DESIGN.md invariant 5): the engine asks fmaps_touch() first, and leaves
 * a write that touches one to the kernel.
 *
 * Every mapping of a file the server makes through mmap/mmap64 (answered by
 * the cache or by the kernel) is recorded until its munmap. Lock-free: a
 * mapping the server passes to a send was recorded before the server had
 * its address, and is forgotten only after its munmap, so a look from any
 * thread finds it; a race with other entries can only give a false "yes",
 * which costs a merge, never a byte.
 */
#ifndef SC_FMAPS_H
#define SC_FMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* How many mappings are recorded at once; past it every address counts as
 * a mapping (nothing is looked at or held) until the process ends. */
#define FMAPS_MAX 1024

/* Records [addr, addr + len), a file mapping the server now holds. */
void fmaps_add(const void *addr, size_t len);

/* Forgets one record of exactly [addr, addr + len), if any: one reference
 * to a cache mapping, which other threads may still hold, is given back. */
void fmaps_remove(const void *addr, size_t len);

/* Forgets every record inside [addr, addr + len), which the server is
 * about to munmap; addr is page-aligned (or nothing is forgotten). A
 * record only partly inside stays (a false "yes" is safe). Called before
 * the munmap: once the kernel has the range back, a new mapping may take
 * the same addresses. */
void fmaps_unmapping(const void *addr, size_t len);

/* True when some byte of iov[0..iovcnt) may lie in a recorded mapping. */
bool fmaps_touch(const struct iovec *iov, int iovcnt);

#endif
