/* fmaps.c - the file mappings the server holds (see fmaps.h). */
#include "fmaps.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* A slot is free when hi is 0, being filled when hi is 1. */
struct fmap {
	uintptr_t lo, hi;
};

static struct fmap slots[FMAPS_MAX];
static unsigned used;      /* slots below this were ever taken */
static unsigned live;      /* records now */
static bool full;          /* a mapping found no slot: every address counts */

void fmaps_add(const void *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr, want = 0;
	unsigned i, u;

	if (len == 0)
		return;
	for (i = 0; i < FMAPS_MAX; i++) {
		want = 0;
		if (__atomic_compare_exchange_n(&slots[i].hi, &want, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (i == FMAPS_MAX) {
		if (!__atomic_exchange_n(&full, true, __ATOMIC_RELAXED))
			fprintf(stderr, "sendcache: more than %d file mappings at "
				"once; response heads are no longer held back\n",
				FMAPS_MAX);
		return;
	}
	/* Counted before it can be seen: another thread may remove an equal
	 * record (the cache's mapping, handed to several threads) as soon as
	 * hi is stored, and a count that came after that removal would dip,
	 * to 0 while other records live, and fmaps_touch would skip them. */
	__atomic_add_fetch(&live, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&slots[i].lo, lo, __ATOMIC_RELAXED);
	__atomic_store_n(&slots[i].hi, lo + len, __ATOMIC_RELEASE);
	u = __atomic_load_n(&used, __ATOMIC_RELAXED);
	while (u <= i && !__atomic_compare_exchange_n(&used, &u, i + 1, true,
						      __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED))
		;
}

/* Frees the records in [lo, hi): all of them, or only one exactly equal
 * to it. */
static void forget(uintptr_t lo, uintptr_t hi, bool all)
{
	uintptr_t l, h;
	unsigned i, n;

	if (__atomic_load_n(&live, __ATOMIC_ACQUIRE) == 0)
		return;
	n = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		h = __atomic_load_n(&slots[i].hi, __ATOMIC_ACQUIRE);
		if (h <= 1)
			continue;
		l = __atomic_load_n(&slots[i].lo, __ATOMIC_RELAXED);
		if (all ? l < lo || h > hi : l != lo || h != hi)
			continue;
		if (__atomic_compare_exchange_n(&slots[i].hi, &h, 0, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_sub_fetch(&live, 1, __ATOMIC_RELEASE);
			if (!all)
				return;
		}
	}
}

void fmaps_remove(const void *addr, size_t len)
{
	if (len)
		forget((uintptr_t)addr, (uintptr_t)addr + len, false);
}

void fmaps_unmapping(const void *addr, size_t len)
{
	static uintptr_t page;
	uintptr_t lo = (uintptr_t)addr;

	if (!page)
		page = (uintptr_t)sysconf(_SC_PAGESIZE);
	if (len && lo % page == 0)
		forget(lo, lo + (len + page - 1) / page * page, true);
}

bool fmaps_touch(const struct iovec *iov, int iovcnt)
{
	uintptr_t lo, hi, a, b;
	unsigned i, n;
	int k;

	if (__atomic_load_n(&full, __ATOMIC_RELAXED))
		return true;
	if (__atomic_load_n(&live, __ATOMIC_ACQUIRE) == 0)
		return false;
	n = __atomic_load_n(&used, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		hi = __atomic_load_n(&slots[i].hi, __ATOMIC_ACQUIRE);
		if (hi <= 1)
			continue;
		lo = __atomic_load_n(&slots[i].lo, __ATOMIC_RELAXED);
		for (k = 0; k < iovcnt; k++) {
			a = (uintptr_t)iov[k].iov_base;
			b = a + iov[k].iov_len;
			if (iov[k].iov_len && a < hi && lo < b)
				return true;
		}
	}
	return false;
}
