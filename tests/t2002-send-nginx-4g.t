#!/usr/bin/env bash
# t2002-send-nginx-4g: byte ranges past 2^32 of a sparse 5 GiB file through
# nginx (Debian's configuration: sendfile, tcp_nopush), without and with
# the library: the same status, headers but Date, and bytes. The file is
# too large to map, so the library opens and stats it from the cache and
# passes the body to the real sendfile with 64-bit offsets; its counters
# show that it did.
. "$(dirname "$0")/tap/tap.sh"
. "$(dirname "$0")/tap/nginx.sh"
tap_require "$nginx_bin" curl truncate sha256sum
tap_require_lib

ranges=(4294967296-4295067295 4294967000-4294968000 5368608000- -1000 0-99
	4294967290-4294967300,5000000000-5000000010)
plan $(( ${#ranges[@]} + 4 ))

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
truncate -s 5G "$dir/www/big.bin"
# Data around 2^32 and near the end; the rest reads as zeros.
head -c 3000000 /dev/urandom |
	dd of="$dir/www/big.bin" bs=1M seek=4095 conv=notrunc status=none
head -c 100000 /dev/urandom |
	dd of="$dir/www/big.bin" bs=1000 seek=5368608 conv=notrunc status=none
nginx_www_perms "$dir"

# fetch OUT: every range (twice: the second is a cache hit with the
# library), each as status + headers without Date + body digest, to OUT.
fetch() {
	local r i
	for r in "${ranges[@]}"; do
		for i in 1 2; do
			curl -s --max-time 10 -D "$dir/h" -o "$dir/b" -r "$r" \
				"http://127.0.0.1:$port/big.bin"
			echo "== $r ($?)"
			tr -d '\r' <"$dir/h" | grep -v '^Date:'
			sha256sum <"$dir/b"
		done
	done >"$1"
}

nginx_start "$dir" || bail_out "nginx did not start"
fetch "$dir/without"
# Workers (www-data under a root master) append their counters at exit.
: >"$dir/stats" && chmod 0666 "$dir/stats"
SENDCACHE_STATS_FILE=$dir/stats nginx_start "$dir" with ||
	bail_out "nginx with the library did not start"
fetch "$dir/with"
nginx_stop "$dir"

for r in "${ranges[@]}"; do
	is "$(sed -n "/^== $r /,/^== /p" "$dir/with")" \
	   "$(sed -n "/^== $r /,/^== /p" "$dir/without")" \
	   "range $r: the same status, headers and bytes"
done
like "$(cat "$dir/without")" "Content-Range: bytes 4294967296-4295067295/5368709120" \
	"nginx answered the ranges past 2^32 (206, Content-Range)"
is "$(grep -c '^== .* (0)$' "$dir/with")" $(( ${#ranges[@]} * 2 )) \
	"every request with the library completed"
# The second request of each range hits the cache.
hits=$(awk '$1 == "open_hit" { s += $2 } END { print s + 0 }' "$dir/stats")
ok "the library served the opens from its cache ($hits hits)" test "$hits" -ge "${#ranges[@]}"
sent=$(awk '$1 == "sendfile_bytes" { s += $2 } END { print s + 0 }' "$dir/stats")
ok "and passed the bodies to the real sendfile ($sent bytes)" test "$sent" -ge 200000
