/* admit.c - the frequency sketch of admit.h. */
#include "admit.h"
#include "config.h"
#include "mem.h"

#include <stdlib.h>
#include <string.h>

#define ROWS 4
#define COUNT_MAX 15
#define WIDTH_MIN 1024u
#define WIDTH_MAX (1u << 18)

static uint8_t *table;          /* ROWS rows of width counters */
static uint32_t mask;           /* width - 1 */
static uint64_t touches;        /* since the last halving */
static uint64_t period;         /* touches between halvings */
static bool no_table;           /* no memory for it: admit everything */

/* 8 bytes a step (FNV-1a's byte a step cost a third of a cold open's
 * own work): each word is mixed in by a multiply and a shift, both
 * invertible, so same-length paths that differ in one word never
 * collide; a final mix (MurmurHash3's) spreads every bit to the low
 * ones that pick a hash bucket. */
uint64_t admit_hash_len(const char *p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (len) {
		for (w = 0, i = 0; i < len; i++)
			w |= (uint64_t)(unsigned char)p[i] << (8 * i);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t admit_hash(const char *path)
{
	return admit_hash_len(path, strlen(path));
}

/* The table for the budget in force: made at the first request, and made
 * anew (counts lost) when the budget grew past what it was sized for (a
 * server that raised its descriptor limit: config_refresh_fds). */
static bool table_ready(void)
{
	static size_t sized_for;
	uint32_t width = WIDTH_MIN;

	if (no_table || (table && config.max_fds <= sized_for))
		return table != NULL;
	while (width < WIDTH_MAX && width < 16 * config.max_fds)
		width <<= 1;
	sized_for = config.max_fds;
	period = 10 * (uint64_t)config.max_fds;
	if (period < WIDTH_MIN)
		period = WIDTH_MIN;
	if (table && width == mask + 1)
		return true;
	mem_free(table);
	touches = 0;
	table = mem_zalloc((size_t)ROWS * width);
	if (!table) {
		no_table = true;
		return false;
	}
	mask = width - 1;
	return true;
}

/* The counters of key, one per row: double hashing of the key mixed
 * once (a 64-bit finaliser, as MurmurHash3's). */
static void counters(uint64_t key, uint8_t **c)
{
	uint64_t h = key;
	uint32_t lo, step;
	int r;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	lo = (uint32_t)h;
	step = (uint32_t)(h >> 32) | 1;
	for (r = 0; r < ROWS; r++)
		c[r] = &table[(size_t)r * (mask + 1) + ((lo + (uint32_t)r * step) & mask)];
}

static unsigned min_count(uint8_t **c)
{
	unsigned f = COUNT_MAX;
	int r;

	for (r = 0; r < ROWS; r++)
		if (*c[r] < f)
			f = *c[r];
	return f;
}

/* Halves every counter: popularity older than a few periods fades. */
static void age(void)
{
	size_t i, n = (size_t)ROWS * (mask + 1);

	for (i = 0; i < n; i++)
		table[i] >>= 1;
	touches = 0;
}

unsigned admit_freq(uint64_t key)
{
	uint8_t *c[ROWS];

	if (!table)
		return 0;
	counters(key, c);
	return min_count(c);
}

unsigned admit_touch(uint64_t key)
{
	uint8_t *c[ROWS];
	unsigned f;
	int r;

	if (!table_ready())
		return COUNT_MAX;
	counters(key, c);
	f = min_count(c);
	/* Conservative update: only the counters at the minimum grow, so a
	 * key's estimate is not raised by its collisions' counts. */
	if (f < COUNT_MAX) {
		for (r = 0; r < ROWS; r++)
			if (*c[r] == f)
				*c[r] = (uint8_t)(f + 1);
		f++;
	}
	if (++touches >= period)
		age();
	return f;
}
