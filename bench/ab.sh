#!/usr/bin/env bash
# ab.sh - A/B benchmark of unmodified static-file servers without and with
# sendcache preloaded, beside two nginx anchors, for several file sizes.
#
# Servers: every one of tests/servers/, each as the tests configure it:
# nginx (Debian's configuration, one worker), the same nginx over HTTPS
# (nginx-tls: HTTP/1.1, TLS 1.2/1.3, an ECDSA certificate made for the
# run; no kTLS here, so bodies are read and encrypted in user space),
# lighttpd, Apache event and prefork, busybox httpd and python3's
# http.server.
# Anchors, always without the library: nginx returning a body of the same
# size from memory ("mem": `return 200 "..."`, the floor unmodified nginx
# can reach) and nginx tuned by hand ("tuned": open_file_cache and
# tcp_nopush), so every table shows what a user could do instead.
#
# Method: for each size, round after round, every server runs without then
# with the library (A B A B ...), then the anchors. Every run starts the
# server afresh on a new port with its processes pinned to CPU 0; wrk (one
# thread) runs pinned to CPU 1. A run is: start, a content check with curl,
# a warm-up, the measured wrk run (req/s, MB/s, wrk --latency p50/p99, CPU
# time of the serving processes from /proc/PID/stat), then a separate
# shorter wrk run during which the serving processes' system calls are
# counted (perf stat -e raw_syscalls:sys_enter -p PIDS, the main process
# included so that children forked meanwhile count; strace -c -f when perf
# cannot), so that the counter's cost stays out of the measured run.
# Per-request figures, req/s included, count the responses sent in whole
# bodies: wrk's byte count over the size of one response (header and body,
# from the content check), which also counts the responses cut off when
# wrk stops (for 64 MiB, most of a short run); for the mixed set, wrk's
# request count.
#
# After the runs, a "which calls" breakdown per server: one short bounded
# ab run of 1 KiB requests under `strace -f -c -p PIDS`, without and with
# the library, as calls per request for each system call name.
#
# Results go to bench/results/<date>-<host>[-TAG]/: rounds.csv (every run),
# summary.csv (medians and ratios), results.md, plot-*.png, strace-*.md,
# machine.txt and raw/ (wrk, counter and strace outputs).
#
# The pieces, under bench/lib/: ab-args.sh (options, prerequisites),
# ab-site.sh (the files and the wrk scripts), ab-servers.sh (starting and
# stopping a server: tests/tap/servers.sh and one file per server under
# tests/servers/), measure.sh (wrk, CPU time, system-call counters),
# ab-run.sh (one run, one row; the strace breakdown), ab-report.sh
# (machine.txt, results.md, plots); bench/site.sh reuses them all.

set -uo pipefail
unset LD_PRELOAD TAP_PRELOAD TAP_NO_PRELOAD SENDCACHE_STATS_NAME SENDCACHE_PREWARM

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

# tap.sh brings the helpers servers.sh uses (diag, tap_free_port, ...);
# its plan-checking exit trap is not for a benchmark, so main replaces it.
# servers.sh brings every server of tests/servers/. (A test may source
# this file: then only main is not run.)
# shellcheck source=tests/tap/tap.sh
. "$ROOT/tests/tap/tap.sh"
# shellcheck source=tests/tap/servers.sh
. "$ROOT/tests/tap/servers.sh"
# shellcheck source=bench/lib/ab-args.sh
. "$BENCH/lib/ab-args.sh"
# shellcheck source=bench/lib/ab-site.sh
. "$BENCH/lib/ab-site.sh"
# shellcheck source=bench/lib/ab-servers.sh
. "$BENCH/lib/ab-servers.sh"
# shellcheck source=bench/lib/measure.sh
. "$BENCH/lib/measure.sh"
# shellcheck source=bench/lib/ab-run.sh
. "$BENCH/lib/ab-run.sh"
# shellcheck source=bench/lib/ab-report.sh
. "$BENCH/lib/ab-report.sh"

# The helpers register their stop commands with tap_at_exit; the harness
# stops every server itself and runs these only as a safety net at exit
# (main puts this in place of tap.sh's).
AT_EXIT=()
bench_at_exit() { AT_EXIT+=("$(printf '%q ' "$@")"); }

readonly SERVER_CPU=0
readonly CLIENT_CPU=1
# Every server of tests/servers/: these first, in this order (the tables'),
# then any other.
ALL_SERVERS=$(printf '%s\n' "${srv_kinds[@]}" |
	awk -v first="nginx nginx-tls lighttpd apache-event busybox apache-prefork python" '
		BEGIN { n = split(first, f, " "); for (i = 1; i <= n; i++) rank[f[i]] = i }
		{ print ($0 in rank ? rank[$0] : n + 1), $0 }' | sort -s -n -k1,1 | cut -d' ' -f2 | paste -sd,)
readonly ALL_SERVERS
readonly ALL_SIZES=1k,16k,128k,1m,64m,mix
readonly ALL_ANCHORS=mem,tuned
# A `return 200` body is built from one constant chunk repeated; nginx
# limits a configuration token to 4 KiB, so the chunk must stay well under
# that and a body needs at most 1 MiB / chunk references to it.
readonly MEM_CHUNK=3000
readonly MEM_MAX=$((1 << 20))
# The hand-tuned nginx: what its documentation offers for many small
# files (Debian already sets sendfile and tcp_nopush; said again here).
readonly TUNED_EXTRA='		open_file_cache max=10000 inactive=60s;
		open_file_cache_valid 60s;
		open_file_cache_min_uses 1;
		open_file_cache_errors on;
		tcp_nopush on;'
# Keep-alive servers get 16 connections: enough to keep one core busy
# (a server's file may say fewer: srv_ID_conns).
readonly DEFAULT_CONNS=16
# ab's bounded run for the "which calls" breakdown: requests for a server
# with keep-alive, and for one that closes every connection.
readonly STRACE_DEFAULT_REQS=2000 STRACE_CLOSE_REQS=400
# A closed-loop run keeps one of its two CPUs busy; when neither was busier
# than this, something outside the benchmark took the time.
readonly SATURATED_PCT=95
# rounds.csv's columns (bench/lib/row.awk writes a row).
readonly CSV_HEADER='server,config,size,size_bytes,round,status,requests,duration_s,req_per_s,mb_per_s,p50_ms,p99_ms,errors,served,cpu_s,cpu_s_per_10k,count_requests,count_served,syscalls,syscalls_per_req,counter,lib_loaded,content_ok,server_cpu_busy_pct,client_cpu_busy_pct,conns,note'

LIB=${SENDCACHE_LIB:-$ROOT/build/libsendcache.so}
STAT_CLI=${SENDCACHE_STAT:-$ROOT/build/sendcache-stat}

QUICK=0
SERVERS=$ALL_SERVERS
SIZES=$ALL_SIZES
ANCHORS=$ALL_ANCHORS
ROUNDS='' DURATION='' WARMUP='' COUNT_SECS='' PIPELINE=1
OUT='' TAG='' TIME_LIMIT=''
COUNTER=auto
DO_STRACE=1
DO_PLOTS=1
A_STATS_OFF=0
PREWARM=1
SHOW_STATS=1

# What the cleanup needs: everything started is tracked by pid.
TMP=
CUR_KIND='' CUR_DIR=''
WRK_PID='' COUNTER_PID='' AB_PID='' CLOCK_PID=''
CLEANED=0
FLAGS=()
FAILURES=0
RUN_NO=0

say() { printf '%s\n' "$*"; }
note() { printf 'ab: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }
flag() {
	FLAGS+=("$*")
	printf '  RED FLAG: %s\n' "$*"
}

# ------------------------------------------------------------------ cleanup

cleanup() {
	local i
	((CLEANED)) && return
	CLEANED=1
	for pid in "$WRK_PID" "$AB_PID"; do
		if alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	if alive "$CLOCK_PID"; then
		kill -INT "$CLOCK_PID" 2>/dev/null
		wait_gone "$CLOCK_PID" 20 || kill -KILL "$CLOCK_PID" 2>/dev/null
		wait "$CLOCK_PID" 2>/dev/null
	fi
	if alive "$COUNTER_PID"; then
		kill -INT "$COUNTER_PID" 2>/dev/null
		wait_gone "$COUNTER_PID" 20 || kill -KILL "$COUNTER_PID" 2>/dev/null
		wait "$COUNTER_PID" 2>/dev/null
	fi
	stop_current
	for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${AT_EXIT[i]}" >/dev/null 2>&1
	done
	if [[ -n $TMP && -d $TMP ]]; then
		if [[ -n $OUT && -d $OUT ]]; then
			mkdir -p "$OUT/raw" && cp -p "$TMP"/raw/* "$OUT/raw/" 2>/dev/null
		fi
		rm -rf "$TMP"
	fi
	# tap.sh's own temporary root (made when it was sourced).
	[[ -n ${_tap_tmproot-} ]] && rm -rf "$_tap_tmproot"
}

on_signal() {
	trap - INT TERM
	printf '\nab: interrupted (%s); stopping what was started\n' "$1" >&2
	cleanup
	exit 130
}

# bench_traps: in place of tap.sh's traps, from the start of a harness's
# main (ab.sh, site.sh, pair.sh): cleanup is safe at any point (it stops
# only what was started).
bench_traps() {
	trap cleanup EXIT
	tap_at_exit() { bench_at_exit "$@"; }
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
}

# --------------------------------------------------------------------- main

main() {
	bench_traps

	ARGS_TEXT="$*"
	parse_args "$@"
	check_prereqs
	CLK_TCK=$(getconf CLK_TCK)

	((QUICK)) && : "${TAG:=quick}"
	: "${OUT:=$ROOT/bench/results/$(date +%Y%m%d)-$(hostname)${TAG:+-$TAG}}"
	mkdir -p "$OUT" || die "cannot create $OUT"
	OUT=$(cd "$OUT" && pwd)
	rm -rf "$OUT/raw" "$OUT"/plot-*.png "$OUT"/strace-*.md
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sendcache-ab.XXXXXX") || die "mktemp failed"
	chmod 0755 "$TMP"
	make_site
	STRACE_SIZE=1k
	[[ -n ${SIZE_BYTES[1k]-} ]] || {
		head -c 1024 /dev/urandom >"$TMP/site/1k.bin" && chmod 0644 "$TMP/site/1k.bin"
	}
	describe_machine
	echo "$CSV_HEADER" >"$OUT/rounds.csv"

	plan_runs
	run_all
	finish
}

# anchor_skipped ANCHOR SIZE: the memory anchor has no body over MEM_MAX.
anchor_skipped() {
	[[ $1 == mem && $2 != mix ]] && ((SIZE_BYTES[$2] > MEM_MAX))
}

# plan_runs: say the plan and what it should take, and set DEADLINE. The
# start, content check, the counter's attach and stop add about 1.2 s to
# a run's wrk seconds; a server's strace breakdown takes about 6 s.
plan_runs() {
	local runs anchors_runs=0 per_run est z a
	runs=$((${#SERVER_LIST[@]} * ${#SIZE_LIST[@]} * 2 * ROUNDS))
	for a in "${ANCHOR_LIST[@]}"; do
		for z in "${SIZE_LIST[@]}"; do
			anchor_skipped "$a" "$z" || anchors_runs=$((anchors_runs + ROUNDS))
		done
	done
	per_run=$(((WARMUP + DURATION + COUNT_SECS) * 10 + 12))
	est=$(((runs + anchors_runs) * per_run / 10))
	((DO_STRACE)) && est=$((est + ${#SERVER_LIST[@]} * 6))
	if [[ -z $TIME_LIMIT ]]; then
		TIME_LIMIT=$((est * 13 / 10 + 60))
		((est < 29 * 60 && TIME_LIMIT > 30 * 60)) && TIME_LIMIT=$((30 * 60))
	fi
	DEADLINE=$((SECONDS + TIME_LIMIT))
	SKIPPED=0
	say "sendcache A/B: library $LIB"
	say "servers: ${SERVER_LIST[*]}; anchors: ${ANCHOR_LIST[*]:-none}; sizes: ${SIZE_LIST[*]}"
	say "$ROUNDS round(s) x ${DURATION} s, warm-up ${WARMUP} s, counting ${COUNT_SECS} s;" \
		"$((runs + anchors_runs)) runs; expected duration about $(((est + 59) / 60)) min" \
		"(limit $(((TIME_LIMIT + 59) / 60)) min)"
	say "results: $OUT/"
}

# run_all: per size, rounds of every server without and with the library,
# then the anchors; then the strace breakdowns.
run_all() {
	local s z r m a
	for z in "${SIZE_LIST[@]}"; do
		say ""
		say "$z:"
		for ((r = 1; r <= ROUNDS; r++)); do
			for s in "${SERVER_LIST[@]}"; do
				for m in without with; do
					run_one "$s" "$z" "$r" "$m"
				done
			done
			for a in "${ANCHOR_LIST[@]}"; do
				anchor_skipped "$a" "$z" || run_one "nginx-$a" "$z" "$r" without
			done
		done
	done
	((DO_STRACE)) || return 0
	say ""
	say "which calls: strace -f -c, ${STRACE_SIZE}, bounded ab run per server:"
	for s in "${SERVER_LIST[@]}"; do
		strace_breakdown "$s"
	done
}

# finish: the report, the tables on the terminal, and the exit status.
finish() {
	report
	plots
	report   # again, now that the plots exist
	say ""
	cat "$TMP/tables.md"
	((${#FLAGS[@]})) && printf 'RED FLAG: %s\n' "${FLAGS[@]}"
	if ((SHOW_STATS)) && [[ -n ${LAST_STATS-} && -s $LAST_STATS ]]; then
		say ""
		say "sendcache-stat of the last $LAST_STATS_KIND run with the library, just before it stopped:"
		cat "$LAST_STATS"
	fi
	say ""
	say "results: $OUT/ (results.md, summary.csv, rounds.csv, machine.txt, plots, raw/)"
	((SKIPPED)) && say "time limit: $SKIPPED run(s) skipped"
	if ((${#FLAGS[@]})); then
		say "RED FLAGS: ${#FLAGS[@]} (listed above and in results.md)"
		return 2
	fi
	((FAILURES || SKIPPED)) && return 3
	return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
	exit $?
fi
