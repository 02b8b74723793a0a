#!/bin/bash
# t2006-tail-stall: no response's last segment waits for a delayed ACK.
#
# nginx corks (TCP_CORK) around header + sendfile and uncorks after; the
# library keeps the cork in user space, so the kernel socket is not corked
# and the last, partial segment of a send is subject to Nagle. When a small
# segment is still unacknowledged it waits for the peer's ACK, which the
# peer delays up to 40 ms: under wrk with 16 connections over distinct
# files of 70 and 140 KB about one request in fifty waited so, and p99
# went from about 2 ms to 30-44 ms (nginx alone: 1.5-2.5 ms at 140 KB).
# The library now gives the socket TCP_NODELAY at its first send under
# a cork, once per connection, as the real uncork would push the tail.
#
# nginx with the library serves 1,500 distinct files of each size to wrk
# (one thread, 16 connections, 3 s, a path list walked in order by the
# real-site benchmark's bench/lib/site.lua); p99 must
# stay under 15 ms, every answer must be 200, and nodelay_set must count
# at most one per connection.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" wrk perl
tap_require_lib
stat_cli=$tap_build/sendcache-stat
p99_max_us=15000

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port" "		keepalive_requests 1000000;"
perl -e 'my ($www, $n) = @ARGV;
	for my $size (70000, 140000) {
		mkdir "$www/s$size";
		my $body = "x" x $size;
		for my $i (1 .. $n) {
			open(my $f, ">", "$www/s$size/f$i") or die "$www/s$size/f$i: $!";
			print $f $body;
		}
	}' "$dir/www" 1500
nginx_www_perms "$dir"
for ((i = 1; i <= 1500; i++)); do
	echo "/s70000/f$i"
	echo "/s140000/f$i"
done >"$dir/paths"

plan 5

# Server and client on CPUs of their own where there are two: sharing one,
# each waits for the other's time slices and p99 measures the scheduler.
cpus=$(nproc)
pin_client=()
((cpus >= 2)) && pin_client=(taskset -c 1)
name=t2006-$$
if ((cpus >= 2)); then taskset -p -c 0 $$ >/dev/null; fi
SENDCACHE_STATS_NAME=$name nginx_start_with "$dir"
if ((cpus >= 2)); then taskset -p -c 0-$((cpus - 1)) $$ >/dev/null; fi
tap_at_exit rm -f "/dev/shm/sendcache.$name"
out=$(timeout 30 "${pin_client[@]}" wrk -t1 -c16 -d3s --timeout 5s -s "$tap_top/bench/lib/site.lua" \
	"http://127.0.0.1:$port" -- "$dir/paths" 0 2>&1)
val() { grep '^AB-RESULT' <<<"$out" | grep -o " $1=[0-9]*" | head -1 | cut -d= -f2; }
requests=$(val requests) p99=$(val p99_us) bad=$(val status)
note "wrk: ${requests:-?} requests, p99 ${p99:-?} us, ${bad:-?} non-2xx"
ok "wrk ran (${requests:-0} requests), every answer 200" \
	test "${requests:-0}" -gt 1000 -a "${bad:-1}" = 0
ok "p99 ${p99:-?} us < $p99_max_us us: no tail waited for a delayed ACK" \
	test "${p99:-999999}" -lt "$p99_max_us"
nodelay=$("$stat_cli" -j -n "$name" | grep -o '"nodelay_set": *[0-9]*' | grep -o '[0-9]*$')
ok "TCP_NODELAY once per connection: nodelay_set=${nodelay:-?}, 1 to 16" \
	test "${nodelay:-0}" -ge 1 -a "${nodelay:-99}" -le 16
nginx_stop "$dir"
is "$(nginx_log_problems "$dir")" "" "nothing at crit or above in nginx's log"
