/* t0006-revalidate: the cache suite of t0004 with inotify turned off
 * (SENDCACHE_INOTIFY=0): every freshness check must then be met by stat
 * revalidation within SENDCACHE_REVALIDATE_MS (default 20 ms < 50 ms). */
#define SC_TEST_NO_INOTIFY
#include "t0004-cache.c"
