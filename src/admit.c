/* admit.c - the frequency sketch of admit.h. */
#include "admit.h"
#include "config.h"

#include <stdlib.h>

#define ROWS 4
#define COUNT_MAX 15
#define WIDTH_MIN 1024u
#define WIDTH_MAX (1u << 18)

static uint8_t *table;          /* ROWS rows of width counters */
static uint32_t mask;           /* width - 1 */
static uint64_t touches;        /* since the last halving */
static uint64_t period;         /* touches between halvings */
static bool no_table;           /* calloc failed: admit everything */

uint64_t admit_hash(const char *path)
{
	uint64_t h = 14695981039346656037ULL;

	while (*path)
		h = (h ^ (unsigned char)*path++) * 1099511628211ULL;
	return h;
}

static bool table_ready(void)
{
	uint32_t width = WIDTH_MIN;

	if (table || no_table)
		return table != NULL;
	while (width < WIDTH_MAX && width < 16 * config.max_fds)
		width <<= 1;
	table = calloc(ROWS, width);
	if (!table) {
		no_table = true;
		return false;
	}
	mask = width - 1;
	period = 10 * (uint64_t)config.max_fds;
	if (period < WIDTH_MIN)
		period = WIDTH_MIN;
	return true;
}

/* The counter of key in row r: double hashing of a mixed key. */
static uint8_t *counter(uint64_t key, int r)
{
	uint64_t h = key;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return &table[(size_t)r * (mask + 1) +
		      (((uint32_t)h + (uint32_t)r * ((uint32_t)(h >> 32) | 1)) & mask)];
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
	unsigned f = COUNT_MAX, c;
	int r;

	if (!table)
		return 0;
	for (r = 0; r < ROWS; r++)
		if ((c = *counter(key, r)) < f)
			f = c;
	return f;
}

unsigned admit_touch(uint64_t key)
{
	unsigned f = admit_freq(key);
	uint8_t *c;
	int r;

	if (!table_ready())
		return COUNT_MAX;
	/* Conservative update: only the counters at the minimum grow, so a
	 * key's estimate is not raised by its collisions' counts. */
	if (f < COUNT_MAX) {
		for (r = 0; r < ROWS; r++)
			if (*(c = counter(key, r)) == f)
				*c = (uint8_t)(f + 1);
		f++;
	}
	if (++touches >= period)
		age();
	return f;
}
