#!/usr/bin/env bash
# stats-cost.sh - what the shared-memory counters cost per request, in
# instructions (valgrind's callgrind: repeatable on a noisy machine, unlike
# req/s). nginx (Debian-like config, one process, no master) runs under
# callgrind with the library, counters in the segment (SENDCACHE_STATS=1)
# or private (0); the cost of a request is the slope between a short and a
# long ab run, so start-up work cancels out.
#   bench/stats-cost.sh [SHORT LONG]      default 2000 8000 requests
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib=${SENDCACHE_LIB:-$root/build/libsendcache.so}
short=${1:-2000} long=${2:-8000}
for c in valgrind ab nginx; do
	command -v "$c" >/dev/null || { echo "stats-cost: $c is missing" >&2; exit 1; }
done
[ -f "$lib" ] || { echo "stats-cost: $lib not built (run make)" >&2; exit 1; }

. "$root/tests/tap/nginx.sh"
dir=$(mktemp -d /tmp/sendcache-cost.XXXXXX)
chmod 0755 "$dir"
pid=
trap '[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 10000))
nginx_conf "$dir" "$port"
sed -i 's/^daemon on;/daemon off;\nmaster_process off;/' "$dir/nginx.conf"
head -c 1024 /dev/urandom >"$dir/www/1k.bin"
chmod 0644 "$dir/www/1k.bin"

# instructions MODE REQUESTS: callgrind's total for one nginx life.
instructions() {
	SENDCACHE_STATS=$1 LD_PRELOAD=$lib valgrind --tool=callgrind \
		--callgrind-out-file="$dir/cg" nginx -p "$dir" -c "$dir/nginx.conf" \
		2>/dev/null &
	pid=$!
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/1k.bin" && break
		sleep 0.1
	done
	ab -q -k -n "$2" -c 4 "http://127.0.0.1:$port/1k.bin" | grep -q "Failed requests: *0" ||
		{ echo "stats-cost: ab saw failures" >&2; exit 1; }
	kill -QUIT "$pid"
	wait "$pid" || true
	pid=
	awk '/^summary:/ { print $2 }' "$dir/cg"
}

echo "instructions per request of nginx + sendcache (1 KiB, keep-alive), slope $short..$long requests:"
for mode in 1 0; do
	a=$(instructions "$mode" "$short")
	b=$(instructions "$mode" "$long")
	per=$(( (b - a) / (long - short) ))
	eval "per_$mode=$per"
	echo "  SENDCACHE_STATS=$mode: $per"
done
awk -v on="$per_1" -v off="$per_0" 'BEGIN {
	printf "counters in shared memory vs private: %.3fx the instructions (req/s ratio on/off ~ %.3fx)\n", on / off, off / on }'
