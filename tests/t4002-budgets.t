#!/bin/bash
# t4002-budgets: ten thousand distinct files through a 16 MiB budget.
#
# DESIGN.md invariant 8: mapped bytes and persistent descriptors stay under
# their budgets, with LRU eviction. nginx runs with the library,
# SENDCACHE_MAX_MAPPED=16M and SENDCACHE_MAX_FDS=256, and serves 10,000
# distinct small files (about 40 MiB; the descriptor budget binds), then
# 400 of 80 to 127 KiB (about 40 MiB, all below the 128 KiB merge limit,
# so all mapped; the mapping budget binds), twice over one keep-alive
# connection. SENDCACHE_ADMIT_ALL=1: every file is cached at its first
# open, so that both budgets bind (by default a full cache admits only
# files asked for more often than its least recently used entry, and a
# walk over distinct files evicts nothing: t0004 tests that). While
# it runs, the worker is sampled every 0.2 s from /proc, independently of
# the library's own gauges:
#   - file mappings of the document root (/proc/PID/maps): at most 16 MiB
#     (the library counts a mapping's whole pages against the budget, as
#     the kernel maps them);
#   - descriptors (/proc/PID/fd): at most 256 more than before the load,
#     plus the one connection the load comes on and the file nginx itself
#     has open on a miss (it would without the library too);
#   - resident memory (VmRSS): at most 16 MiB + OVERHEAD_KIB more than
#     before the load. The overhead is the cache's own tables (entries,
#     names, the descriptor table) and nginx's own growth: 8 MiB.
# Every body must be the file's bytes, the library must not complain (its
# record of the server's file mappings must not fill with its own), the
# eviction counter must have moved, the second pass must not add descriptors to those the first left
# (no leak), and stopping nginx must remove its segment.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/procs.sh"

tap_require "$nginx_bin" curl perl cmp
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"

nfiles=10000
budget_mapped=$((16 << 20))
budget_fds=256
nbig=400
overhead_kib=8192
# Mappings are held to the budget exactly (whole pages are counted).
overhead_map=0

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
www=$dir/www
work=$dir/work
mkdir -p "$work"

# 10,000 files of 1 to 8191 bytes (about 40 MiB), 100 per directory.
perl -e '
	my ($www, $n, $nbig) = @ARGV;
	open(my $r, "<:raw", "/dev/urandom") or die;
	read($r, my $pool, 1 << 20);
	for my $i (0 .. $n - 1) {
		my $d = sprintf("%s/d%03d", $www, $i / 100);
		mkdir $d unless -d $d;
		my $size = 1 + ($i * 7919) % 8191;
		open(my $f, ">:raw", "$d/f$i.bin") or die "$d/f$i.bin: $!";
		print $f substr($pool, ($i * 4099) % ((1 << 20) - 8192), $size);
		close $f;
	}
	mkdir "$www/big";
	for my $i (0 .. $nbig - 1) {
		my $size = 80 * 1024 + ($i * 7919) % (47 * 1024);
		open(my $f, ">:raw", "$www/big/b$i.bin") or die "b$i.bin: $!";
		print $f substr($pool, ($i * 8191) % ((1 << 20) - 131072), $size);
		close $f;
	}' "$www" "$nfiles" "$nbig"
nginx_www_perms "$dir"
: >"$work/urls"
{
	for ((i = 0; i < nfiles; i++)); do
		printf 'url = "http://127.0.0.1:%s/d%03d/f%d.bin"\n' "$port" $((i / 100)) "$i"
	done
	for ((i = 0; i < nbig; i++)); do
		printf 'url = "http://127.0.0.1:%s/big/b%d.bin"\n' "$port" "$i"
	done
} >"$work/urls"
# The expected stream: every file in request order.
{
	for ((i = 0; i < nfiles; i++)); do
		printf '%s/d%03d/f%d.bin\n' "$www" $((i / 100)) "$i"
	done
	for ((i = 0; i < nbig; i++)); do
		printf '%s/big/b%d.bin\n' "$www" "$i"
	done
} | xargs cat >"$work/expected"

# settle_fds: give the worker up to 2 s to close the finished connection.
settle_fds() {
	local steps
	for ((steps = 40; steps > 0; steps--)); do
		(( $(proc_fds "$worker") <= fds0 + budget_fds )) && return
		sleep 0.05
	done
}

# one_pass N: all files once over one connection; 0 if every byte is right.
one_pass() {
	curl -s --max-time 120 -K "$work/urls" >"$work/got.$1" &&
		cmp -s "$work/got.$1" "$work/expected"
}

name=t4002-$$
plan 13

SENDCACHE_ADMIT_ALL=1 SENDCACHE_MAX_MAPPED=16M SENDCACHE_MAX_FDS=$budget_fds SENDCACHE_STATS_NAME=$name \
	nginx_start_with "$dir"
tap_at_exit rm -f "/dev/shm/sendcache.$name"

# Warm nginx itself (its first request allocates), then take the baseline.
curl -s -o /dev/null "http://127.0.0.1:$port/d000/f0.bin"
fds0=$(proc_fds "$worker")
rss0=$(proc_rss_kib "$worker")

proc_sampler "$worker" "$www" "$work/samples" &
sampler_pid=$!
tap_at_exit kill "$sampler_pid"
ok "pass 1: $((nfiles + nbig)) distinct files, every byte right" one_pass 1
settle_fds; fds1=$(proc_fds "$worker")
ok "pass 2: the same files again, every byte right" one_pass 2
settle_fds; fds2=$(proc_fds "$worker")
kill "$sampler_pid" 2>/dev/null
wait "$sampler_pid" 2>/dev/null

read -r max_fds max_rss max_mapped < <(awk '
	$1 > f { f = $1 } $2 > r { r = $2 } $3 > m { m = $3 }
	END { print f + 0, r + 0, m + 0 }' "$work/samples")
samples=$(wc -l <"$work/samples")
note "baseline: $fds0 fds, $rss0 KiB RSS; peaks over $samples samples:" \
	"$max_fds fds, $max_rss KiB RSS, $max_mapped bytes mapped"
ok "sampled the worker during the load ($samples samples)" test "$samples" -ge 5
ok "mapped bytes of the document root peaked at $max_mapped <= $budget_mapped + $overhead_map" \
	test "$max_mapped" -le $((budget_mapped + overhead_map))
ok "and the mapping budget was reached: over 12 MiB mapped at the peak" \
	test "$max_mapped" -gt $((12 << 20))
ok "descriptors peaked at $max_fds <= $fds0 + $budget_fds + 2 (the connection, the file nginx has open)" \
	test "$max_fds" -le $((fds0 + budget_fds + 2))
ok "RSS grew by $((max_rss - rss0)) KiB <= 16 MiB + $overhead_kib KiB" \
	test $((max_rss - rss0)) -le $(( ((budget_mapped + overhead_map) >> 10) + overhead_kib ))

json=$("$stat_cli" -j -n "$name")
ev=$(grep -o '"evictions": *[0-9]*' <<<"$json" | grep -o '[0-9]*$')
ok "the cache evicted to stay in budget (evictions=$ev)" test "${ev:-0}" -ge $((nfiles / 2))
ok "the second pass did not add descriptors ($fds1 after the first, $fds2 after it)" \
	test "$fds2" -le "$fds1"

is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker"
# The cache's own mappings are not the server's: were they recorded as
# such (src/fmaps.c), the 10,400 would fill its table and turn holding off.
is "$(grep -h 'sendcache:' "$dir/error.log" "$dir/server.out" 2>/dev/null)" "" \
	"no complaint from the library (file mappings, budgets)"
nginx_stop "$dir"
ok "stopping nginx removed its stats segment" test ! -e "/dev/shm/sendcache.$name"
