#!/usr/bin/env bash
# t4011-workers: several serving processes, each with a cache of its own.
# nginx with worker_processes 2 and Apache event with Debian's settings
# (StartServers 2: two children of 25 threads) serve 3,000 files in 30
# directories to 8 parallel clients, a new connection per request, so that
# both processes take connections. The library runs with small budgets
# (SENDCACHE_MAX_FDS=64, SENDCACHE_MAX_MAPPED=4M, every file cached at its
# first open) so that they bind in each process. Pass, per server:
#   - every body is the file's bytes, in two passes;
#   - at least two processes served requests;
#   - each serving process, sampled every 0.2 s from /proc, holds at most
#     its 64 descriptors more than before the load (plus the 8 connections
#     and the 8 files the server itself may have open at once) and maps at
#     most 4 MiB of the document root;
#   - sendcache-stat -p PID gives each process its own counters, and these
#     add up to the instance's totals;
#   - no complaint from the library, and the server is still up.
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/servers.sh"
. "$here/tap/procs.sh"

tap_require "$nginx_bin" curl perl
srv_require apache-event
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"

nfiles=${T4011_FILES:-3000} budget_fds=64 budget_mapped=$((4 << 20)) par=8
kinds=(nginx apache-event)
plan $(( ${#kinds[@]} * 8 ))

dir=$(tap_tmpdir)

# make_site WWW: nfiles files of 1 to 30,000 bytes, 100 per directory.
make_site() {
	perl -e '
		my ($www, $n) = @ARGV;
		open(my $r, "<:raw", "/dev/urandom") or die;
		read($r, my $pool, 1 << 20);
		for my $i (0 .. $n - 1) {
			my $d = sprintf("%s/d%02d", $www, $i / 100);
			mkdir $d unless -d $d;
			my $size = 1 + ($i * 7919) % 30000;
			open(my $f, ">:raw", "$d/f$i.bin") or die "$d/f$i.bin: $!";
			print $f substr($pool, ($i * 4099) % ((1 << 20) - 30000), $size);
			close $f;
		}' "$1" "$nfiles"
	chmod -R a+rX "$1"
}

# one_pass PORT WWW WORK N: every file once, par at a time, a connection
# each; 0 if every body is the file's bytes.
one_pass() {
	local port=$1 www=$2 work=$3 i bad
	rm -rf "$work/got" && mkdir -p "$work/got"
	for ((i = 0; i < nfiles; i++)); do
		printf 'url = "http://127.0.0.1:%s/d%02d/f%d.bin"\noutput = "%s/got/%d"\n' \
			"$port" $((i / 100)) "$i" "$work" "$i"
	done >"$work/urls"
	curl -s --fail --max-time 120 --parallel --parallel-max "$par" \
		-H 'Connection: close' -K "$work/urls" || return 1
	bad=$(perl -e '
		my ($work, $www, $n) = @ARGV;
		my $bad = 0;
		local $/;
		for my $i (0 .. $n - 1) {
			my $f = sprintf("%s/d%02d/f%d.bin", $www, $i / 100, $i);
			open(my $a, "<:raw", "$work/got/$i") or do { $bad++; next };
			open(my $b, "<:raw", $f) or die "$f: $!";
			$bad++ if <$a> ne <$b>;
		}
		print "$bad\n";' "$work" "$www" "$nfiles")
	[[ $bad == 0 ]] || diag "$bad of $nfiles bodies differ"
	[[ $bad == 0 ]]
}

# counter JSON NAME: the value of counter NAME in sendcache-stat -j output.
counter() { grep -o "\"$2\": *[0-9]*" <<<"$1" | grep -o '[0-9]*$'; }

for kind in "${kinds[@]}"; do
	d=$dir/$kind work=$dir/$kind.work
	mkdir -p "$work"
	port=$(tap_free_port)
	name=t4011-$kind-$$
	tap_at_exit rm -f "/dev/shm/sendcache.$name"
	export SENDCACHE_ADMIT_ALL=1 SENDCACHE_MAX_FDS=$budget_fds SENDCACHE_MAX_MAPPED=4M
	srv_conf "$kind" "$d" "$port"
	[[ $kind == nginx ]] &&
		sed -i 's/^worker_processes 1;/worker_processes 2;/' "$d/nginx.conf"
	make_site "$d/www"
	[[ $kind == nginx ]] && nginx_www_perms "$d"
	SENDCACHE_STATS_NAME=$name srv_start "$kind" "$d" with ||
		bail_out "$kind with the library did not start"
	main=$SRV_PID
	unset SENDCACHE_ADMIT_ALL SENDCACHE_MAX_FDS SENDCACHE_MAX_MAPPED
	mapfile -t procs < <(srv_serving_pids "$kind" "$d")
	# A first request each (a process allocates at its first), then the
	# baselines and the samplers.
	for ((i = 0; i < 8; i++)); do
		curl -s -o /dev/null -H 'Connection: close' "http://127.0.0.1:$port/d00/f0.bin"
	done
	# Counters before the load: the totals also hold what processes that
	# exited before it counted (Apache's start, nginx's "-s" signallers).
	declare -A hit0=() miss0=() ev0=()
	for p in total "$main" "${procs[@]}"; do
		json=$("$stat_cli" -j -n "$name" $([[ $p != total ]] && echo "-p $p"))
		hit0[$p]=$(counter "$json" open_hit) miss0[$p]=$(counter "$json" open_miss)
		ev0[$p]=$(counter "$json" evictions)
	done
	spids=()
	declare -A fds0=()
	for p in "${procs[@]}"; do
		fds0[$p]=$(proc_fds "$p")
		proc_sampler "$p" "$d/www" "$work/samples.$p" &
		spids+=($!)
		tap_at_exit kill "$!"
	done

	ok "$kind: pass 1, $nfiles files over ${#procs[@]} processes, every byte right" \
		one_pass "$port" "$d/www" "$work"
	ok "$kind: pass 2, every byte right" one_pass "$port" "$d/www" "$work"
	kill "${spids[@]}" 2>/dev/null
	wait "${spids[@]}" 2>/dev/null

	served=0 over='' total_json=$("$stat_cli" -j -n "$name") sum_hit=0 sum_miss=0 sum_ev=0
	for p in "$main" "${procs[@]}"; do
		json=$("$stat_cli" -j -n "$name" -p "$p") || { over+=" $p: sendcache-stat -p failed"; continue; }
		h=$(( $(counter "$json" open_hit) - hit0[$p] )) m=$(( $(counter "$json" open_miss) - miss0[$p] ))
		e=$(( $(counter "$json" evictions) - ev0[$p] ))
		sum_hit=$((sum_hit + h)) sum_miss=$((sum_miss + m)) sum_ev=$((sum_ev + e))
		[[ $p == "$main" ]] && continue
		((h + m > 0)) && served=$((served + 1))
		read -r pf pm < <(awk '$1 > f { f = $1 } $3 > m { m = $3 } END { print f + 0, m + 0 }' \
			"$work/samples.$p")
		note "$kind pid $p: $h hits, $m misses, $e evictions; peaks $pf fds" \
			"(baseline ${fds0[$p]}), $pm bytes mapped, $(wc -l <"$work/samples.$p") samples"
		((pf <= fds0[$p] + budget_fds + 2 * par)) ||
			over+=" $p: $pf fds > ${fds0[$p]} + $budget_fds + $((2 * par));"
		((pm <= budget_mapped)) || over+=" $p: $pm bytes mapped > $budget_mapped;"
		(($(wc -l <"$work/samples.$p") >= 3)) || over+=" $p: only $(wc -l <"$work/samples.$p") samples;"
	done
	ok "$kind: at least two processes served requests ($served of ${#procs[@]})" test "$served" -ge 2
	is "$over" "" "$kind: each process within its budgets ($budget_fds fds, 4 MiB mapped)"
	is "$sum_hit $sum_miss $sum_ev" \
		"$(( $(counter "$total_json" open_hit) - hit0[total] )) $(( $(counter "$total_json" open_miss) - miss0[total] )) $(( $(counter "$total_json" evictions) - ev0[total] ))" \
		"$kind: over the load, per-process counters (sendcache-stat -p) add up to the totals (hits, misses, evictions)"
	ok "$kind: the budgets bound ($sum_ev evictions)" test "$sum_ev" -gt $((nfiles / 2))
	is "$(grep -h 'sendcache:' "$d/error.log" "$d/server.out" 2>/dev/null)" "" \
		"$kind: no complaint from the library"
	ok "$kind: still running" srv_is_main "$main" "$kind" "$d"
	srv_stop "$kind" "$d"
done
