#!/usr/bin/env bash
# ab.sh - A/B benchmark of unmodified static-file servers without and with
# sendcache preloaded, beside two nginx anchors, for several file sizes.
#
# Servers: nginx (Debian's configuration, one worker; tests/tap/nginx.sh),
# the same nginx over HTTPS (nginx-tls: HTTP/1.1, TLS 1.2/1.3, an ECDSA
# certificate made for the run; no kTLS here, so bodies are read and
# encrypted in user space), lighttpd, Apache event and prefork, busybox httpd and python3's
# http.server (tests/tap/servers.sh), each as the tests configure it.
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

set -uo pipefail
unset LD_PRELOAD TAP_PRELOAD TAP_NO_PRELOAD SENDCACHE_STATS_NAME SENDCACHE_PREWARM

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

# tap.sh brings the helpers nginx.sh and servers.sh use (diag, tap_wait_port,
# tap_free_port, ...); its plan-checking exit trap is not for a benchmark,
# so main replaces it. (A test may source this file: then only main is
# not run.)
# shellcheck source=tests/tap/tap.sh
. "$ROOT/tests/tap/tap.sh"
# shellcheck source=tests/tap/nginx.sh
. "$ROOT/tests/tap/nginx.sh"
if [[ -f $ROOT/tests/tap/servers.sh ]]; then
	# shellcheck source=/dev/null
	. "$ROOT/tests/tap/servers.sh"
fi

# The helpers register their stop commands with tap_at_exit; the harness
# stops every server itself and runs these only as a safety net at exit
# (main puts this in place of tap.sh's).
AT_EXIT=()
bench_at_exit() { AT_EXIT+=("$(printf '%q ' "$@")"); }

readonly SERVER_CPU=0
readonly CLIENT_CPU=1
readonly ALL_SERVERS=nginx,nginx-tls,lighttpd,apache-event,busybox,apache-prefork,python
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
# Keep-alive servers get 16 connections: enough to keep one core busy.
# busybox forks a child per connection and python's http.server serves one
# request at a time over HTTP/1.0: more connections only queue.
declare -A WRK_CONNS=([busybox]=4 [python]=2)
readonly DEFAULT_CONNS=16
# ab's bounded run for the "which calls" breakdown (requests, concurrency).
declare -A STRACE_REQS=([busybox]=400 [python]=400)
# busybox ignores SIGCHLD: the kernel reaps its children, so their CPU time
# never reaches the parent's cutime. Its CPU is perf's task-clock of the
# parent and the children it forks during the measured run (a software
# event: no cost per system call, a little per fork, on both sides).
declare -A CPU_BY_CLOCK=([busybox]=1)
readonly STRACE_DEFAULT_REQS=2000
# A closed-loop run keeps one of its two CPUs busy; when neither was busier
# than this, something outside the benchmark took the time.
readonly SATURATED_PCT=95

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

usage() {
	cat <<EOF
Usage: bench/ab.sh [options]

A/B benchmark of static-file servers without and with LD_PRELOAD=\$SENDCACHE_LIB,
servers pinned to CPU $SERVER_CPU and wrk to CPU $CLIENT_CPU, with nginx anchors.

Options:
  --quick            1 round of 1 s runs (about 6 minutes for everything)
  --servers LIST     from $ALL_SERVERS (default: all)
  --sizes LIST       from $ALL_SIZES, or any NNk/NNm (default: all)
  --anchors LIST     from $ALL_ANCHORS, or none (default: both)
  --rounds N         rounds of A B per size (default 3; quick 1)
  --duration SEC     measured seconds per run (default 3; quick 1)
  --warmup SEC       warm-up seconds per run (default 1)
  --count SEC        seconds of the system-call counting run (default 1)
  --pipeline N       wrk sends N requests per write (HTTP/1.1 pipelining) for
                     the single-file sizes (default 1: none); for a server
                     so fast that one wrk thread, not the server, is the limit
  --time-limit SEC   start no run after SEC (default: estimate x 1.3 + 60 s,
                     at most 30 min when the estimate is under 29 min)
  --counter perf|strace  how to count system calls (default perf if usable)
  --no-strace        skip the per-server "which calls" breakdown
  --no-plots         skip gnuplot
  --no-stats         do not print sendcache-stat's table at the end
  --a-stats-off      "without" is the library with SENDCACHE_STATS=0, so the
                     ratio is the cost of the shared-memory counters
  --no-prewarm       busybox "with" is plain LD_PRELOAD, without
                     SENDCACHE_PREWARM of its document root
  --tag NAME         suffix of the results directory (quick: "quick")
  --out DIR          results directory (default bench/results/DATE-HOST[-TAG])
  -h, --help         this text

Exit status: 0 all went well; 1 usage or setup failure; 2 red flags (wrong
bytes, errors or a crash with the library, library not loaded, ...);
3 some runs failed or were skipped at the time limit.
EOF
}

say() { printf '%s\n' "$*"; }
note() { printf 'ab: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }
flag() {
	FLAGS+=("$*")
	printf '  RED FLAG: %s\n' "$*"
}

# ---------------------------------------------------------------- arguments

parse_args() {
	local a
	while (($#)); do
		a=$1
		case $a in
		--*=*) set -- "${a%%=*}" "${a#*=}" "${@:2}"; continue ;;
		--quick) QUICK=1 ;;
		--no-strace) DO_STRACE=0 ;;
		--no-plots) DO_PLOTS=0 ;;
		--no-stats) SHOW_STATS=0 ;;
		--a-stats-off) A_STATS_OFF=1 ;;
		--no-prewarm) PREWARM=0 ;;
		-h | --help) usage; exit 0 ;;
		--servers | --sizes | --anchors | --rounds | --duration | --warmup | --count | \
			--time-limit | --counter | --tag | --out | --pipeline)
			(($# >= 2)) || die "$a needs a value"
			case $a in
			--servers) SERVERS=$2 ;;
			--sizes) SIZES=$2 ;;
			--anchors) ANCHORS=$2 ;;
			--rounds) ROUNDS=$2 ;;
			--duration) DURATION=$2 ;;
			--warmup) WARMUP=$2 ;;
			--count) COUNT_SECS=$2 ;;
			--pipeline) PIPELINE=$2 ;;
			--time-limit) TIME_LIMIT=$2 ;;
			--counter) COUNTER=$2 ;;
			--tag) TAG=$2 ;;
			--out) OUT=$2 ;;
			esac
			shift ;;
		*) usage >&2; die "unknown argument: $a" ;;
		esac
		shift
	done

	if ((QUICK)); then
		: "${ROUNDS:=1}" "${DURATION:=1}"
	else
		: "${ROUNDS:=3}" "${DURATION:=3}"
	fi
	: "${WARMUP:=1}" "${COUNT_SECS:=1}"
	local v
	for v in ROUNDS DURATION WARMUP COUNT_SECS PIPELINE; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive integer, got '${!v}'"
	done
	[[ -z $TIME_LIMIT || $TIME_LIMIT =~ ^[1-9][0-9]*$ ]] || die "--time-limit must be seconds"
	case $COUNTER in auto | perf | strace) ;; *) die "--counter must be perf or strace" ;; esac

	local s
	IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
	((${#SERVER_LIST[@]})) || die "--servers is empty"
	for s in "${SERVER_LIST[@]}"; do
		[[ ,$ALL_SERVERS, == *,$s,* ]] || die "unknown server '$s' (known: $ALL_SERVERS)"
	done
	ANCHOR_LIST=()
	if [[ $ANCHORS != none ]]; then
		IFS=, read -r -a ANCHOR_LIST <<<"$ANCHORS"
		for s in "${ANCHOR_LIST[@]}"; do
			[[ ,$ALL_ANCHORS, == *,$s,* ]] || die "unknown anchor '$s' (known: $ALL_ANCHORS)"
		done
	fi

	SIZE_LIST=()
	declare -gA SIZE_BYTES=()
	local n
	IFS=, read -r -a sizes <<<"$SIZES"
	((${#sizes[@]})) || die "--sizes is empty"
	for s in "${sizes[@]}"; do
		s=${s,,}
		if [[ $s == mix ]]; then
			SIZE_BYTES[mix]=0
		elif [[ $s =~ ^([0-9]+)([km]?)$ ]]; then
			n=$((10#${BASH_REMATCH[1]}))
			case ${BASH_REMATCH[2]} in
			k) n=$((n << 10)) ;;
			m) n=$((n << 20)) ;;
			esac
			((n > 0)) || die "size '$s' is zero"
			SIZE_BYTES[$s]=$n
		else
			die "bad size '$s' (want e.g. 1k, 128k, 64m or mix)"
		fi
		SIZE_LIST+=("$s")
	done
}

# ------------------------------------------------------------ prerequisites

check_prereqs() {
	local missing=() t
	for t in wrk taskset curl timeout awk ab; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((DO_PLOTS)) && ! command -v gnuplot >/dev/null 2>&1 && missing+=("gnuplot (gnuplot-nox)")
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/install-deps bench)"
	[[ -f $LIB && -r $LIB ]] || die "library not found: $LIB (run make, or set SENDCACHE_LIB)"
	LIB=$(readlink -f "$LIB")
	# The helpers preload TAP_PRELOAD in their "with" starts.
	tap_lib=$LIB

	(($(nproc) >= 2)) || die "needs 2 CPUs (servers on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU)"
	taskset -c "$SERVER_CPU,$CLIENT_CPU" true 2>/dev/null ||
		die "cannot pin to CPUs $SERVER_CPU and $CLIENT_CPU (cpuset?)"
	OWN_CPUS=$(taskset -c -p $$ | sed 's/.*: //')

	local probe
	if [[ $COUNTER != strace ]]; then
		probe=$(perf stat -e raw_syscalls:sys_enter -x, -- true 2>&1 | awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }')
		if [[ $probe =~ ^[0-9]+$ ]] && ((probe > 0)); then
			COUNTER=perf
		elif [[ $COUNTER == perf ]]; then
			die "perf cannot count raw_syscalls:sys_enter here (perf_event_paranoid? tracefs?)"
		else
			note "perf cannot count raw_syscalls:sys_enter here; counting with strace -c -f"
			COUNTER=strace
		fi
	fi
	if [[ $COUNTER == strace || $DO_STRACE == 1 ]]; then
		command -v strace >/dev/null 2>&1 || die "missing: strace"
	fi
	PERF_CONTROL=0
	# Not a pipeline: under pipefail, perf's exit status for -h (129) wins.
	[[ $COUNTER == perf ]] && grep -q -- '--control' <(perf stat -h 2>&1) && PERF_CONTROL=1

	HAVE_SERVERS_SH=0
	declare -F srv_start >/dev/null && HAVE_SERVERS_SH=1
	local s
	for s in "${SERVER_LIST[@]}"; do
		if [[ $s != nginx ]] && ((!HAVE_SERVERS_SH)); then
			note "tests/tap/servers.sh is not there: runs of $s will be failed rows"
		fi
	done
}

# -------------------------------------------------------------------- site

# The mixed set, modelled on SPECweb99's file set: four classes of nine
# files, class c holding files of 1..9 x (102 B, 1 KiB, 10 KiB, 100 KiB),
# requested 35%, 50%, 14% and 1% of the time (so 35% of requests are for
# files under 1 KiB), and within a class file i with SPECweb99's Zipf-like
# frequencies. Prints "path bytes per-mille" lines.
mix_files() {
	awk 'BEGIN {
		split("102 1024 10240 102400", unit, " ")
		split("35 50 14 1", cw, " ")
		split("3.9 5.9 8.8 17.7 35.3 11.8 7.1 5.0 4.4", fw, " ")
		for (c = 1; c <= 4; c++)
			for (i = 1; i <= 9; i++)
				printf "/mix/c%d_%d.bin %d %.2f\n", c - 1, i, i * unit[c], cw[c] * fw[i] / 10
	}'
}

# The wrk script for the mixed set: a fixed list of 1000 requests in the
# proportions above, in an order shuffled once with a fixed seed
# (Park-Miller), walked round-robin. The same list every run.
write_mix_lua() {
	{
		echo "-- SPECweb99-like mixed set: a fixed weighted list, walked in order."
		echo "local paths = {"
		mix_files | awk '
		{ n = int($3 + 0.5); for (k = 0; k < n; k++) list[m++] = $1 }
		END {
			x = 12345
			for (i = m - 1; i > 0; i--) {
				x = (x * 16807) % 2147483647
				j = x % (i + 1); t = list[i]; list[i] = list[j]; list[j] = t
			}
			for (i = 0; i < m; i++) printf "\t\"%s\",\n", list[i]
		}'
		echo "}"
		echo "local next_path = 0"
		echo "request = function()"
		echo "	next_path = next_path % #paths + 1"
		echo "	return wrk.format(\"GET\", paths[next_path])"
		echo "end"
		cat "$TMP/report.lua"
	} >"$TMP/mix.lua"
}

# alnum BYTES: that many random letters and digits (nothing nginx would
# read as a variable or a quote).
alnum() {
	LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c "$1"
}

# The files every server serves, under $TMP/site (hard-linked into each
# server's document root), and what the memory anchor returns for each
# path, under $TMP/mem.
make_site() {
	local s path bytes _w
	mkdir -p "$TMP/site/mix" "$TMP/mem/mix" "$TMP/raw" "$TMP/srv"
	for s in "${SIZE_LIST[@]}"; do
		[[ $s == mix ]] && continue
		head -c "${SIZE_BYTES[$s]}" /dev/urandom >"$TMP/site/$s.bin" || die "cannot write $TMP/site/$s.bin"
	done
	while read -r path bytes _w; do
		head -c "$bytes" /dev/urandom >"$TMP/site$path"
	done < <(mix_files)
	find "$TMP/site" -type d -exec chmod 0755 {} + && find "$TMP/site" -type f -exec chmod 0644 {} +

	MEM_BODY=$(alnum "$MEM_CHUNK")
	((${#MEM_BODY} == MEM_CHUNK)) || die "could not make the memory anchor's body"

	# wrk prints its human summary; this adds one exact, machine-readable line.
	cat >"$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"AB-RESULT requests=%d bytes=%d duration_us=%d p50_us=%d p99_us=%d " ..
		"connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.bytes, summary.duration,
		latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.status, e.timeout))
end
EOF
	if ((PIPELINE > 1)); then
		cat >>"$TMP/report.lua" <<EOF
-- --pipeline $PIPELINE: that many requests in each write
init = function(args)
	req = string.rep(wrk.format(nil, wrk.path), $PIPELINE)
end
request = function() return req end
EOF
	fi
	write_mix_lua
}

# site_paths: every URL path of the site with its size, "path bytes".
site_paths() {
	local s
	for s in "${SIZE_LIST[@]}"; do
		[[ $s == mix ]] || echo "/$s.bin ${SIZE_BYTES[$s]}"
	done
	mix_files | awk '{ print $1, $2 }'
}

# mem_locations: nginx locations returning, for every path up to MEM_MAX
# bytes, a body of the same size built from $m (MEM_BODY, set once at
# server level: a constant, so no copy) repeated and a constant tail; and
# the expected bodies under $TMP/mem. Variables are written ${m}, ${t} so
# that no letter after them extends their name.
mem_locations() {
	local path bytes n tail i refs
	echo "		set \$m \"$MEM_BODY\";"
	while read -r path bytes; do
		((bytes <= MEM_MAX)) || continue
		n=$((bytes / MEM_CHUNK)) tail=$((bytes % MEM_CHUNK))
		refs=
		for ((i = 0; i < n; i++)); do refs+='${m}'; done
		printf '\t\tlocation = %s {\n\t\t\tset $t "%s";\n\t\t\treturn 200 "%s${t}";\n\t\t}\n' \
			"$path" "${MEM_BODY:0:tail}" "$refs"
		if [[ ! -f $TMP/mem$path ]]; then
			{
				for ((i = 0; i < n; i++)); do printf '%s' "$MEM_BODY"; done
				printf '%s' "${MEM_BODY:0:tail}"
			} >"$TMP/mem$path"
		fi
	done < <(site_paths)
}

# ------------------------------------------------------------ server control

# server_dir KIND: the directory of KIND's configuration, logs and document
# root (DIR/www, files hard-linked from the site: same inodes, same page
# cache for every server).
server_dir() {
	local dir=$TMP/srv/$1
	if [[ ! -d $dir/www/mix ]]; then
		mkdir -p "$dir/www" && chmod 0755 "$dir" "$dir/www" &&
			cp -al "$TMP/site/." "$dir/www/" || return 1
	fi
	echo "$dir"
}

is_nginx() { [[ $1 == nginx || $1 == nginx-tls || $1 == nginx-mem || $1 == nginx-tuned ]]; }

# url KIND PORT: the base URL of a server: HTTPS for nginx-tls.
url() { [[ $1 == nginx-tls ]] && echo "https://127.0.0.1:$2" || echo "http://127.0.0.1:$2"; }

# tls_conf DIR PORT: nginx's configuration in DIR made HTTPS (HTTP/1.1,
# TLS as Debian's nginx.conf allows it) with a certificate made for this
# run: an ECDSA P-256 key, as a server would have today.
tls_conf() {
	local dir=$1 port=$2
	if [[ ! -s $TMP/tls.crt ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-days 2 -subj /CN=127.0.0.1 -keyout "$TMP/tls.key" -out "$TMP/tls.crt" \
			>/dev/null 2>&1 || { echo "openssl could not make a certificate" >&2; return 1; }
		chmod 0644 "$TMP/tls.key"
	fi
	sed -i "s|^\(\s*\)listen 127.0.0.1:$port;|\1listen 127.0.0.1:$port ssl;\n\1ssl_certificate $TMP/tls.crt;\n\1ssl_certificate_key $TMP/tls.key;\n\1ssl_protocols TLSv1.2 TLSv1.3;|" \
		"$dir/nginx.conf"
	grep -q "listen 127.0.0.1:$port ssl;" "$dir/nginx.conf"
}

# bench_conf KIND DIR PORT: write KIND's configuration.
bench_conf() {
	local kind=$1 dir=$2 port=$3
	case $kind in
	nginx) nginx_conf "$dir" "$port" ;;
	nginx-tls) nginx_conf "$dir" "$port" && tls_conf "$dir" "$port" ;;
	nginx-tuned) nginx_conf "$dir" "$port" "$TUNED_EXTRA" ;;
	nginx-mem) nginx_conf "$dir" "$port" "$(mem_locations)" ;;
	*)
		((HAVE_SERVERS_SH)) || { echo "tests/tap/servers.sh is not available" >&2; return 1; }
		srv_conf "$kind" "$dir" "$port"
		;;
	esac
}

# bench_start KIND DIR MODE: start KIND on DIR, with the library when MODE
# is "with", its processes pinned to SERVER_CPU (they inherit this shell's
# affinity, set for the start only). Sets MAIN_PID.
bench_start() {
	local kind=$1 dir=$2 mode=$3 rc
	MAIN_PID=
	if [[ $mode == with ]] || { [[ $mode == without ]] && ((A_STATS_OFF)); }; then
		export TAP_PRELOAD=$LIB SENDCACHE_STATS_NAME=$STATS_NAME
		[[ $mode == without ]] && export SENDCACHE_STATS=0
		# busybox forks a child per connection; a cache built in a child
		# dies with it, so the parent fills it before it forks.
		[[ $kind == busybox ]] && ((PREWARM)) && export SENDCACHE_PREWARM=$dir/www
		mode=with
	fi
	taskset -p -c "$SERVER_CPU" $$ >/dev/null
	if is_nginx "$kind"; then
		nginx_start "$dir" "$mode"
		rc=$?
		MAIN_PID=${NGINX_MASTER_PID-}
	else
		SRV_PID=
		srv_start "$kind" "$dir" "$mode"
		rc=$?
		MAIN_PID=${SRV_PID-}
	fi
	taskset -p -c "$OWN_CPUS" $$ >/dev/null
	unset TAP_PRELOAD SENDCACHE_STATS_NAME SENDCACHE_STATS SENDCACHE_PREWARM
	return $rc
}

# bench_pids KIND DIR: the pids of the processes that serve requests.
bench_pids() {
	if is_nginx "$1"; then
		[[ -n $MAIN_PID ]] && nginx_worker_pids "$MAIN_PID"
	else
		srv_serving_pids "$1" "$2"
	fi
}

bench_stop() {
	if is_nginx "$1"; then
		nginx_stop "$2"
	else
		srv_stop "$1" "$2"
	fi
}

# pin_pids PID...: every thread of every PID on SERVER_CPU (a server that
# forks later passes the affinity on to its children).
pin_pids() {
	local pid
	for pid; do
		taskset -a -p -c "$SERVER_CPU" "$pid" >/dev/null 2>&1
	done
}

has_lib() { grep -qF -- "$LIB" "/proc/$1/maps" 2>/dev/null; }
alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

# ----------------------------------------------------------------- measuring

# run_wrk SECS CONNS URL SCRIPT OUT: wrk on the client CPU, bounded in time,
# in the background so that a signal reaches our trap at once.
run_wrk() {
	local secs=$1 conns=$2 url=$3 script=$4 out=$5 rc
	taskset -c "$CLIENT_CPU" timeout -k 2 $((secs + 15)) \
		wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s --latency -s "$script" "$url" \
		>"$out" 2>&1 </dev/null &
	WRK_PID=$!
	wait "$WRK_PID"
	rc=$?
	WRK_PID=
	return $rc
}

# wrk_fields FILE: "requests bytes duration_us p50_us p99_us errors".
wrk_fields() {
	awk '/^AB-RESULT / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["requests"], v["bytes"], v["duration_us"], v["p50_us"], v["p99_us"],
		      v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"]
	}' "$1"
}

# cpu_ticks PID...: "pid ticks" for each live PID, ticks = utime + stime +
# cutime + cstime (a forking server reaps its children: their time lands
# in cutime/cstime).
cpu_ticks() {
	local pid st
	for pid; do
		st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		st=${st##*) }
		awk -v p="$pid" '{ print p, $12 + $13 + $14 + $15 }' <<<"$st"
	done
}

# cpu_delta BEFORE AFTER: ticks used between two cpu_ticks outputs (a pid
# that appeared in between counts from zero).
cpu_delta() {
	awk 'NR == FNR { b[$1] = $2; next } { s += $2 - b[$1] } END { print s + 0 }' \
		<(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# cpu_busy: "server_total server_idle client_total client_idle" from
# /proc/stat, to tell whether something else used the CPUs.
cpu_busy() {
	awk -v s="cpu$SERVER_CPU" -v c="cpu$CLIENT_CPU" '
		$1 == s || $1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; v[$1] = t " " ($5 + $6) }
		END { print v[s], v[c] }' /proc/stat
}

# count_start OUT PID...: attach the counter to the serving processes;
# returns once counting is live. perf follows children forked later
# (busybox) with its default inherit.
count_start() {
	local out=$1 reply='' pid
	shift
	if [[ $COUNTER == strace ]]; then
		local -a ps=()
		for pid; do ps+=(-p "$pid"); done
		strace -c -f -o "$out" "${ps[@]}" 2>/dev/null &
		COUNTER_PID=$!
		wait_traced "$@"
		return
	fi
	local list
	list=$(IFS=,; echo "$*")
	if ((PERF_CONTROL)); then
		rm -f "$TMP/perf.ctl" "$TMP/perf.ack"
		mkfifo "$TMP/perf.ctl" "$TMP/perf.ack"
		taskset -c "$CLIENT_CPU" perf stat -e raw_syscalls:sys_enter -p "$list" -x, -o "$out" \
			-D -1 --control "fifo:$TMP/perf.ctl,$TMP/perf.ack" 2>/dev/null &
		COUNTER_PID=$!
		# Opened read-write so that neither open blocks if perf died early.
		exec 8<>"$TMP/perf.ctl" 9<>"$TMP/perf.ack"
		echo enable >&8
		read -r -t 10 reply <&9
		[[ $reply == ack ]] || note "perf did not acknowledge 'enable' (see $out)"
	else
		taskset -c "$CLIENT_CPU" perf stat -e raw_syscalls:sys_enter -p "$list" -x, -o "$out" 2>/dev/null &
		COUNTER_PID=$!
		sleep 0.5
	fi
}

# clock_start OUT PID: perf's task-clock of PID and of the children it
# forks from now on; returns once counting is live.
clock_start() {
	local reply=
	rm -f "$TMP/clock.ctl" "$TMP/clock.ack"
	mkfifo "$TMP/clock.ctl" "$TMP/clock.ack"
	taskset -c "$CLIENT_CPU" perf stat -e task-clock -p "$2" -x, -o "$1" \
		-D -1 --control "fifo:$TMP/clock.ctl,$TMP/clock.ack" 2>/dev/null &
	CLOCK_PID=$!
	exec 6<>"$TMP/clock.ctl" 7<>"$TMP/clock.ack"
	echo enable >&6
	read -r -t 10 reply <&7
	[[ $reply == ack ]] || note "perf did not acknowledge 'enable' (see $1)"
}

# clock_stop OUT: stop it; sets CLOCK_S to the CPU seconds (empty if none).
clock_stop() {
	local reply=
	echo disable >&6
	read -r -t 10 reply <&7
	exec 6>&- 7<&-
	kill -INT "$CLOCK_PID" 2>/dev/null
	wait_gone "$CLOCK_PID" 50 || kill -KILL "$CLOCK_PID" 2>/dev/null
	wait "$CLOCK_PID" 2>/dev/null
	CLOCK_PID=
	CLOCK_S=$(awk -F, '$3 ~ /^task-clock/ && $1 ~ /^[0-9.]+$/ { printf "%.3f\n", $1 / 1000 }' "$1" 2>/dev/null)
}

# wait_traced PID...: wait up to 5 s until strace has attached to every PID.
wait_traced() {
	local pid i all
	for ((i = 0; i < 50; i++)); do
		all=1
		for pid; do
			[[ $(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) =~ ^[1-9] ]] || all=0
		done
		((all)) && return 0
		sleep 0.1
	done
	note "strace did not attach to every process within 5 s"
	return 1
}

# count_stop OUT: stop counting, set COUNT_RESULT (empty when unknown).
count_stop() {
	local out=$1 reply=
	# Let the server finish wrk's connection teardown inside the window.
	sleep 0.1
	if [[ $COUNTER == perf ]] && ((PERF_CONTROL)); then
		echo disable >&8
		read -r -t 10 reply <&9
		exec 8>&- 9<&-
	fi
	kill -INT "$COUNTER_PID" 2>/dev/null
	wait_gone "$COUNTER_PID" 50 || kill -KILL "$COUNTER_PID" 2>/dev/null
	wait "$COUNTER_PID" 2>/dev/null
	COUNTER_PID=
	if [[ $COUNTER == strace ]]; then
		COUNT_RESULT=$(awk '$NF == "total" { print $4 }' "$out" 2>/dev/null)
	else
		# "<not counted>": the processes never ran in the window.
		COUNT_RESULT=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print ($1 ~ /^[0-9]+$/ ? $1 : 0) }' "$out" 2>/dev/null)
	fi
}

# wait_gone PID TENTHS: wait up to TENTHS/10 s for PID to be gone.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	! alive "$1"
}

# content_ok KIND PORT SIZE: GET the size's file (for the mixed set, one
# file of each class) and compare with what must come back. Sets RESP_BYTES
# (header + body of one response) and CHECK_MSG.
content_ok() {
	local kind=$1 port=$2 size=$3 path expected got code
	local -a paths
	if [[ $size == mix ]]; then
		paths=(/mix/c0_1.bin /mix/c1_5.bin /mix/c2_9.bin /mix/c3_9.bin)
	else
		paths=("/$size.bin")
	fi
	RESP_BYTES=0 CHECK_MSG=
	for path in "${paths[@]}"; do
		expected=$TMP/site$path
		[[ $kind == nginx-mem ]] && expected=$TMP/mem$path
		got=$(curl -sSk --max-time 30 -o "$TMP/check.body" \
			-w '%{http_code} %{size_header}' "$(url "$kind" "$port")$path" 2>"$TMP/check.err")
		code=${got%% *}
		if [[ $code != 200 ]]; then
			CHECK_MSG="GET $path: HTTP ${code:-nothing} $(head -c 200 "$TMP/check.err")"
			return 1
		fi
		if ! cmp -s "$TMP/check.body" "$expected"; then
			CHECK_MSG="GET $path: other bytes than expected"
			return 1
		fi
		RESP_BYTES=$((${got#* } + $(stat -c %s "$expected")))
	done
	rm -f "$TMP/check.body" "$TMP/check.err"
}

readonly CSV_HEADER='server,config,size,size_bytes,round,status,requests,duration_s,req_per_s,mb_per_s,p50_ms,p99_ms,errors,served,cpu_s,cpu_s_per_10k,count_requests,count_served,syscalls,syscalls_per_req,counter,lib_loaded,content_ok,server_cpu_busy_pct,client_cpu_busy_pct,conns,note'

# row SERVER CONFIG SIZE ROUND STATUS NOTE: a row for a run that produced
# no figures.
fail_row() {
	local note=${6//,/;}
	printf '%s,%s,%s,%s,%s,%s,,,,,,,,,,,,,,,%s,,,,,,%s\n' "$1" "$2" "$3" "${SIZE_BYTES[$3]}" "$4" "$5" \
		"$COUNTER" "${note//$'\n'/ }" >>"$OUT/rounds.csv"
	if [[ $5 != skipped ]]; then
		FAILURES=$((FAILURES + 1))
		printf '  %-14s %-7s r%d FAILED (%s): %s\n' "$1" "$2" "$4" "$5" "$6"
	fi
}

# ---------------------------------------------------------------- one run

# run_one KIND SIZE ROUND MODE: one fresh server, one measured run, one
# counting run, one CSV row.
run_one() {
	local kind=$1 size=$2 round=$3 mode=$4
	local tag=$kind-$size-r$round-$mode raw=$TMP/raw dir port url script conns
	local -a pids

	if ((SECONDS >= DEADLINE)); then
		fail_row "$kind" "$mode" "$size" "$round" skipped "time limit reached"
		SKIPPED=$((SKIPPED + 1))
		return
	fi
	RUN_NO=$((RUN_NO + 1))
	STATS_NAME=ab-$$-$RUN_NO
	dir=$(server_dir "$kind") || { fail_row "$kind" "$mode" "$size" "$round" setup "no directory"; return; }
	port=$(tap_free_port) || { fail_row "$kind" "$mode" "$size" "$round" setup "no free port"; return; }
	if ! bench_conf "$kind" "$dir" "$port" 2>"$raw/$tag.start.txt"; then
		fail_row "$kind" "$mode" "$size" "$round" config "$(tail -n 1 "$raw/$tag.start.txt")"
		return
	fi
	CUR_KIND=$kind CUR_DIR=$dir
	if ! bench_start "$kind" "$dir" "$mode" 2>>"$raw/$tag.start.txt"; then
		fail_row "$kind" "$mode" "$size" "$round" start \
			"did not start: $(grep -v '^$' "$raw/$tag.start.txt" | tail -n 2 | tr '\n' ' ')"
		stop_current
		return
	fi
	mapfile -t pids < <(bench_pids "$kind" "$dir")
	if ((${#pids[@]} == 0)); then
		fail_row "$kind" "$mode" "$size" "$round" start "no serving process"
		stop_current
		return
	fi
	pin_pids "$MAIN_PID" "${pids[@]}"

	local lib=0 want=0 pid
	[[ $mode == with ]] || ((A_STATS_OFF)) && want=1
	has_lib "${pids[0]}" && lib=1
	if ((want && !lib)); then
		flag "$tag: the library is not mapped in pid ${pids[0]}"
	elif ((!want && lib)); then
		flag "$tag: the library is mapped in a server started without it"
	fi
	if ! content_ok "$kind" "$port" "$size"; then
		[[ $mode == with ]] && flag "$tag: $CHECK_MSG"
		fail_row "$kind" "$mode" "$size" "$round" check "$CHECK_MSG"
		stop_current
		return
	fi

	conns=${WRK_CONNS[$kind]:-$DEFAULT_CONNS}
	url=$(url "$kind" "$port")/$size.bin script=$TMP/report.lua
	[[ $size == mix ]] && url=$(url "$kind" "$port")/ script=$TMP/mix.lua

	if ! run_wrk "$WARMUP" "$conns" "$url" "$script" "$raw/$tag.warmup.txt"; then
		fail_row "$kind" "$mode" "$size" "$round" wrk "warm-up failed: $(tail -n 1 "$raw/$tag.warmup.txt")"
		stop_current
		return
	fi

	# The measured run: nothing attached to the server.
	local pids_before ticks_before ticks_after busy_before busy_after by_clock=0 cpu_s
	[[ -n ${CPU_BY_CLOCK[$kind]-} && $COUNTER == perf ]] && ((PERF_CONTROL)) && by_clock=1
	pids_before=("${pids[@]}")
	((by_clock)) && clock_start "$raw/$tag.cpu.txt" "$MAIN_PID"
	ticks_before=$(cpu_ticks "${pids[@]}")
	busy_before=$(cpu_busy)
	if ! run_wrk "$DURATION" "$conns" "$url" "$script" "$raw/$tag.wrk.txt"; then
		((by_clock)) && clock_stop "$raw/$tag.cpu.txt"
		fail_row "$kind" "$mode" "$size" "$round" wrk "wrk failed: $(tail -n 1 "$raw/$tag.wrk.txt")"
		stop_current
		return
	fi
	# Children of a forking server exit and are reaped just after their
	# connection closes; let that happen inside the window.
	sleep 0.1
	busy_after=$(cpu_busy)
	mapfile -t pids < <(bench_pids "$kind" "$dir")
	local -a pids_all
	mapfile -t pids_all < <(printf '%s\n' "${pids_before[@]}" "${pids[@]}" | sort -un)
	ticks_after=$(cpu_ticks "${pids_all[@]}")
	cpu_s=$(awk -v t="$(cpu_delta "$ticks_before" "$ticks_after")" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')
	if ((by_clock)); then
		clock_stop "$raw/$tag.cpu.txt"
		cpu_s=${CLOCK_S:-NA}
	fi

	# The counting run: a separate, shorter window with the counter on,
	# attached to the main process too: its children forked meanwhile
	# (Apache adding workers under load) are followed from there.
	local syscalls=NA
	if ((${#pids[@]})); then
		mapfile -t pids_all < <(printf '%s\n' "$MAIN_PID" "${pids[@]}" | sort -un)
		count_start "$raw/$tag.count.txt" "${pids_all[@]}"
		if run_wrk "$COUNT_SECS" "$conns" "$url" "$script" "$raw/$tag.countwrk.txt"; then
			count_stop "$raw/$tag.count.txt"
			[[ $COUNT_RESULT =~ ^[0-9]+$ ]] && syscalls=$COUNT_RESULT
		else
			count_stop "$raw/$tag.count.txt"
		fi
	fi
	if ! alive "$MAIN_PID"; then
		flag "$tag: the server's main process $MAIN_PID died during the run"
		fail_row "$kind" "$mode" "$size" "$round" died "main process $MAIN_PID died"
		stop_current
		return
	fi

	local -a f c
	read -r -a f <<<"$(wrk_fields "$raw/$tag.wrk.txt")"
	read -r -a c <<<"$(wrk_fields "$raw/$tag.countwrk.txt" 2>/dev/null)"
	if ((${#f[@]} != 6)); then
		fail_row "$kind" "$mode" "$size" "$round" wrk "cannot read wrk's output"
		stop_current
		return
	fi
	((${#c[@]} == 6)) || c=(0 0 1 0 0 0)
	((f[5] > 0)) && [[ $mode == with ]] && flag "$tag: ${f[5]} wrk errors with the library"

	awk -v server="$kind" -v config="$mode" -v size="$size" -v sbytes="${SIZE_BYTES[$size]}" \
	    -v round="$round" -v r="${f[0]}" -v b="${f[1]}" -v d="${f[2]}" -v p50="${f[3]}" \
	    -v p99="${f[4]}" -v err="${f[5]}" -v resp="$RESP_BYTES" -v cpu="$cpu_s" \
	    -v cr="${c[0]}" -v cb="${c[1]}" -v sc="$syscalls" -v counter="$COUNTER" \
	    -v lib="$lib" -v bb="$busy_before" -v ba="$busy_after" -v conns="$conns" -v mix="$([[ $size == mix ]] && echo 1 || echo 0)" '
	function served(req, bytes) {
		# Whole responses: bytes over one response, which counts those cut
		# off when wrk stopped; for the mixed set, wrk'"'"'s count.
		if (mix || resp <= 0) return req
		return bytes / resp
	}
	BEGIN {
		secs = d / 1e6
		sv = served(r, b); csv = served(cr, cb)
		cpu10k = cpu == "NA" ? "NA" : sprintf("%.3f", sv > 0 ? cpu * 10000 / sv : 0)
		split(bb, x, " "); split(ba, y, " ")
		st = y[1] - x[1]; ct = y[3] - x[3]
		sbusy = st > 0 ? 100 * (st - (y[2] - x[2])) / st : 0
		cbusy = ct > 0 ? 100 * (ct - (y[4] - x[4])) / ct : 0
		per = sc == "NA" || csv <= 0 ? "NA" : sprintf("%.3f", sc / csv)
		# req/s counts whole responses sent, not those wrk saw complete:
		# 16 connections fetching 64 MiB each may complete none in 1 s.
		printf "%s,%s,%s,%d,%d,ok,%d,%.3f,%.1f,%.2f,%.3f,%.3f,%d,%.1f,%s,%s,%d,%.1f,%s,%s,%s,%d,1,%.0f,%.0f,%d,\n",
			server, config, size, sbytes, round, r, secs, sv / secs, b / secs / 1e6,
			p50 / 1000, p99 / 1000, err, sv, cpu, cpu10k,
			cr, csv, sc, per, counter, lib, sbusy, cbusy, conns
	}' >>"$OUT/rounds.csv"
	tail -n 1 "$OUT/rounds.csv" | awk -F, -v lim="$SATURATED_PCT" '{
		printf "  %-14s %-7s r%d %9.0f req/s %9.1f MB/s  p50 %7.3f p99 %7.3f ms  %7s sys/req  %6s CPU s/10k  err %d  CPU srv %d%% wrk %d%%%s\n",
			$1, $2, $5, $9, $10, $11, $12, ($20 == "NA" ? "NA" : sprintf("%.2f", $20)), $16, $13, $24, $25,
			($24 < lim && $25 < lim) ? "  (neither CPU saturated)" : ""
	}'
	if [[ $mode == with ]] && [[ -x $STAT_CLI ]]; then
		"$STAT_CLI" -1 -n "$STATS_NAME" >"$raw/$tag.stats.txt" 2>&1
		LAST_STATS=$raw/$tag.stats.txt LAST_STATS_KIND=$kind
	fi
	stop_current
}

stop_current() {
	[[ -n $CUR_KIND ]] || return 0
	bench_stop "$CUR_KIND" "$CUR_DIR" >/dev/null 2>&1
	CUR_KIND='' CUR_DIR=''
}

# ------------------------------------------------------- which calls (strace)

# strace_one KIND MODE OUT: start KIND, warm it up, and run a bounded ab of
# 1 KiB requests under strace -f -c attached to the serving processes.
# Sets STRACE_N to the number of requests made; returns 1 on failure. (Not
# for $(...): the server and strace must be known to this shell's cleanup.)
strace_one() {
	local kind=$1 mode=$2 out=$3 dir port url n conc pid rc
	local -a pids ps keep=(-k)
	STRACE_N=
	n=${STRACE_REQS[$kind]:-$STRACE_DEFAULT_REQS}
	conc=4
	# ab's keep-alive is HTTP/1.0 "Connection: Keep-Alive"; busybox and
	# python close after every response anyway.
	[[ $kind == busybox || $kind == python ]] && keep=()
	dir=$(server_dir "$kind") && port=$(tap_free_port) &&
		bench_conf "$kind" "$dir" "$port" 2>"$out.start" || return 1
	CUR_KIND=$kind CUR_DIR=$dir
	if ! bench_start "$kind" "$dir" "$mode" 2>>"$out.start"; then
		stop_current
		return 1
	fi
	mapfile -t pids < <(bench_pids "$kind" "$dir")
	((${#pids[@]})) || { stop_current; return 1; }
	pin_pids "$MAIN_PID" "${pids[@]}"
	url=$(url "$kind" "$port")/$STRACE_SIZE.bin
	taskset -c "$CLIENT_CPU" timeout 30 ab -q "${keep[@]}" -n 200 -c "$conc" "$url" >/dev/null 2>&1
	# The main process too: strace -f follows the children it forks
	# during the run (Apache prefork adds workers).
	mapfile -t pids < <({ echo "$MAIN_PID"; bench_pids "$kind" "$dir"; } | sort -un)
	ps=()
	for pid in "${pids[@]}"; do ps+=(-p "$pid"); done
	strace -f -c -o "$out" "${ps[@]}" 2>/dev/null &
	COUNTER_PID=$!
	wait_traced "${pids[@]}"
	taskset -c "$CLIENT_CPU" timeout 60 ab "${keep[@]}" -n "$n" -c "$conc" "$url" >"$out.ab" 2>&1 &
	AB_PID=$!
	wait "$AB_PID"
	rc=$?
	AB_PID=
	sleep 0.2
	kill -INT "$COUNTER_PID" 2>/dev/null
	wait_gone "$COUNTER_PID" 50 || kill -KILL "$COUNTER_PID" 2>/dev/null
	wait "$COUNTER_PID" 2>/dev/null
	COUNTER_PID=
	stop_current
	((rc == 0)) && grep -q "^Complete requests: *$n\$" "$out.ab" &&
		grep -q '^Failed requests: *0$' "$out.ab" && ! grep -q '^Non-2xx' "$out.ab" || return 1
	STRACE_N=$n
}

# strace_breakdown KIND: strace-KIND.md, calls per request for each name.
strace_breakdown() {
	local kind=$1 raw=$TMP/raw na nb
	if ((SECONDS >= DEADLINE)); then
		note "time limit reached: no strace breakdown for $kind"
		return
	fi
	strace_one "$kind" without "$raw/strace-$kind-without.txt"
	na=$STRACE_N
	strace_one "$kind" with "$raw/strace-$kind-with.txt"
	nb=$STRACE_N
	if [[ -z $na || -z $nb ]]; then
		FAILURES=$((FAILURES + 1))
		say "  $kind: strace breakdown failed (see raw/strace-$kind-*.txt*)"
		return
	fi
	awk -v kind="$kind" -v na="$na" -v nb="$nb" -v size="$STRACE_SIZE" -f "$BENCH/lib/strace-table.awk" \
		"$raw/strace-$kind-without.txt" "$raw/strace-$kind-with.txt" >"$OUT/strace-$kind.md"
	awk -F'|' -v k="$kind" '$2 ~ /total/ {
		printf "  %-14s syscalls per request: without %.2f, with %.2f (%.2fx)\n", k, $3, $4, ($3 > 0 ? $4 / $3 : 0) }' \
		"$OUT/strace-$kind.md"
}

# ----------------------------------------------------------------- reporting

describe_machine() {
	local v
	{
		echo "date: $(date -Is)"
		echo "command: bench/ab.sh $ARGS_TEXT"
		echo "host: $(hostname)"
		echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "cpus: $(nproc)"
		[[ -r /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor ]] &&
			echo "cpu0 governor: $(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor)"
		echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		echo "kernel: $(uname -srvm)"
		[[ -r /etc/os-release ]] && echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
		command -v systemd-detect-virt >/dev/null && echo "virtualization: $(systemd-detect-virt 2>/dev/null)"
		echo "nginx: $(/usr/sbin/nginx -v 2>&1)"
		v=$(/usr/sbin/lighttpd -v 2>/dev/null | head -n 1) && echo "lighttpd: $v"
		v=$(/usr/sbin/apache2 -v 2>/dev/null | head -n 1) && echo "apache2: ${v#Server version: }"
		v=$(busybox 2>/dev/null | head -n 1) && echo "busybox: $v"
		echo "python3: $(python3 --version 2>&1)"
		echo "wrk: $(wrk -v 2>&1 | head -n 1)"
		echo "ab: $(ab -V 2>&1 | head -n 1)"
		echo "perf: $(perf version 2>&1)"
		echo "strace: $(strace -V 2>&1 | head -n 1)"
		command -v gnuplot >/dev/null && echo "gnuplot: $(gnuplot --version)"
		echo "perf_event_paranoid: $(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)"
		echo "syscall counter: $COUNTER, separate ${COUNT_SECS} s run after the measured one"
		echo "plan: ${ROUNDS} round(s) x ${DURATION} s measured, ${WARMUP} s warm-up;" \
			"servers ${SERVER_LIST[*]}; anchors ${ANCHOR_LIST[*]:-none}; sizes ${SIZE_LIST[*]}"
		echo "library: $LIB"
		echo "library sha256: $(sha256sum "$LIB" | cut -d' ' -f1)"
		echo "library git commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(
			[[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no -- src preload Makefile 2>/dev/null) ]] &&
				echo ' (with uncommitted changes to the library)')"
		echo "load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$OUT/machine.txt"
}

# report: summary.csv, results.md and the plots from rounds.csv.
report() {
	local order anchors=
	order="${SERVER_LIST[*]}"
	((${#ANCHOR_LIST[@]})) && anchors=$(printf 'nginx-%s ' "${ANCHOR_LIST[@]}")
	awk -F, -v order="$order $anchors" -v sizes="${SIZE_LIST[*]}" \
		-f "$BENCH/lib/summary.awk" "$OUT/rounds.csv" >"$OUT/summary.csv"
	awk -F, -v servers="$order" -v anchors="$anchors" -v sizes="${SIZE_LIST[*]}" \
		-v rounds="$ROUNDS" -v dur="$DURATION" -v counter="$COUNTER" \
		-f "$BENCH/lib/tables.awk" "$OUT/summary.csv" >"$TMP/tables.md"
	{
		echo "# sendcache A/B: static-file servers without and with the library"
		echo
		echo "Run of $(date +%Y-%m-%d) on $(hostname): $(awk -F': ' '/^cpu:/ { print $2 }' "$OUT/machine.txt"), $(nproc) CPUs,"
		echo "$(uname -sr); library at commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) (all versions: \`machine.txt\`)."
		echo "Command: \`bench/ab.sh $ARGS_TEXT\`."
		echo
		echo "Each server runs without, then with \`LD_PRELOAD=libsendcache.so\`, started afresh for"
		echo "every run, its processes pinned to CPU $SERVER_CPU, wrk (one thread; 16 connections, 4 for busybox,"
		echo "2 for python) pinned to CPU $CLIENT_CPU; rounds alternate A B A B after a ${WARMUP} s warm-up."
		((PIPELINE > 1)) &&
			echo "wrk pipelines: $PIPELINE requests in each write (HTTP/1.1) for the single-file sizes."
		echo "Anchors, without the library: *nginx from memory* returns a body of the same size"
		echo "(\`return 200 \"...\"\`, up to 1 MiB: the floor for unmodified nginx), *nginx tuned* adds"
		echo "\`open_file_cache\` and \`tcp_nopush\` by hand. Figures are medians over the rounds;"
		echo "spread is (max - min) / median of req/s. System calls are counted in the serving"
		echo "processes in a separate ${COUNT_SECS} s run (\`$COUNTER\`), CPU is utime + stime of the serving"
		echo "processes (and of the children they reaped) in the measured run; for busybox, whose children"
		echo "the kernel reaps, perf's task-clock of the parent and its children. req/s and the per-request"
		echo "figures count responses sent in whole bodies (wrk's bytes / one response's bytes), so a"
		echo "64 MiB response cut off when wrk stops counts for its part. MB = 10^6 bytes, headers included;"
		echo "p50 and p99 are wrk's, over the responses it saw complete."
		echo "The mixed set is SPECweb99's: 36 files from 102 B to 900 KiB, 35% of requests"
		echo "under 1 KiB, walked from one fixed list (bench/ab.sh's write_mix_lua, the same every run)."
		echo "Every run: \`rounds.csv\`; medians and ratios: \`summary.csv\`."
		echo
		cat "$TMP/tables.md"
		if ((DO_PLOTS)); then
			echo "## Plots"
			echo
			local p
			for p in "$OUT"/plot-*.png; do
				[[ -f $p ]] && printf '![%s](%s)\n\n' "${p##*/}" "${p##*/}"
			done
		fi
		if compgen -G "$OUT/strace-*.md" >/dev/null; then
			echo "## Which calls (strace -f -c, ${STRACE_SIZE}, bounded ab run)"
			echo
			for p in "$OUT"/strace-*.md; do printf -- '- [%s](%s)\n' "${p##*/}" "${p##*/}"; done
			echo
		fi
		if ((${#FLAGS[@]})); then
			echo "## Red flags"
			echo
			for p in "${FLAGS[@]}"; do echo "- $p"; done
			echo
		fi
		if awk -F, 'NR > 1 && $6 != "ok" { bad = 1 } END { exit !bad }' "$OUT/rounds.csv"; then
			echo "## Runs without figures"
			echo
			awk -F, 'NR > 1 && $6 != "ok" { printf "- %s %s %s round %s: %s (%s)\n", $1, $2, $3, $5, $6, $27 }' "$OUT/rounds.csv"
			echo
		fi
	} >"$OUT/results.md"
}

plots() {
	local s data
	((DO_PLOTS)) || return 0
	rm -f "$OUT"/plot-*.png
	for s in "${SERVER_LIST[@]}"; do
		data=$TMP/plot-$s.dat
		awk -F, -v server="$s" -v sizes="${SIZE_LIST[*]}" -f "$BENCH/lib/plot-data.awk" \
			"$OUT/summary.csv" >"$data"
		gnuplot -e "datafile='$data'; outfile='$OUT/plot-$s.png'; server='$s'" \
			"$BENCH/lib/plot.gp" 2>"$TMP/raw/gnuplot-$s.txt" ||
			note "gnuplot failed for $s (raw/gnuplot-$s.txt)"
	done
	data=$TMP/plot-ratio.dat
	awk -F, -v servers="${SERVER_LIST[*]}" -v sizes="${SIZE_LIST[*]}" -v ratio=1 \
		-f "$BENCH/lib/plot-data.awk" "$OUT/summary.csv" >"$data"
	gnuplot -e "datafile='$data'; outfile='$OUT/plot-ratio.png'; servers='${SERVER_LIST[*]}'" \
		"$BENCH/lib/plot-ratio.gp" 2>"$TMP/raw/gnuplot-ratio.txt" ||
		note "gnuplot failed for the ratio plot (raw/gnuplot-ratio.txt)"
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

# --------------------------------------------------------------------- main

main() {
	# In place of tap.sh's traps, from the start: cleanup is safe at any
	# point (it stops only what was started).
	trap cleanup EXIT
	tap_at_exit() { bench_at_exit "$@"; }
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM

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

	# The plan and what it should take: start, content check, the
	# counter's attach and stop add about 1.2 s to a run's wrk seconds; a
	# server's strace breakdown takes about 6 s.
	local runs anchors_runs=0 per_run est s z r m a
	runs=$((${#SERVER_LIST[@]} * ${#SIZE_LIST[@]} * 2 * ROUNDS))
	for a in "${ANCHOR_LIST[@]}"; do
		for z in "${SIZE_LIST[@]}"; do
			[[ $a == mem && $z != mix ]] && ((SIZE_BYTES[$z] > MEM_MAX)) && continue
			anchors_runs=$((anchors_runs + ROUNDS))
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
				[[ $a == mem && $z != mix ]] && ((SIZE_BYTES[$z] > MEM_MAX)) && continue
				run_one "nginx-$a" "$z" "$r" without
			done
		done
	done

	if ((DO_STRACE)); then
		say ""
		say "which calls: strace -f -c, ${STRACE_SIZE}, bounded ab run per server:"
		for s in "${SERVER_LIST[@]}"; do
			strace_breakdown "$s"
		done
	fi

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
