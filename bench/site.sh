#!/usr/bin/env bash
# site.sh - the real-site benchmark: a large generated site under request
# streams of several shapes, each server without and with sendcache.
#
# The site (bench/lib/site-gen.pl): 100,000 files in 1,000 directories,
# sizes from the SPECweb99 file set (fixed seed; 1.2 GB). The streams, over
# one fixed shuffled rank order of the files:
#   zipf-0.8, zipf-1.0, zipf-1.2  ranks drawn Zipf(alpha)
#   crawl     zipf-1.0 with every tenth request a crawler's next file
#   onehit    every file once (no file is asked for twice in a run)
# Each request stream is a list of paths that wrk walks in order from a
# given offset (bench/lib/site.lua): the warm-up from the start, the
# measured run from 40% in, the counting run from 80% in; for onehit the
# runs follow each other so that no file comes twice.
#
# Servers: nginx, nginx over HTTPS (nginx-tls, as in bench/ab.sh) and
# Apache event by default; lighttpd on request.
#
# Method as bench/ab.sh's (whose functions this sources): per server and
# stream, rounds of A B (without, with), each run a fresh server pinned to
# CPU 0, wrk (one thread, 16 connections) on CPU 1; the measured run with
# nothing attached, then a separate counting run under perf stat. Per run:
# req/s, p99, CPU seconds per 10,000 requests, system calls per request,
# and with the library its counters over the measured run (hit ratio =
# opens answered from the cache / cacheable opens), descriptors held,
# mapped bytes, entries, inotify watches and RSS at its end.
#
# --cold: the page cache dropped (echo 1 >/proc/sys/vm/drop_caches, as
# root) just before each measured run, after the warm-up: the files come
# from the disk again, except pages a process keeps mapped (the library's
# mappings of its cached files), which the kernel does not drop. Per run
# also: major page faults and bytes read from the disk (/proc/PID/io
# read_bytes) per request. A read or sendfile of a page not in memory waits
# for the disk without a fault; a mapping's page faults: compare the bytes.
#
# Results: bench/results/<date>-<host>-site[-TAG]/ (rounds.csv,
# summary.csv, results.md, plot-site.png, raw/).

set -uo pipefail
SITE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/ab.sh
. "$SITE_ROOT/bench/ab.sh"

note() { printf 'site: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

readonly SITE_SERVERS=nginx,nginx-tls,apache-event,lighttpd,lighttpd-fds
# Not lighttpd by default: Debian 12's lighttpd 1.4.69 keeps a descriptor
# open for each file in its stat cache and crashes on this site without
# the library too (bench/lib/ab-servers.sh, lighttpd-fds: with
# server.max-fds = 16384 it serves 20,000 files; --files 20000).
readonly SITE_DEFAULT_SERVERS=nginx,nginx-tls,apache-event
readonly SITE_STREAMS=zipf-0.8,zipf-1.0,zipf-1.2,crawl,onehit
readonly SITE_SEED=20261206
readonly SITE_CONNS=16

FILES=100000 DIRS=1000 STREAM_LEN=1000000 COLD=0
ONEHIT_SECS=2

site_usage() {
	cat <<EOF
Usage: bench/site.sh [options]

The real-site benchmark: $FILES files, Zipf, crawler and one-hit-wonder
streams, each server without and with LD_PRELOAD=\$SENDCACHE_LIB.

Options:
  --quick            50,000 files, 1 round of 2 s runs, nginx only
  --servers LIST     from $SITE_SERVERS (default: $SITE_DEFAULT_SERVERS;
                     lighttpd fails on this site without the library too;
                     lighttpd-fds serves 20,000 files: --files 20000)
  --streams LIST     from $SITE_STREAMS (default: all)
  --rounds N         rounds of A B (default 5; quick 1)
  --duration SEC     measured seconds per run (default 4; quick 2)
  --warmup SEC       warm-up seconds per run (default 4; quick 2)
  --count SEC        seconds of the counting run (default 1)
  --cold             drop the page cache before each measured run (root)
  --files N          files in the site (default $FILES; 100 per directory)
  --tag NAME         suffix of the results directory
  --out DIR          results directory (default bench/results/DATE-HOST-site[-TAG])
  -h, --help         this text

Exit status: 0 all went well; 1 usage or setup failure; 2 red flags (wrong
bytes, errors with the library, library not loaded); 3 some runs failed.
EOF
}

site_args() {
	local a quick=0
	SERVERS=$SITE_DEFAULT_SERVERS STREAMS=$SITE_STREAMS
	while (($#)); do
		a=$1
		case $a in
		--*=*) set -- "${a%%=*}" "${a#*=}" "${@:2}"; continue ;;
		--quick) quick=1 ;;
		--cold) COLD=1 ;;
		-h | --help) site_usage; exit 0 ;;
		--servers | --streams | --rounds | --duration | --warmup | --count | --files | --tag | --out)
			(($# >= 2)) || die "$a needs a value"
			case $a in
			--servers) SERVERS=$2 ;;
			--streams) STREAMS=$2 ;;
			--rounds) ROUNDS=$2 ;;
			--duration) DURATION=$2 ;;
			--warmup) WARMUP=$2 ;;
			--count) COUNT_SECS=$2 ;;
			--files) FILES=$2 ;;
			--tag) TAG=$2 ;;
			--out) OUT=$2 ;;
			esac
			shift ;;
		*) site_usage >&2; die "unknown argument: $a" ;;
		esac
		shift
	done
	if ((quick)); then
		[[ $FILES == 100000 ]] && FILES=50000
		[[ $SERVERS == "$SITE_DEFAULT_SERVERS" ]] && SERVERS=nginx
		: "${ROUNDS:=1}" "${DURATION:=2}" "${WARMUP:=2}" "${TAG:=quick}"
		ONEHIT_SECS=1
	fi
	: "${ROUNDS:=5}" "${DURATION:=4}" "${WARMUP:=4}" "${COUNT_SECS:=1}"
	local v s
	for v in ROUNDS DURATION WARMUP COUNT_SECS FILES; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive integer, got '${!v}'"
	done
	((FILES >= 1000)) || die "--files must be at least 1000"
	((COLD)) && [[ ! -w /proc/sys/vm/drop_caches ]] &&
		die "--cold needs root: /proc/sys/vm/drop_caches is not writable"
	DIRS=$(((FILES + 99) / 100))
	IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
	for s in "${SERVER_LIST[@]}"; do
		[[ ,$SITE_SERVERS, == *,$s,* ]] || die "unknown server '$s' (known: $SITE_SERVERS)"
	done
	IFS=, read -r -a STREAM_LIST <<<"$STREAMS"
	for s in "${STREAM_LIST[@]}"; do
		[[ ,$SITE_STREAMS, == *,$s,* ]] || die "unknown stream '$s' (known: $SITE_STREAMS)"
	done
}

# The site once, under $TMP/site; each server's document root is a
# hard-linked copy (same inodes, same page cache, real directories).
site_make() {
	local s
	mkdir -p "$TMP/site" "$TMP/raw" "$TMP/srv" "$TMP/streams" || die "cannot write $TMP"
	chmod 0755 "$TMP/site"
	perl "$SITE_ROOT/bench/lib/site-gen.pl" site "$TMP/site" "$FILES" "$DIRS" "$SITE_SEED" \
		>"$TMP/files.txt" || die "could not make the site"
	for s in "${STREAM_LIST[@]}"; do
		perl "$SITE_ROOT/bench/lib/site-gen.pl" stream "$s" "$STREAM_LEN" "$SITE_SEED" \
			<"$TMP/files.txt" >"$TMP/streams/$s.txt" || die "could not make stream $s"
	done
	cp "$SITE_ROOT/bench/lib/site.lua" "$TMP/site.lua"
}

# site_wrk SECS STREAM OFFSET URL OUT
site_wrk() {
	local rc
	taskset -c "$CLIENT_CPU" timeout -k 2 $(($1 + 30)) \
		wrk -t1 -c"$SITE_CONNS" -d"$1s" --timeout 10s --latency -s "$TMP/site.lua" "$4" \
		-- "$TMP/streams/$2.txt" "$3" >"$5" 2>&1 </dev/null &
	WRK_PID=$!
	wait "$WRK_PID"
	rc=$?
	WRK_PID=
	return $rc
}

# stat_values NAME: "open_hit open_miss open_pass_cold open_full
# evictions entries fds_held mapped_bytes" of instance NAME (zeros
# without one).
stat_values() {
	"$STAT_CLI" -1 -n "$1" 2>/dev/null | awk '
		{ v[$1] = $2 }
		END { print v["open_hit"] + 0, v["open_miss"] + 0, v["open_pass_cold"] + 0,
		            v["open_full"] + 0, v["evictions"] + 0, v["entries"] + 0,
		            v["fds_held"] + 0, v["mapped_bytes"] + 0 }'
}

# watches PID...: inotify watches the processes hold.
watches() {
	local pid fd n=0
	# One find per process: a readlink per descriptor forked once for each
	# of the cache's thousands, over a minute per run of Apache.
	for pid; do
		while read -r fd; do
			n=$((n + $(grep -c '^inotify wd:' "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null)))
		done < <(find "/proc/$pid/fd" -lname 'anon_inode:inotify' 2>/dev/null)
	done
	echo "$n"
}

rss_kb() {
	local pid n=0
	for pid; do
		n=$((n + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)))
	done
	echo "$n"
}

# io_counts PID...: a line "PID major-faults disk-bytes-read" per PID.
io_counts() {
	local pid st
	for pid; do
		st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		st=${st##*) }
		echo "$pid $(awk '{ print $10 + $11 }' <<<"$st")" \
			"$(awk '/^read_bytes:/ { print $2 }' "/proc/$pid/io" 2>/dev/null || echo 0)"
	done
}

# io_delta BEFORE AFTER: "major-faults disk-bytes" between two io_counts
# outputs, per pid as cpu_delta (a pid that appeared counts from zero, one
# that exited is left out).
io_delta() {
	awk 'NR == FNR { f[$1] = $2; b[$1] = $3; next }
		{ sf += $2 - f[$1]; sb += $3 - b[$1] } END { print sf + 0, sb + 0 }' \
		<(echo "$1") <(echo "$2")
}

# drop_pages: every clean page of the page cache not mapped by a process.
drop_pages() {
	sync && echo 1 >/proc/sys/vm/drop_caches
}

readonly SITE_CSV='server,config,stream,round,status,requests,duration_s,req_per_s,p99_ms,errors,cpu_s_per_10k,count_requests,syscalls_per_req,hit_ratio,open_hit,open_miss,open_pass_cold,evictions,entries,fds_held,mapped_bytes,rss_kb,watches,majflt_per_req,disk_kb_per_req,note'

site_fail() {
	printf '%s,%s,%s,%s,%s,,,,,,,,,,,,,,,,,,,,,%s\n' "$1" "$2" "$3" "$4" "$5" "${6//,/;}" >>"$OUT/rounds.csv"
	FAILURES=$((FAILURES + 1))
	printf '  %-13s %-9s %-7s r%d FAILED (%s): %s\n' "$1" "$3" "$2" "$4" "$5" "$6"
}

# site_check KIND PORT: three files of the site come back byte for byte.
site_check() {
	local path
	for path in $(awk 'NR == 1 || NR == 777 || $2 > 500000 { print $1 }' "$TMP/files.txt" | head -3); do
		curl -sSk --max-time 30 -o "$TMP/check.body" "$(url "$1" "$2")$path" 2>/dev/null &&
			cmp -s "$TMP/check.body" "$TMP/site$path" || { CHECK_MSG="GET $path: other bytes"; return 1; }
	done
	rm -f "$TMP/check.body"
}

# site_one KIND STREAM ROUND MODE: one fresh server, a warm-up, the
# measured run, the counting run, one row. The steps share the run's
# facts as S_*.
site_one() {
	S_KIND=$1 S_STREAM=$2 S_ROUND=$3 S_MODE=$4
	S_TAG=$1-$2-r$3-$4
	RUN_NO=$((RUN_NO + 1))
	STATS_NAME=site-$$-$RUN_NO
	if site_setup && site_measure; then
		site_count
		if ! alive "$MAIN_PID"; then
			flag "$S_TAG: the server's main process died"
			site_run_fail died "main process died"
		else
			stop_current
			site_row
		fi
	fi
	stop_current
}

# site_run_fail STATUS NOTE: the run's row without figures.
site_run_fail() { site_fail "$S_KIND" "$S_MODE" "$S_STREAM" "$S_ROUND" "$@"; }

# site_setup: start the server, check its bytes, warm it up (not for
# onehit, whose every request must be a new file). Sets S_DIR, S_PIDS,
# S_URL. Returns 1 after a failed row.
site_setup() {
	local start=$TMP/raw/$S_TAG.start.txt port
	S_DIR=$(server_dir "$S_KIND") || { site_run_fail setup "no directory"; return 1; }
	port=$(tap_free_port) || { site_run_fail setup "no free port"; return 1; }
	bench_conf "$S_KIND" "$S_DIR" "$port" 2>"$start" ||
		{ site_run_fail config "$(tail -n 1 "$start")"; return 1; }
	CUR_KIND=$S_KIND CUR_DIR=$S_DIR
	if ! bench_start "$S_KIND" "$S_DIR" "$S_MODE" 2>>"$start"; then
		site_run_fail start "did not start"
		return 1
	fi
	mapfile -t S_PIDS < <(bench_pids "$S_KIND" "$S_DIR")
	pin_pids "$MAIN_PID" "${S_PIDS[@]}"
	if [[ $S_MODE == with ]] && ! srv_has_lib "${S_PIDS[0]}"; then
		flag "$S_TAG: the library is not mapped in pid ${S_PIDS[0]}"
	fi
	if ! site_check "$S_KIND" "$port"; then
		[[ $S_MODE == with ]] && flag "$S_TAG: $CHECK_MSG"
		site_run_fail check "$CHECK_MSG"
		return 1
	fi
	S_URL=$(url "$S_KIND" "$port")/
	[[ $S_STREAM == onehit ]] && return 0
	site_wrk "$WARMUP" "$S_STREAM" 0 "$S_URL" "$TMP/raw/$S_TAG.warmup.txt" ||
		{ site_run_fail wrk "warm-up failed"; return 1; }
}

# site_measure: the measured run, from 40% into the stream (onehit: from
# its start, for ONEHIT_SECS), the page cache dropped first with --cold.
# Sets S_WRK (wrk_fields), S_CPU_S, S_STATS_BEFORE/AFTER, S_IO (io_delta),
# S_PIDS (every serving process seen), S_WATCHES and S_RSS.
site_measure() {
	local out=$TMP/raw/$S_TAG.wrk.txt secs=$DURATION off=$((STREAM_LEN * 2 / 5))
	local ticks_before io_before
	[[ $S_STREAM == onehit ]] && off=0 secs=$ONEHIT_SECS
	((COLD)) && drop_pages
	S_STATS_BEFORE=$(stat_values "$STATS_NAME")
	ticks_before=$(cpu_ticks "${S_PIDS[@]}")
	io_before=$(io_counts "${S_PIDS[@]}")
	if ! site_wrk "$secs" "$S_STREAM" "$off" "$S_URL" "$out"; then
		site_run_fail wrk "wrk failed"
		return 1
	fi
	sleep 0.1
	mapfile -t S_PIDS < <({ printf '%s\n' "${S_PIDS[@]}"; bench_pids "$S_KIND" "$S_DIR"; } | sort -un)
	S_CPU_S=$(awk -v t="$(cpu_delta "$ticks_before" "$(cpu_ticks "${S_PIDS[@]}")")" \
		-v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')
	S_IO=$(io_delta "$io_before" "$(io_counts "${S_PIDS[@]}")")
	S_STATS_AFTER=$(stat_values "$STATS_NAME")
	read -r -a S_WRK <<<"$(wrk_fields "$out")"
	if ((${#S_WRK[@]} != 6)); then
		site_run_fail wrk "cannot read wrk's output"
		return 1
	fi
	((S_WRK[5] > 0)) && [[ $S_MODE == with ]] &&
		flag "$S_TAG: ${S_WRK[5]} wrk errors with the library"
	S_WATCHES=$(watches "${S_PIDS[@]}")
	S_RSS=$(rss_kb "${S_PIDS[@]}")
}

# site_count: the counting run, from 80% into the stream (onehit: just
# after what the measured run asked for). Sets S_SYSCALLS (NA when
# unknown), S_COUNT_REQ and S_NOTE (a onehit stream that wrapped).
site_count() {
	local out=$TMP/raw/$S_TAG off=$((STREAM_LEN * 4 / 5)) len
	[[ $S_STREAM == onehit ]] && off=$((S_WRK[0] + 64))
	S_SYSCALLS=NA S_COUNT_REQ=0 S_NOTE=
	count_start "$out.count.txt" "$MAIN_PID" "${S_PIDS[@]}"
	if site_wrk "$COUNT_SECS" "$S_STREAM" "$off" "$S_URL" "$out.countwrk.txt"; then
		count_stop "$out.count.txt"
		[[ $COUNT_RESULT =~ ^[0-9]+$ ]] && S_SYSCALLS=$COUNT_RESULT
		S_COUNT_REQ=$(wrk_fields "$out.countwrk.txt" | awk '{ print $1 + 0 }')
	else
		count_stop "$out.count.txt"
	fi
	len=$(wc -l <"$TMP/streams/$S_STREAM.txt")
	if [[ $S_STREAM == onehit ]] && ((off + S_COUNT_REQ > len)); then
		S_NOTE='the stream wrapped: some files were asked for twice'
		flag "$S_TAG: $S_NOTE ($((off + S_COUNT_REQ)) requests of $len files)"
	fi
}

# site_row: the run's row in rounds.csv (bench/lib/site-row.awk) and its
# line on the terminal.
site_row() {
	awk -v server="$S_KIND" -v config="$S_MODE" -v stream="$S_STREAM" -v round="$S_ROUND" \
	    -v r="${S_WRK[0]}" -v d="${S_WRK[2]}" -v p99="${S_WRK[4]}" -v err="${S_WRK[5]}" \
	    -v cpu="$S_CPU_S" -v creq="$S_COUNT_REQ" -v sc="$S_SYSCALLS" \
	    -v sb="$S_STATS_BEFORE" -v sa="$S_STATS_AFTER" -v w="$S_WATCHES" -v rss="$S_RSS" \
	    -v note="$S_NOTE" -v io="$S_IO" -f "$SITE_ROOT/bench/lib/site-row.awk" >>"$OUT/rounds.csv"
	tail -n 1 "$OUT/rounds.csv" | awk -F, '{
		printf "  %-13s %-9s %-7s r%d %9.0f req/s  p99 %6.2f ms  %5s calls/req  hit %s\n",
			$1, $3, $2, $4, $8, $9, $13, ($14 == "" ? "-" : $14) }'
}

# Medians per server, stream and configuration; the ratio of medians and
# the spread of the per-round ratios.
site_summary() {
	awk -F, '
	NR == 1 || $5 != "ok" { next }
	{
		k = $1 SUBSEP $3
		if (!(k in seen)) { seen[k] = 1; order[++n] = k }
		c = $2; m = k SUBSEP c
		rps[m, ++nr[m]] = $8; cpu[m, nr[m]] = $11; sc[m, nr[m]] = $13; p99[m, nr[m]] = $9
		hit[m, nr[m]] = $14; fds[m, nr[m]] = $20; map[m, nr[m]] = $21; rss[m, nr[m]] = $22
		w[m, nr[m]] = $23; mf[m, nr[m]] = $24; dk[m, nr[m]] = $25
		by_round[k, c, $4] = $8
		if (c == "without") rounds[k] = rounds[k] " " $4
	}
	function med(arr, m, cnt,   i, j, t, v, x) {
		cnt = 0
		for (i = 1; i <= nr[m]; i++) if (arr[m, i] != "" && arr[m, i] != "NA") v[++cnt] = arr[m, i] + 0
		if (!cnt) return ""
		for (i = 2; i <= cnt; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
		return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
	}
	BEGIN { print "server,stream,rounds,rps_without,rps_with,ratio,ratio_min,ratio_max,calls_without,calls_with,cpu10k_without,cpu10k_with,p99_without,p99_with,hit_ratio,fds_held,mapped_bytes,rss_kb_without,rss_kb_with,watches,majflt_without,majflt_with,disk_kb_without,disk_kb_with" }
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, kk, SUBSEP)
			a = k SUBSEP "without"; b = k SUBSEP "with"
			ra = med(rps, a); rb = med(rps, b)
			lo = ""; hi = ""; cnt = split(rounds[k], rr, " ")
			for (j = 1; j <= cnt; j++) {
				x = by_round[k, "without", rr[j]]; y = by_round[k, "with", rr[j]]
				if (x > 0 && y != "") { q = y / x; if (lo == "" || q < lo) lo = q; if (hi == "" || q > hi) hi = q }
			}
			printf "%s,%s,%d,%.0f,%.0f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", kk[1], kk[2], nr[a],
				ra, rb, (ra > 0 ? sprintf("%.2f", rb / ra) : ""), (lo == "" ? "" : sprintf("%.2f", lo)),
				(hi == "" ? "" : sprintf("%.2f", hi)), med(sc, a), med(sc, b), med(cpu, a), med(cpu, b),
				med(p99, a), med(p99, b), med(hit, b), med(fds, b), med(map, b), med(rss, a), med(rss, b), med(w, b),
				med(mf, a), med(mf, b), med(dk, a), med(dk, b)
		}
	}' "$OUT/rounds.csv" >"$OUT/summary.csv"
}

site_report() {
	{
		echo "# Real-site benchmark: $FILES files, $ROUNDS round(s)"
		echo
		echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs; library $LIB"
		echo "Site: $FILES files in $DIRS directories, SPECweb99 file-set sizes (bench/lib/site-gen.pl, seed $SITE_SEED)."
		echo "Runs: warm-up ${WARMUP}s, measured ${DURATION}s (onehit ${ONEHIT_SECS}s, no warm-up), counting ${COUNT_SECS}s; wrk -t1 -c$SITE_CONNS on CPU $CLIENT_CPU, server on CPU $SERVER_CPU."
		((COLD)) && echo "Cold: the page cache was dropped before each measured run (pages mapped by a process stay)."
		echo
		echo "| server | stream | req/s without | req/s with | ratio (min–max) | calls/req without → with | CPU s/10k without → with | p99 ms without → with | hit ratio | fds | mapped MB | RSS MB without → with | watches | major faults/req without → with | disk KB/req without → with |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		awk -F, 'NR > 1 {
			printf "| %s | %s | %s | %s | **%s** (%s–%s) | %s → %s | %s → %s | %s → %s | %s | %s | %.1f | %.0f → %.0f | %s | %s → %s | %s → %s |\n",
				$1, $2, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
				$17 / 1048576, $18 / 1024, $19 / 1024, $20, $21, $22, $23, $24 }' "$OUT/summary.csv"
		echo
		echo "Per-run figures: rounds.csv; medians: summary.csv; raw wrk and perf outputs: raw/."
	} >"$OUT/results.md"
	if command -v gnuplot >/dev/null 2>&1; then
		awk -F, 'NR > 1 { print $1, $2, $6, $7, $8 }' "$OUT/summary.csv" >"$TMP/plot.dat"
		gnuplot -e "datafile='$TMP/plot.dat'; outfile='$OUT/plot-site.png'" \
			"$SITE_ROOT/bench/lib/plot-site.gp" 2>"$TMP/gnuplot.err" ||
			note "gnuplot failed: $(head -c 300 "$TMP/gnuplot.err")"
	fi
}

site_main() {
	bench_traps
	site_args "$@"
	DO_PLOTS=0 DO_STRACE=0 COUNTER=perf
	check_prereqs
	CLK_TCK=$(getconf CLK_TCK)
	: "${OUT:=$SITE_ROOT/bench/results/$(date +%Y%m%d)-$(hostname)-site${TAG:+-$TAG}}"
	mkdir -p "$OUT" || die "cannot create $OUT"
	OUT=$(cd "$OUT" && pwd)
	rm -rf "$OUT/raw"
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sendcache-site.XXXXXX") || die "mktemp failed"
	chmod 0755 "$TMP"
	((FILES < 100000)) && STREAM_LEN=$((STREAM_LEN * FILES / 100000))
	say "site: making $FILES files and ${#STREAM_LIST[@]} streams"
	site_make
	echo "$SITE_CSV" >"$OUT/rounds.csv"
	local s z r m
	for s in "${SERVER_LIST[@]}"; do
		for z in "${STREAM_LIST[@]}"; do
			for ((r = 1; r <= ROUNDS; r++)); do
				for m in without with; do
					site_one "$s" "$z" "$r" "$m"
				done
			done
		done
	done
	site_summary
	site_report
	say ""
	cat "$OUT/results.md"
	say ""
	say "results: $OUT/"
	((${#FLAGS[@]})) && { say "RED FLAGS: ${#FLAGS[@]}"; return 2; }
	((FAILURES)) && return 3
	return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	site_main "$@"
	exit $?
fi
