#!/usr/bin/env bash
# cost.sh - instructions per hit and per miss (valgrind's callgrind:
# repeatable on a noisy machine, unlike req/s), for nginx alone and with
# each library given.
#
# nginx (Debian-like config, one process, no master) runs under callgrind;
# one curl walks a list of URLs over one keep-alive connection. The cost
# of a request is the slope between a short and a long walk, so start-up
# work cancels out:
#   hit:  the same 1 KiB file again and again (cached after its first use);
#   miss: distinct files of 1 to 8 KiB, each asked for once, with
#         SENDCACHE_MAX_FDS=256 so that the cache is full after the first
#         few hundred: what a file seen once costs in a full cache.
#   bench/cost.sh [LIB...]     default: build/libsendcache.so
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
libs=("$@")
((${#libs[@]})) || libs=("$root/build/libsendcache.so")
short=1000 long=3000
for c in valgrind curl nginx perl; do
	command -v "$c" >/dev/null || { echo "cost: $c is missing" >&2; exit 1; }
done
. "$root/tests/tap/nginx.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/sendcache-cost.XXXXXX")
chmod 0755 "$dir"
pid=
trap '[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 10000))
nginx_conf "$dir" "$port"
sed -i 's/^daemon on;/daemon off;\nmaster_process off;/' "$dir/nginx.conf"
head -c 1024 /dev/urandom >"$dir/www/1k.bin"
perl -e 'for my $i (0 .. $ARGV[1] - 1) {
	open(my $f, ">", "$ARGV[0]/m$i.bin") or die; print $f "x" x (1024 + $i * 997 % 7168) }' \
	"$dir/www" "$long"
chmod -R a+rX "$dir/www"

# urls KIND N: a curl config asking for N URLs.
urls() {
	local i
	for ((i = 0; i < $2; i++)); do
		if [[ $1 == hit ]]; then
			echo "url = \"http://127.0.0.1:$port/1k.bin\""
		else
			echo "url = \"http://127.0.0.1:$port/m$i.bin\""
		fi
		echo 'output = "/dev/null"'
	done
}

# instructions LIB KIND N: callgrind's total for one nginx life serving N
# requests of KIND ("none" for LIB: nginx alone).
instructions() {
	local -a env=(env)
	[[ $1 != none ]] && env+=(LD_PRELOAD="$1" SENDCACHE_STATS=0 SENDCACHE_MAX_FDS=256)
	"${env[@]}" valgrind --tool=callgrind --callgrind-out-file="$dir/cg" \
		nginx -p "$dir" -c "$dir/nginx.conf" 2>/dev/null &
	pid=$!
	for _ in $(seq 200); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/1k.bin" && break
		sleep 0.1
	done
	urls "$2" "$3" >"$dir/urls"
	curl -fs -K "$dir/urls" || { echo "cost: curl failed" >&2; exit 1; }
	kill -QUIT "$pid"
	wait "$pid" || true
	pid=
	awk '/^summary:/ { print $2 }' "$dir/cg"
}

echo "instructions per request of nginx (slope of $short..$long requests, one keep-alive connection):"
printf '%-50s %10s %10s\n' library hit miss
for lib in none "${libs[@]}"; do
	row=()
	for kind in hit miss; do
		a=$(instructions "$lib" "$kind" "$short")
		b=$(instructions "$lib" "$kind" "$long")
		row+=($(((b - a) / (long - short))))
	done
	printf '%-50s %10s %10s\n' "$lib" "${row[@]}"
done
