#!/usr/bin/env bash
# calls-by-size.sh - which system calls nginx's worker makes per request
# with the library, at each size of the send engine's targets: strace -c
# over a bounded ab run (keep-alive, 4 at a time) after a short warm-up.
# The point is the breakdown (setsockopt must be absent at every size), not
# the speed: strace slows the worker, and at full speed perf counts a few
# more EAGAIN reads and epoll waits (bench/ab.sh has those totals).
#
#   bench/calls-by-size.sh [--out DIR]        (needs root for strace -p)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$ROOT/bench/results/$(date +%Y%m%d)-$(hostname -s)-calls-by-size
[[ ${1-} == --out ]] && out=$2
for cmd in ab strace nginx; do
	command -v "$cmd" >/dev/null || { echo "$0: $cmd is missing (make deps)" >&2; exit 2; }
done
# shellcheck source-path=SCRIPTDIR/..
. "$ROOT/tests/tap/tap.sh" >/dev/null
. "$ROOT/tests/tap/nginx.sh"
plan 0 >/dev/null        # no assertions; tap.sh's exit handler stops nginx

mkdir -p "$out"
dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
declare -A bytes=([1k]=1024 [16k]=16384 [128k]=131072 [1m]=1048576 [64m]=67108864)
declare -A count=([1k]=2000 [16k]=2000 [128k]=1000 [1m]=400 [64m]=20)
sizes=(1k 16k 128k 1m 64m)
for s in "${sizes[@]}"; do
	head -c "${bytes[$s]}" /dev/urandom >"$dir/www/$s"
	chmod 0644 "$dir/www/$s"
done
nginx_start "$dir" with >/dev/null || { echo "$0: nginx did not start" >&2; exit 1; }
worker=$NGINX_WORKER_PID

{
	echo "# System calls per request of nginx's worker, with the library"
	echo
	echo "Debian's configuration (\`sendfile on\`, \`tcp_nopush on\`), one worker;"
	echo "\`strace -c -p\` over \`ab -k -c 4 -n N\` after a warm-up; $(date -u +%F), commit $(git -C "$ROOT" rev-parse --short HEAD)."
	echo
	echo "| size | requests | failed | setsockopt | writev | sendfile | all calls | all per request |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$out/calls.md"
for s in "${sizes[@]}"; do
	url="http://127.0.0.1:$port/$s"
	ab -q -k -c 1 -n 5 "$url" >/dev/null
	strace -c -f -p "$worker" -o "$out/strace-$s.txt" 2>/dev/null & tracer=$!
	sleep 0.5
	ab -q -k -c 4 -n "${count[$s]}" "$url" >"$out/ab-$s.txt"
	sleep 0.3
	kill -INT "$tracer"; wait "$tracer"
	awk -v s="$s" -v n="${count[$s]}" '
		FILENAME ~ /ab-/ && /^Failed requests:/ { failed = $3 }
		# strace -c rows: % time, seconds, usecs/call, calls, [errors,] name
		FILENAME ~ /strace-/ && $1 ~ /^[0-9.]+$/ { c[$NF] = $4 }
		END {
			printf "| %s | %d | %d | %d | %d | %d | %d | %.2f |\n", s, n, failed,
			    c["setsockopt"], c["writev"], c["sendfile"], c["total"], c["total"] / n
		}' "$out/ab-$s.txt" "$out/strace-$s.txt" >>"$out/calls.md"
done
cat "$out/calls.md"
