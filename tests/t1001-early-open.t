#!/usr/bin/env bash
# t1001-early-open: another library's constructor calls open/read/fstat/
# close before sendcache's own constructor has run; the calls must work,
# and the engine (initialised lazily on that first call) must serve hits.
. "$(dirname "$0")/tap/tap.sh"
plan 4
tap_require_lib
early=$tap_build/tests/libearly.so
[[ -f $early ]] || bail_out "$early is not built (make test builds it)"

dir=$(tap_tmpdir)
printf 'early bytes\n' >"$dir/early.txt"

order=$(LD_DEBUG=libs EARLY_FILE=$dir/early.txt LD_PRELOAD="$tap_preload $early" \
	/bin/true 2>&1 | grep -E 'calling init: .*(libearly|libsendcache)\.so' |
	sed 's|.*/||' | tr '\n' ' ')
is "$order" "libearly.so libsendcache.so " "the loader runs libearly's constructor first"

out=$(SENDCACHE_STATS_FILE=$dir/stats EARLY_FILE=$dir/early.txt \
	LD_PRELOAD="$tap_preload $early" /bin/true)
is "$out" "early: 3 of 3 opens read the file" "open/read/fstat/close work before our constructor"
hits=$(awk '$1 == "open_hit" { print $2 }' "$dir/stats")
is "$hits" 2 "the second and third opens were served from the cache"
bad=$(SENDCACHE_MAX_FDS=garbage EARLY_FILE=$dir/early.txt \
	LD_PRELOAD="$tap_preload $early" /bin/true 2>&1 >/dev/null)
like "$bad" "SENDCACHE_MAX_FDS='garbage' is not" "a bad value early still gives one clear line"
