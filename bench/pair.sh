#!/usr/bin/env bash
# pair.sh - the cost of the library on one server and stream of the real
# site, measured on both sides at once.
#
# ab.sh and site.sh run "without" and "with" one after the other, and this
# VM's speed moves by up to 40% from one run to the next: a 5-round median
# of the one-hit stream spans 0.65x-1.26x. Here the server runs twice at
# the same time, without and with LD_PRELOAD=$SENDCACHE_LIB, both pinned
# to CPU 0, each loaded by its own wrk (both on CPU 1) over the same
# seconds. Whatever slows the machine slows both. Per run, each worker's
# CPU time (/proc/PID/schedstat) per request it served; the figure is the
# ratio without / with (below 1: the library costs CPU), median and
# quartiles over the runs. Quartiles are about 2% apart here.
#
# The site and streams are site.sh's (same generator and seed). The two
# servers walk disjoint ranges of the stream, which of them takes which
# alternating from run to run; on the onehit stream both are started
# afresh before a range would come round again, so no file is asked for
# twice by a server. Servers of one serving process (nginx, nginx-tls,
# lighttpd, lighttpd-fds): the CPU read is that process's. Debian 12's
# lighttpd keeps a descriptor per file of its stat cache and dies on a
# site of more than about 4,000 files without the library too; pair.sh
# then stops, naming the worker that is gone. lighttpd-fds
# (server.max-fds = 16384, bench/lib/ab-servers.sh) serves 20,000.
#
#   bench/pair.sh [--server KIND] [--stream NAME] [--runs N] [--duration SEC]
#                 [--files N]
# defaults: nginx-tls, onehit, 12 runs of 2 s, 100,000 files.

set -uo pipefail
PAIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/site.sh
. "$PAIR_ROOT/bench/site.sh"

note() { printf 'pair: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

pair_args() {
	KIND=nginx-tls STREAM=onehit RUNS=12 SECS=2
	while (($#)); do
		case $1 in
		--server | --stream | --runs | --duration | --files)
			(($# >= 2)) || die "$1 needs a value"
			case $1 in
			--server) KIND=$2 ;;
			--stream) STREAM=$2 ;;
			--runs) RUNS=$2 ;;
			--duration) SECS=$2 ;;
			--files) FILES=$2 ;;
			esac
			shift 2 ;;
		-h | --help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) die "unknown argument: $1" ;;
		esac
	done
	[[ ,nginx,nginx-tls,lighttpd,lighttpd-fds, == *,$KIND,* ]] ||
		die "server '$KIND': one of nginx, nginx-tls, lighttpd, lighttpd-fds (one serving process)"
	[[ ,$SITE_STREAMS, == *,$STREAM,* ]] || die "unknown stream '$STREAM' (known: $SITE_STREAMS)"
	local v
	for v in RUNS SECS FILES; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive integer, got '${!v}'"
	done
	((FILES >= 1000)) || die "--files must be at least 1000"
	# shellcheck disable=SC2034 # site_make's and check_prereqs'
	DIRS=$(((FILES + 99) / 100)) STREAM_LIST=("$STREAM") SERVER_LIST=("$KIND")
}

# pair_start: both servers afresh, pinned; sets P_PORT[m] and P_WORKER[m].
declare -A P_PORT P_WORKER
pair_start() {
	local m d
	local -a pids
	for m in without with; do
		d=$TMP/srv-$m
		bench_stop "$KIND" "$d" 2>/dev/null
		rm -rf "$d"
		mkdir -p "$d" || die "cannot write $d"
		P_PORT[$m]=$(tap_free_port) || die "no free port"
		bench_conf "$KIND" "$d" "${P_PORT[$m]}" >/dev/null 2>&1 || die "$KIND: no configuration"
		rm -rf "$d/www"
		cp -al "$TMP/site" "$d/www" || die "cannot link the site"
		srv_start "$(bench_kind "$KIND")" "$d" "$m" >/dev/null 2>&1 || die "$KIND $m did not start"
		mapfile -t pids < <(bench_pids "$KIND" "$d")
		pin_pids "$(srv_main_pid "$(bench_kind "$KIND")" "$d")" "${pids[@]}"
		P_WORKER[$m]=${pids[0]}
		[[ $m == with ]] && ! srv_has_lib "${P_WORKER[$m]}" &&
			die "the library is not mapped in pid ${P_WORKER[$m]}"
	done
}

# pair_load MODE OFFSET OUT: wrk on CPU 1 against MODE's server.
pair_load() {
	taskset -c "$CLIENT_CPU" timeout -k 2 $((SECS + 30)) \
		wrk -t1 -c"$SITE_CONNS" -d"${SECS}s" --timeout 10s -s "$TMP/site.lua" \
		"$(url "$KIND" "${P_PORT[$1]}")/" -- "$TMP/streams/$STREAM.txt" "$2" >"$3" 2>&1 </dev/null
}

# cpu_ns PID: the CPU time PID has run, in ns; fails if PID is gone.
cpu_ns() { local t _; read -r t _ 2>/dev/null <"/proc/$1/schedstat" && echo "$t"; }

pair_main() {
	bench_traps
	pair_args "$@"
	# No plots, no system-call counting (strace: perf is not probed).
	DO_PLOTS=0 DO_STRACE=0 COUNTER=strace
	check_prereqs
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sendcache-pair.XXXXXX") || die "mktemp failed"
	chmod 0755 "$TMP"
	((FILES < 100000)) && STREAM_LEN=$((STREAM_LEN * FILES / 100000))
	note "making $FILES files; $KIND, stream $STREAM, $RUNS runs of ${SECS}s; library $LIB"
	site_make
	local range=$((FILES / 4)) base=0 session=0 i oa ob ta tb na nb ca cb
	pair_start
	printf '%4s %9s %9s %11s %11s %8s\n' run 'req/s A' 'req/s B' 'us/req A' 'us/req B' 'A/B cpu'
	for ((i = 1; i <= RUNS; i++)); do
		oa=$base ob=$((base + range))
		(((i + session) % 2)) || { oa=$ob; ob=$base; }
		ta=$(cpu_ns "${P_WORKER[without]}") tb=$(cpu_ns "${P_WORKER[with]}")
		# cleanup() ends WRK_PID and AB_PID: the two loads here.
		pair_load without "$oa" "$TMP/a.txt" &
		WRK_PID=$!
		pair_load with "$ob" "$TMP/b.txt" &
		AB_PID=$!
		wait "$WRK_PID" "$AB_PID"
		WRK_PID='' AB_PID=''
		if ! ca=$(cpu_ns "${P_WORKER[without]}") || ! cb=$(cpu_ns "${P_WORKER[with]}"); then
			die "run $i: a server's worker is gone (without: ${P_WORKER[without]}, with: ${P_WORKER[with]})"
		fi
		ca=$((ca - ta)) cb=$((cb - tb))
		na=$(wrk_fields "$TMP/a.txt" | awk '{ print $1 + 0 }')
		nb=$(wrk_fields "$TMP/b.txt" | awk '{ print $1 + 0 }')
		((na > 0 && nb > 0)) || die "run $i: a wrk served nothing"
		# Up to SITE_CONNS more were sent and not counted when wrk stopped.
		[[ $STREAM == onehit ]] && ((na + SITE_CONNS > range || nb + SITE_CONNS > range)) &&
			die "run $i: more than $range requests: files would come twice; use a shorter --duration"
		awk -v i="$i" -v na="$na" -v nb="$nb" -v ca="$ca" -v cb="$cb" -v s="$SECS" 'BEGIN {
			printf "%4d %9.0f %9.0f %11.2f %11.2f %8.3f\n", i, na / s, nb / s,
				ca / 1000 / na, cb / 1000 / nb, (ca / na) / (cb / nb) }' | tee -a "$TMP/runs.txt"
		if [[ $STREAM == onehit ]]; then
			base=$((base + 2 * range))
			if ((base + 2 * range > FILES)); then
				base=0 session=$((session + 1))
				pair_start
			fi
		fi
	done
	sort -k6 -n "$TMP/runs.txt" | awk '{ r[NR] = $6 } END {
		printf "CPU per request, without / with: median %.3f (quartiles %.3f-%.3f, %d runs)\n",
			r[int((NR + 1) / 2)], r[int((NR + 3) / 4)], r[int((3 * NR + 1) / 4)], NR }'
	for m in without with; do bench_stop "$KIND" "$TMP/srv-$m"; done
}

pair_main "$@"
