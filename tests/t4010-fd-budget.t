#!/bin/bash
# t4010-fd-budget: the default descriptor budget follows the limit the
# server lives by.
#
# Unless SENDCACHE_MAX_FDS says otherwise, the cache may hold a quarter of
# the soft RLIMIT_NOFILE (at most 16384), read again while the cache is
# full, so a limit the server raises after start counts. nginx runs with
# the library under a soft limit of 256 (a budget of 64), twice:
#   1. as it is: 400 distinct files, each asked for twice, leave the worker
#      holding at most 64 descriptors of the cache (sampled from /proc as
#      well as from the counters) and sendcache-stat says fds_budget 64;
#   2. with "worker_rlimit_nofile 4000;" (nginx raises the worker's limit
#      after the library started): the budget grows to 1000 and the same
#      files are all cached (fds_held over 300).
# Every body must be the file's bytes.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl perl cmp
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"

nfiles=400
soft=256

# counter NAME JSON: the value of NAME in sendcache-stat -j output.
counter() { grep -o "\"$1\": *[0-9]*" <<<"$2" | head -1 | grep -o '[0-9]*$'; }
fd_count() { local f=(/proc/"$1"/fd/*); echo "${#f[@]}"; }

# run TAG EXTRA: nginx with the library under the soft limit, EXTRA added
# to the main context of its configuration; every file asked for twice
# over one connection while /proc is sampled. Sets json (the worker's
# counters), peak, fds0.
run() {
	local tag=$1 extra=$2 dir port name www i sampler_pid
	dir=$(tap_tmpdir)
	port=$(tap_free_port)
	nginx_conf "$dir" "$port"
	sed -i "s/^worker_processes 1;/worker_processes 1;\n$extra/; s/worker_connections 768;/worker_connections 64;/" \
		"$dir/nginx.conf"
	www=$dir/www
	perl -e 'my ($www, $n) = @ARGV;
		for my $i (0 .. $n - 1) {
			my $d = sprintf("%s/d%d", $www, $i / 100);
			mkdir $d unless -d $d;
			open(my $f, ">", "$d/f$i.txt") or die "$d/f$i.txt: $!";
			print $f "file $i\n" x (1 + $i % 50);
		}' "$www" "$nfiles"
	nginx_www_perms "$dir"
	for ((i = 0; i < nfiles; i++)); do
		printf 'url = "http://127.0.0.1:%s/d%d/f%d.txt"\n' "$port" $((i / 100)) "$i"
	done >"$dir/urls"
	for ((i = 0; i < nfiles; i++)); do
		printf '%s/d%d/f%d.txt\n' "$www" $((i / 100)) "$i"
	done | xargs cat >"$dir/expected"
	name=t4010-$tag-$$
	ulimit -S -n "$soft"
	SENDCACHE_STATS_NAME=$name nginx_start_with "$dir"
	ulimit -S -n "$(ulimit -H -n)"
	tap_at_exit rm -f "/dev/shm/sendcache.$name"
	curl -s -o /dev/null "http://127.0.0.1:$port/"
	fds0=$(fd_count "$worker")
	(while [[ -d /proc/$worker ]]; do fd_count "$worker"; sleep 0.05; done) >"$dir/samples" &
	sampler_pid=$!
	ok "$tag: pass 1, $nfiles distinct files, every byte right" \
		eval "curl -s --max-time 60 -K '$dir/urls' | cmp -s - '$dir/expected'"
	ok "$tag: pass 2, the same files again, every byte right" \
		eval "curl -s --max-time 60 -K '$dir/urls' | cmp -s - '$dir/expected'"
	kill "$sampler_pid" 2>/dev/null
	wait "$sampler_pid" 2>/dev/null
	peak=$(sort -n "$dir/samples" | tail -1)
	json=$("$stat_cli" -j -n "$name" -p "$worker")
	nginx_stop "$dir"
}

plan 12

run plain ""
budget=$(counter fds_budget "$json")
held=$(counter fds_held "$json")
is "$budget" $((soft / 4)) "plain: fds_budget is a quarter of the soft limit"
ok "plain: the cache holds $held <= $budget descriptors" test "${held:-999}" -le "$budget"
ok "plain: and is full ($held >= $budget - 2)" test "${held:-0}" -ge $((budget - 2))
ok "plain: the worker's descriptors peaked at $peak <= $fds0 + $budget + 2" \
	test "${peak:-999}" -le $((fds0 + budget + 2))

run raised "worker_rlimit_nofile 4000;"
budget=$(counter fds_budget "$json")
held=$(counter fds_held "$json")
is "$budget" 1000 "raised: fds_budget follows the limit nginx set in its worker"
ok "raised: the cache holds $held descriptors, over 300 (every file of the walk)" \
	test "${held:-0}" -gt 300
