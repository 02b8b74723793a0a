#!/usr/bin/env bash
# ab-nginx.sh — A/B benchmark of an unmodified nginx without (A) and with (B)
# sendcache preloaded, plus the in-memory anchor (C) for the 1 KiB file.
#
# Method: one nginx worker pinned to CPU 0 serves a generated site with
# Debian's default settings (sendfile, tcp_nopush, access_log, gzip,
# try_files); wrk with one thread and 16 keep-alive connections runs pinned
# to CPU 1. For each size the configurations alternate A B [C] within a
# round, and nginx is started afresh for every run. A run is: start, a curl
# content check, a warm-up (not counted), the measured wrk run with nothing
# attached to the worker, then a shorter wrk run during which the worker's
# system calls are counted.
#
# Counting: `perf stat -e raw_syscalls:sys_enter -p WORKER`, enabled just
# before that wrk starts and disabled just after it exits (perf --control).
# The worker is idle outside the window, so the count is exactly the work
# of that wrk run. The divisor is the responses sent in the window in whole
# bodies (sum of $body_bytes_sent over its access.log lines / body size):
# for 1 KiB that is wrk's request count give or take the 16 in flight when
# wrk stops; for 16 MiB those 16 cut-off responses would be ~10% of a short
# run. Counting stays out of the measured run because an enabled tracepoint
# costs the worker time on every system call (here: 1 KiB, A went from 61k
# to 55k req/s with perf attached), which would slow A, with its 3x more
# calls, more than B. --count-during-run counts in the measured run anyway.

# Usage: bench/ab-nginx.sh [--quick] [--sizes 1k,16m] [--rounds N]
#                          [--duration SEC] [--out DIR] [--help]
# The library is $SENDCACHE_LIB (default: <repo>/build/libsendcache.so).

set -uo pipefail
unset LD_PRELOAD

readonly NGINX=/usr/sbin/nginx
readonly SERVER_CPU=0
readonly CLIENT_CPU=1
# wrk shape: one client thread on its own core; 16 connections keep one
# worker busy. (For 16 MiB bodies and for C the client is the limit on two
# cores; the summary says so when it happens.)
readonly WRK_THREADS=1
readonly WRK_CONNS=16
readonly MEM_BYTES=1024
# A closed-loop run keeps one of its two CPUs busy (the server's or wrk's).
# When neither was busier than this, something outside the benchmark took
# the time (another tenant, the host); such runs are marked.
readonly SATURATED_PCT=95

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIB=${SENDCACHE_LIB:-$ROOT/build/libsendcache.so}
# shellcheck source=tests/tap/nginx.sh
. "$ROOT/tests/tap/nginx.sh"
# sendcache-stat reads B's counters before each B nginx stops; the
# instance is named after this run so that nothing else mixes in.
STAT_CLI=${SENDCACHE_STAT:-$ROOT/build/sendcache-stat}
STATS_NAME=ab-nginx-$$

QUICK=0
SIZES=1k,16m
ROUNDS=
DURATION=
OUT=
COUNTER=auto           # auto | perf | strace
COUNT_DURING_RUN=0
A_STATS_OFF=0           # --a-stats-off: A is nginx + sendcache, counters off

# State the cleanup handler needs. Every process we start is tracked by pid.
TMP=
STARTING=0
MASTER_PID=
WRK_PID=
COUNTER_PID=
CLEANED=0

usage() {
	cat <<EOF
Usage: bench/ab-nginx.sh [options]

A/B benchmark: nginx (Debian defaults, one worker on CPU $SERVER_CPU) without
(A) and with (B) LD_PRELOAD=\$SENDCACHE_LIB, and for 1 KiB the same bytes
served from memory (C), driven by wrk on CPU $CLIENT_CPU.

Options:
  --quick            2 rounds of 5 s (unless --rounds/--duration say otherwise)
  --sizes LIST       comma-separated file sizes, e.g. 1k,64k,16m (default 1k,16m)
  --rounds N         rounds per size, each runs A then B [then C] (default 3)
  --duration SEC     seconds per measured wrk run (default 10)
  --out DIR          results directory
                     (default bench/results/YYYYMMDD-HOST-demo/)
  --counter perf|strace
                     how to count the worker's system calls (default: perf,
                     strace when perf's raw_syscalls tracepoint is unusable)
  --a-stats-off      A is nginx + sendcache with SENDCACHE_STATS=0 (no
                     shared-memory counters), so B/A is the cost of counting
  --count-during-run count during the measured run instead of a separate
                     counting run (req/s then carries the counter's cost)
  -h, --help         this text

Exit status: 0 when all went well, 2 when a red flag was raised (errors or
wrong bytes with the library only, a crashed worker, ...), 1 on other failures.

Environment:
  SENDCACHE_LIB      library under test (default $ROOT/build/libsendcache.so)
EOF
}

die() {
	printf 'ab-nginx: %s\n' "$*" >&2
	exit 1
}

note() {
	printf 'ab-nginx: %s\n' "$*" >&2
}

# ---------------------------------------------------------------- arguments

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) QUICK=1 ;;
		--sizes) [ $# -ge 2 ] || die "--sizes needs a value"; SIZES=$2; shift ;;
		--sizes=*) SIZES=${1#*=} ;;
		--rounds) [ $# -ge 2 ] || die "--rounds needs a value"; ROUNDS=$2; shift ;;
		--rounds=*) ROUNDS=${1#*=} ;;
		--duration) [ $# -ge 2 ] || die "--duration needs a value"; DURATION=$2; shift ;;
		--duration=*) DURATION=${1#*=} ;;
		--out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift ;;
		--out=*) OUT=${1#*=} ;;
		--counter) [ $# -ge 2 ] || die "--counter needs a value"; COUNTER=$2; shift ;;
		--counter=*) COUNTER=${1#*=} ;;
		--count-during-run) COUNT_DURING_RUN=1 ;;
		--a-stats-off) A_STATS_OFF=1 ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
		esac
		shift
	done

	if [ "$QUICK" = 1 ]; then
		: "${ROUNDS:=2}" "${DURATION:=5}"
		WARMUP=1
		COUNT_SECS=1
	else
		: "${ROUNDS:=3}" "${DURATION:=10}"
		WARMUP=2
		COUNT_SECS=2
	fi
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
	[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer (seconds)"
	[ "$COUNT_SECS" -le "$DURATION" ] || COUNT_SECS=$DURATION
	case $COUNTER in auto|perf|strace) ;; *) die "--counter must be perf or strace" ;; esac
	: "${OUT:=$ROOT/bench/results/$(date +%Y%m%d)-$(hostname)-demo}"

	SIZE_LABELS=()
	SIZE_BYTES=()
	local s n
	IFS=, read -r -a sizes <<<"$SIZES"
	[ ${#sizes[@]} -gt 0 ] || die "--sizes is empty"
	for s in "${sizes[@]}"; do
		s=${s,,}
		[[ $s =~ ^([0-9]+)([kmg]?)$ ]] || die "bad size '$s' (want e.g. 1k, 64k, 16m)"
		n=$((10#${BASH_REMATCH[1]}))
		case ${BASH_REMATCH[2]} in
		k) n=$((n << 10)) ;;
		m) n=$((n << 20)) ;;
		g) n=$((n << 30)) ;;
		esac
		[ "$n" -gt 0 ] || die "size '$s' is zero"
		SIZE_LABELS+=("$s")
		SIZE_BYTES+=("$n")
	done
}

# ------------------------------------------------------------ prerequisites

check_prereqs() {
	local missing=() t
	[ -x "$NGINX" ] || missing+=("nginx ($NGINX; apt-get install nginx-light)")
	for t in wrk perf taskset curl ps awk sha256sum; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

	[ -e "$LIB" ] || die "library not found: $LIB (run make, or set SENDCACHE_LIB)"
	if ! [ -f "$LIB" ] || ! [ -r "$LIB" ]; then
		die "library is not a readable file: $LIB"
	fi
	[ "$(head -c 4 "$LIB" | od -An -c | tr -d ' ')" = '177ELF' ] ||
		die "library is not an ELF file: $LIB"
	LIB=$(readlink -f "$LIB")

	[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (nginx on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU)"
	taskset -c "$SERVER_CPU,$CLIENT_CPU" true 2>/dev/null ||
		die "cannot pin to CPUs $SERVER_CPU and $CLIENT_CPU (cpuset?)"

	local probe
	if [ "$COUNTER" != strace ]; then
		probe=$(perf stat -e raw_syscalls:sys_enter -x, -- true 2>&1 | grep 'raw_syscalls:sys_enter' | cut -d, -f1)
		if [[ $probe =~ ^[0-9]+$ ]] && [ "$probe" -gt 0 ]; then
			COUNTER=perf
		elif [ "$COUNTER" = perf ]; then
			die "perf cannot count raw_syscalls:sys_enter here (perf_event_paranoid? tracefs?)"
		else
			note "perf cannot count raw_syscalls:sys_enter here; falling back to strace -c -f"
			COUNTER=strace
		fi
	fi
	if [ "$COUNTER" = strace ]; then
		command -v strace >/dev/null 2>&1 || die "missing: strace (needed because perf cannot count system calls)"
		note "counting with strace -c: syscalls/request is exact, req/s of the counting run is not"
	fi
	PERF_CONTROL=0
	if [ "$COUNTER" = perf ] && perf stat -h 2>&1 | grep -q -- '--control'; then
		PERF_CONTROL=1
	fi
}

# ------------------------------------------------------------- site, config

make_site() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sendcache-ab.XXXXXX") || die "mktemp failed"
	chmod 0755 "$TMP"
	mkdir -m 0755 "$TMP/www" "$TMP/tmp" "$TMP/raw"
	local i
	for i in "${!SIZE_LABELS[@]}"; do
		head -c "${SIZE_BYTES[$i]}" /dev/urandom >"$TMP/www/${SIZE_LABELS[$i]}.bin" ||
			die "cannot write $TMP/www/${SIZE_LABELS[$i]}.bin"
		chmod 0644 "$TMP/www/${SIZE_LABELS[$i]}.bin"
	done
	# Letters and digits only: nothing nginx would read as a variable or quote.
	MEM_BODY=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c "$MEM_BYTES")
	printf '%s' "$MEM_BODY" >"$TMP/mem.expected"

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
}

# A listening port nobody uses, below the ephemeral range so that wrk's own
# client ports can never collide with it.
pick_port() {
	local p hex used
	used=$(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		hex=$(printf '%04X' "$p")
		grep -qx "$hex" <<<"$used" || { echo "$p"; return 0; }
	done
	return 1
}

# Debian's nginx.conf and default site with every path inside $TMP (the
# tests' own nginx_conf), plus the in-memory anchor C.
write_config() {
	nginx_conf "$TMP" "$PORT" "		location = /mem {
			return 200 \"$MEM_BODY\";
		}"
}

# ------------------------------------------------------------ nginx control

alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# Waits up to $2 tenths of a second for pid $1 to be gone.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	! alive "$1"
}

# ours PID: true if PID is an nginx started on our configuration, so that a
# stale pid file can never make us signal somebody else's process.
ours() {
	[ -n "$1" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "-c $TMP/nginx.conf"
}

worker_of() {
	ps -o pid= --ppid "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'
}

# start_nginx CONFIG: starts a fresh nginx (B with the library preloaded),
# sets MASTER_PID and WORKER_PID. Returns 2 when the port was taken.
start_nginx() {
	local cfg=$1 i
	rm -f "$TMP/access.log" "$TMP/error.log" "$TMP/nginx.pid" "$TMP/start.err"
	# From here until MASTER_PID is known, a signal's cleanup must look for
	# the pid file itself.
	STARTING=1
	if [ "$cfg" = B ]; then
		# env after taskset: only nginx itself is started with the library.
		taskset -c "$SERVER_CPU" env LD_PRELOAD="$LIB" SENDCACHE_STATS_NAME="$STATS_NAME" \
			"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" \
			</dev/null >/dev/null 2>"$TMP/start.err"
	elif [ "$cfg" = A ] && [ "$A_STATS_OFF" = 1 ]; then
		taskset -c "$SERVER_CPU" env LD_PRELOAD="$LIB" SENDCACHE_STATS=0 \
			"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" \
			</dev/null >/dev/null 2>"$TMP/start.err"
	else
		taskset -c "$SERVER_CPU" \
			"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" \
			</dev/null >/dev/null 2>"$TMP/start.err"
	fi
	local rc=$?
	if [ $rc -ne 0 ]; then
		grep -q 'Address already in use' "$TMP/start.err" "$TMP/error.log" 2>/dev/null && return 2
		cat "$TMP/start.err" "$TMP/error.log" >&2 2>/dev/null
		die "nginx failed to start (config $cfg, exit $rc)"
	fi
	for ((i = 0; i < 50; i++)); do
		[ -s "$TMP/nginx.pid" ] && break
		sleep 0.1
	done
	[ -s "$TMP/nginx.pid" ] || die "nginx wrote no pid file (config $cfg)"
	MASTER_PID=$(tr -dc '0-9' <"$TMP/nginx.pid")
	STARTING=0
	WORKER_PID=
	for ((i = 0; i < 50; i++)); do
		WORKER_PID=$(worker_of "$MASTER_PID")
		[ -n "$WORKER_PID" ] && break
		sleep 0.1
	done
	[ -n "$WORKER_PID" ] || die "nginx started no worker (config $cfg); see $TMP/error.log"
	if [ -s "$TMP/start.err" ]; then
		note "nginx (config $cfg) said on stderr:"
		sed 's/^/    /' "$TMP/start.err" >&2
	fi
	return 0
}

# Stops the running nginx by the pid its pid file gave, and waits for the
# master and its worker to exit.
stop_nginx() {
	local pid=$MASTER_PID i
	[ -n "$TMP" ] || return 0
	if [ -z "$pid" ] && [ "$STARTING" = 1 ]; then
		# Interrupted during a start: the master writes its pid file just
		# after it daemonizes.
		for ((i = 0; i < 50; i++)); do
			[ -s "$TMP/nginx.pid" ] && break
			sleep 0.1
		done
	fi
	STARTING=0
	if [ -s "$TMP/nginx.pid" ]; then
		pid=$(tr -dc '0-9' <"$TMP/nginx.pid")
	fi
	[ -n "$pid" ] || return 0
	if ours "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		if ! wait_gone "$pid" 100; then
			note "nginx master $pid ignored SIGTERM for 10 s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null
			wait_gone "$pid" 50
		fi
	fi
	# The master waits for its worker; this only covers a master we killed.
	if [ -n "${WORKER_PID:-}" ] && [ "$(cat "/proc/$WORKER_PID/comm" 2>/dev/null)" = nginx ]; then
		wait_gone "$WORKER_PID" 50 || kill -KILL "$WORKER_PID" 2>/dev/null
	fi
	rm -f "$TMP/nginx.pid"
	MASTER_PID=
	WORKER_PID=
}

# start_server CONFIG: start_nginx on a free port, moving to another port
# if someone took this one between our check and nginx's bind.
start_server() {
	local tries
	for ((tries = 0; tries < 5; tries++)); do
		start_nginx "$1"
		case $? in
		0) return 0 ;;
		2) PORT=$(pick_port) || die "no free port"; write_config ;;
		esac
	done
	die "could not find a free port for nginx"
}

# ------------------------------------------------------------------ running

# run_wrk SECONDS URL OUTFILE: wrk in the background (so that a signal
# reaches our trap at once), waited for by pid.
run_wrk() {
	taskset -c "$CLIENT_CPU" wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$1"s --latency \
		-s "$TMP/report.lua" "$2" >"$3" 2>&1 &
	WRK_PID=$!
	wait "$WRK_PID"
	local rc=$?
	WRK_PID=
	return $rc
}

# Prints "requests bytes duration_us p50_us p99_us connect read write status timeout".
wrk_fields() {
	awk '/^AB-RESULT / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["requests"], v["bytes"], v["duration_us"], v["p50_us"], v["p99_us"],
		      v["connect"], v["read"], v["write"], v["status"], v["timeout"]
	}' "$1"
}

# count_start PID OUTFILE: attaches the counter to the worker; returns once
# counting is live.
count_start() {
	local pid=$1 out=$2 reply=
	if [ "$COUNTER" = strace ]; then
		strace -c -f -p "$pid" -o "$out" 2>/dev/null &
		COUNTER_PID=$!
		sleep 0.5
		return 0
	fi
	if [ "$PERF_CONTROL" = 1 ]; then
		rm -f "$TMP/perf.ctl" "$TMP/perf.ack"
		mkfifo "$TMP/perf.ctl" "$TMP/perf.ack"
		taskset -c "$CLIENT_CPU" perf stat -e raw_syscalls:sys_enter -p "$pid" -x, -o "$out" \
			-D -1 --control "fifo:$TMP/perf.ctl,$TMP/perf.ack" 2>/dev/null &
		COUNTER_PID=$!
		# Opened read-write so that neither open blocks if perf died early.
		exec 8<>"$TMP/perf.ctl" 9<>"$TMP/perf.ack"
		echo enable >&8
		read -r -t 10 reply <&9
		[ "$reply" = ack ] || die "perf did not acknowledge 'enable' (see $out)"
	else
		taskset -c "$CLIENT_CPU" perf stat -e raw_syscalls:sys_enter -p "$pid" -x, -o "$out" 2>/dev/null &
		COUNTER_PID=$!
		# Without --control there is no handshake; perf attaches in well
		# under this, and the worker is idle until wrk starts.
		sleep 0.5
	fi
}

# count_stop OUTFILE: stops counting; sets COUNT_RESULT to the number of
# system calls (empty if the counter's output has none). Not for $(...): it
# must wait for the counter, which only this shell can do.
count_stop() {
	local out=$1 reply=
	# Let the worker finish wrk's connection teardown inside the window.
	sleep 0.1
	if [ "$COUNTER" = perf ] && [ "$PERF_CONTROL" = 1 ]; then
		echo disable >&8
		read -r -t 10 reply <&9
		exec 8>&- 9<&-
	fi
	kill -INT "$COUNTER_PID" 2>/dev/null
	wait "$COUNTER_PID" 2>/dev/null
	COUNTER_PID=
	if [ "$COUNTER" = strace ]; then
		COUNT_RESULT=$(awk '$NF == "total" { print $4 }' "$out")
	else
		# "<not counted>" means the worker never ran in the window: zero.
		COUNT_RESULT=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print ($1 ~ /^[0-9]+$/ ? $1 : 0) }' "$out")
	fi
}

# cpu_sample WORKER_PID: prints "server_total server_idle server_steal
# client_total client_idle client_steal worker_ticks" from /proc, in clock
# ticks, so that a run can say whether something else used its CPUs.
cpu_sample() {
	local w
	w=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }')
	awk -v s="cpu$SERVER_CPU" -v c="cpu$CLIENT_CPU" -v w="${w:-0}" '
		$1 == s || $1 == c {
			t = 0; for (i = 2; i <= 9; i++) t += $i
			v[$1] = t " " ($5 + $6) " " $9
		}
		END { print v[s], v[c], w }' /proc/stat
}

# access.log lines, i.e. requests nginx finished so far.
logged() {
	if [ -f "$TMP/access.log" ]; then wc -l <"$TMP/access.log"; else echo 0; fi
}

# body_bytes_since LINE: the sum of $body_bytes_sent over the access.log
# lines after LINE (combined format: the field after the status).
body_bytes_since() {
	tail -n +"$(($1 + 1))" "$TMP/access.log" 2>/dev/null |
		awk -F'"' '{ split($3, a, " "); s += a[2] } END { printf "%.0f\n", s }'
}

FLAGS=()
flag() {
	FLAGS+=("$*")
	printf '  RED FLAG: %s\n' "$*"
}

# check_server TAG CONFIG URL EXPECTED: is the library mapped where it
# should be, and does one GET return the expected bytes? Sets LIB_LOADED and
# CONTENT_OK.
check_server() {
	local tag=$1 cfg=$2 url=$3 expected=$4 code
	LIB_LOADED=0
	CONTENT_OK=1
	grep -qF "$LIB" "/proc/$WORKER_PID/maps" 2>/dev/null && LIB_LOADED=1
	local want=0
	[ "$cfg" = B ] || { [ "$cfg" = A ] && [ "$A_STATS_OFF" = 1 ]; } && want=1
	if [ $want = 1 ] && [ $LIB_LOADED = 0 ]; then
		flag "$tag: $LIB is not mapped in the nginx worker"
	elif [ $want = 0 ] && [ $LIB_LOADED = 1 ]; then
		die "$tag: the library is mapped in a worker started without it"
	fi
	code=$(curl -sS --max-time 30 -o "$TMP/check.body" -w '%{http_code}' "$url" 2>"$TMP/check.err")
	if [ "$code" != 200 ]; then
		CONTENT_OK=0
		flag "$tag: GET ${url##*/} returned HTTP ${code:-nothing}$(
			[ -s "$TMP/check.err" ] && printf ' (%s)' "$(head -c 200 "$TMP/check.err")")"
	elif ! cmp -s "$TMP/check.body" "$expected"; then
		CONTENT_OK=0
		flag "$tag: GET ${url##*/} returned other bytes than the file holds"
	fi
	rm -f "$TMP/check.body"
}

# count_run TAG URL: the separate counting run on the same nginx. Sets
# SYSCALLS, COUNT_FIELDS (wrk's fields for that run) and COUNT_BYTES.
count_run() {
	local tag=$1 url=$2 raw=$TMP/raw
	local line
	line=$(logged)
	count_start "$WORKER_PID" "$raw/$tag.count.txt"
	run_wrk "$COUNT_SECS" "$url" "$raw/$tag.countwrk.txt" || die "wrk failed ($tag counting run)"
	count_stop "$raw/$tag.count.txt"
	SYSCALLS=$COUNT_RESULT
	read -r -a COUNT_FIELDS <<<"$(wrk_fields "$raw/$tag.countwrk.txt")"
	[ ${#COUNT_FIELDS[@]} -eq 10 ] || die "cannot parse wrk output ($tag counting run)"
	COUNT_BYTES=$(body_bytes_since "$line")
}

# measured_run TAG URL: the wrk run whose req/s, MiB/s and latency count.
# Sets RUN_FIELDS, LOGGED (access.log lines it added), CPU_BEFORE/AFTER,
# and with --count-during-run also what count_run sets.
measured_run() {
	local tag=$1 url=$2 raw=$TMP/raw
	local before
	before=$(logged)
	[ "$COUNT_DURING_RUN" = 1 ] && count_start "$WORKER_PID" "$raw/$tag.count.txt"
	CPU_BEFORE=$(cpu_sample "$WORKER_PID")
	run_wrk "$DURATION" "$url" "$raw/$tag.wrk.txt" || die "wrk failed ($tag); see $raw/$tag.wrk.txt"
	CPU_AFTER=$(cpu_sample "$WORKER_PID")
	if [ "$COUNT_DURING_RUN" = 1 ]; then
		count_stop "$raw/$tag.count.txt"
		SYSCALLS=$COUNT_RESULT
		COUNT_BYTES=$(body_bytes_since "$before")
	fi
	LOGGED=$(($(logged) - before))
	read -r -a RUN_FIELDS <<<"$(wrk_fields "$raw/$tag.wrk.txt")"
	[ ${#RUN_FIELDS[@]} -eq 10 ] || die "cannot parse wrk output ($tag); see $raw/$tag.wrk.txt"
	[ "$COUNT_DURING_RUN" = 1 ] && COUNT_FIELDS=("${RUN_FIELDS[@]}")
	return 0
}

# check_worker TAG WHEN: flags a worker that died since the last check
# and follows its replacement. Returns 1 if it had died.
check_worker() {
	local tag=$1 when=$2 now
	now=$(worker_of "$MASTER_PID")
	[ "$now" = "$WORKER_PID" ] && return 0
	flag "$tag: nginx worker $WORKER_PID died $when; master started ${now:-no new one}"
	if [ -z "$now" ]; then
		cp "$TMP/error.log" "$TMP/raw/$tag.error.log" 2>/dev/null
		die "$tag: nginx has no worker left; see raw/$tag.error.log"
	fi
	WORKER_PID=$now
	return 1
}

# check_error_log TAG: anything alarming in nginx's error log?
check_error_log() {
	local tag=$1
	if grep -qE '\[(alert|crit|emerg)\]|exited on signal' "$TMP/error.log" 2>/dev/null; then
		cp "$TMP/error.log" "$TMP/raw/$tag.error.log"
		flag "$tag: nginx error log has alerts; see raw/$tag.error.log"
	fi
}

# record_row SIZE BYTES ROUND CONFIG PATH BODY_SIZE: appends the run to
# rounds.csv (columns: CSV_HEADER) and prints it.
record_row() {
	local f=("${RUN_FIELDS[@]}")
	# wrk fields: requests bytes duration_us p50_us p99_us connect read write status timeout
	awk -v size="$1" -v bytes="$2" -v round="$3" -v cfg="$4" -v path="$5" -v bsize="$6" \
	    -v r="${f[0]}" -v b="${f[1]}" -v d="${f[2]}" -v p50="${f[3]}" -v p99="${f[4]}" \
	    -v ec="${f[5]}" -v er="${f[6]}" -v ew="${f[7]}" -v es="${f[8]}" -v et="${f[9]}" \
	    -v cr="${COUNT_FIELDS[0]}" -v cd="${COUNT_FIELDS[2]}" -v sc="$SYSCALLS" \
	    -v cbytes="${COUNT_BYTES:-0}" -v counter="$COUNTER" -v logged="$LOGGED" \
	    -v worker="$WORKER_PID" -v lib="$LIB_LOADED" -v ok="$CONTENT_OK" \
	    -v cb="$CPU_BEFORE" -v ca="$CPU_AFTER" 'BEGIN {
		secs = d / 1e6; csecs = cd / 1e6
		split(cb, x, " "); split(ca, y, " ")
		st = y[1] - x[1]; ct = y[4] - x[4]
		sbusy = st > 0 ? 100 * (st - (y[2] - x[2])) / st : 0
		cbusy = ct > 0 ? 100 * (ct - (y[5] - x[5])) / ct : 0
		steal = st + ct > 0 ? 100 * (y[3] - x[3] + y[6] - x[6]) / (st + ct) : 0
		wcpu = st > 0 ? 100 * (y[7] - x[7]) / st : 0
		# Responses the worker sent in the counting window, in whole bodies:
		# unlike the count wrk reports, it includes those cut off at its stop.
		served = cbytes / bsize
		if (served <= 0) served = cr
		per = "NA"
		if (sc != "NA") per = sprintf("%.3f", served > 0 ? sc / served : 0)
		printf "%s,%d,%d,%s,%s,%d,%.3f,%.1f,%.2f,%.3f,%.3f,%d,%d,%d,%d,%d,%d,%.3f,%.1f,%.2f,%s,%s,%s,%d,%d,%d,%d,%.0f,%.0f,%.1f,%.0f\n",
			size, bytes, round, cfg, path, r, secs, r / secs, b / secs / 1048576,
			p50 / 1000, p99 / 1000, es, ec, er, ew, et,
			cr, csecs, (csecs > 0 ? cr / csecs : 0), served, sc, per,
			counter, logged, worker, lib, ok, sbusy, cbusy, steal, wcpu
	}' >>"$OUT/rounds.csv"

	awk -F, -v lim="$SATURATED_PCT" '{
		printf "  %-4s r%d %s %9.0f req/s %9.1f MiB/s  p99 %7.2f ms %7s syscalls/req  errors %d  CPU srv %d%% wrk %d%%%s\n",
			$1, $3, $4, $8, $9, $11, ($22 == "NA" ? "NA" : sprintf("%.2f", $22)), $12 + $13 + $14 + $15 + $16, $28, $29,
			($28 < lim && $29 < lim) ? "  (neither CPU saturated: interference?)" : ""
	}' <(tail -n 1 "$OUT/rounds.csv")
}

# run_one SIZE_INDEX ROUND CONFIG: one fresh nginx, one measured run, one
# counting run, one CSV row.
run_one() {
	local idx=$1 round=$2 cfg=$3
	local label=${SIZE_LABELS[$idx]} bytes=${SIZE_BYTES[$idx]}
	local path=/$label.bin expected=$TMP/www/$label.bin body_size=${SIZE_BYTES[$idx]}
	if [ "$cfg" = C ]; then
		path=/mem expected=$TMP/mem.expected body_size=$MEM_BYTES
	fi
	local url=http://127.0.0.1:$PORT$path tag=$label-r$round-$cfg
	SYSCALLS=
	COUNT_BYTES=

	start_server "$cfg"
	check_server "$tag" "$cfg" "$url" "$expected"
	run_wrk "$WARMUP" "$url" "$TMP/raw/$tag.warmup.txt" ||
		die "wrk failed in warm-up ($tag); see $TMP/raw/$tag.warmup.txt"
	check_worker "$tag" "in the warm-up"
	measured_run "$tag" "$url"
	# A count that a dying worker cut short is no count.
	check_worker "$tag" "in the measured run" || [ "$COUNT_DURING_RUN" = 0 ] || SYSCALLS=NA
	if [ "$COUNT_DURING_RUN" = 0 ]; then
		count_run "$tag" "$url"
		check_worker "$tag" "in the counting run" || SYSCALLS=NA
	fi
	[[ $SYSCALLS =~ ^[0-9]+$|^NA$ ]] || die "no system call count ($tag); see raw/$tag.count.txt"
	check_error_log "$tag"
	record_row "$label" "$bytes" "$round" "$cfg" "$path" "$body_size"
	if [ "$cfg" = B ] && [ -x "$STAT_CLI" ]; then
		"$STAT_CLI" -1 -n "$STATS_NAME" >"$TMP/raw/$tag.stats.txt" 2>&1
		LAST_STATS=$TMP/raw/$tag.stats.txt
	fi
	stop_nginx
}

readonly CSV_HEADER='size,bytes,round,config,path,requests,duration_s,req_per_s,mib_per_s,p50_ms,p99_ms,http_errors,sock_connect,sock_read,sock_write,sock_timeout,count_requests,count_duration_s,count_req_per_s,count_bodies_sent,syscalls,syscalls_per_req,counter,logged_requests,worker_pid,lib_loaded,content_ok,server_cpu_busy_pct,client_cpu_busy_pct,steal_pct,worker_cpu_pct'

# ---------------------------------------------------------------- reporting

# summarize FORMAT(text|md): per size, medians and spreads of every config
# and the B/A and B/C ratios, read from rounds.csv.
summarize() {
	awk -F, -v fmt="$1" -v dur="$DURATION" -v rounds="$ROUNDS" -v lim="$SATURATED_PCT" -v aoff="$A_STATS_OFF" '
	function median(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		if (n == 0) return ""
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		lo = a[1]; hi = a[n]
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function ratio(x, y) { return (x != "" && y > 0) ? sprintf("%.2fx", x / y) : "-" }
	function num(x, f) { return x == "" ? "-" : sprintf(f, x) }
	NR == 1 { next }
	{
		k = $1 SUBSEP $4
		if (!($1 in seen)) { seen[$1] = 1; order[++ns] = $1; bytes[$1] = $2 }
		rps[k] = rps[k] " " $8; mib[k] = mib[k] " " $9; p99[k] = p99[k] " " $11
		if ($28 < lim && $29 < lim) stalled[$1]++
		runs[$1]++
		if ($22 != "NA") spr[k] = spr[k] " " $22
		cli[k] = cli[k] " " $29; err[k] += $12 + $13 + $14 + $15 + $16; have[k] = 1
	}
	END {
		name["A"] = aoff ? "A sendcache, counters off" : "A nginx"
		name["B"] = "B nginx + sendcache"; name["C"] = "C nginx, body in memory"
		for (s = 1; s <= ns; s++) {
			sz = order[s]
			for (c = 1; c <= 3; c++) {
				cf = substr("ABC", c, 1); k = sz SUBSEP cf
				if (!have[k]) continue
				m_rps[cf] = median(rps[k]); lo_rps[cf] = lo; hi_rps[cf] = hi
				m_mib[cf] = median(mib[k]); m_p99[cf] = median(p99[k]); m_spr[cf] = median(spr[k])
				m_cli[cf] = median(cli[k])
			}
			title = sprintf("%s (%d bytes): %d round%s x %d s, wrk -t1 -c16, nginx worker on CPU 0, wrk on CPU 1", sz, bytes[sz], rounds, rounds == 1 ? "" : "s", dur)
			if (fmt == "md") {
				printf "### %s\n\n", title
				print "| config | req/s (median) | min - max | MiB/s | p99 ms | syscalls/req | errors |"
				print "|---|---:|---:|---:|---:|---:|---:|"
			} else {
				printf "\n== %s\n", title
				printf "%-24s %12s %19s %10s %8s %13s %7s\n", "config", "req/s median", "min - max", "MiB/s", "p99 ms", "syscalls/req", "errors"
			}
			for (c = 1; c <= 3; c++) {
				cf = substr("ABC", c, 1); k = sz SUBSEP cf
				if (!have[k]) continue
				spread = sprintf("%.0f - %.0f", lo_rps[cf], hi_rps[cf])
				if (fmt == "md")
					printf "| %s | %.0f | %s | %.1f | %.2f | %s | %d |\n", name[cf], m_rps[cf], spread, m_mib[cf], m_p99[cf], num(m_spr[cf], "%.2f"), err[k]
				else
					printf "%-24s %12.0f %19s %10.1f %8.2f %13s %7d\n", name[cf], m_rps[cf], spread, m_mib[cf], m_p99[cf], num(m_spr[cf], "%.2f"), err[k]
			}
			if (have[sz SUBSEP "A"] && have[sz SUBSEP "B"]) {
				if (fmt == "md")
					printf "| **B/A** | %s | | %s | | %s | |\n", ratio(m_rps["B"], m_rps["A"]), ratio(m_mib["B"], m_mib["A"]), ratio(m_spr["B"], m_spr["A"])
				else
					printf "%-24s %12s %19s %10s %8s %13s\n", "B/A", ratio(m_rps["B"], m_rps["A"]), "", ratio(m_mib["B"], m_mib["A"]), "", ratio(m_spr["B"], m_spr["A"])
			}
			if (have[sz SUBSEP "C"] && have[sz SUBSEP "B"]) {
				if (fmt == "md")
					printf "| **B/C** | %s | | | | %s | |\n", ratio(m_rps["B"], m_rps["C"]), ratio(m_spr["B"], m_spr["C"])
				else
					printf "%-24s %12s %19s %10s %8s %13s\n", "B/C", ratio(m_rps["B"], m_rps["C"]), "", "", "", ratio(m_spr["B"], m_spr["C"])
			}
			line = ""
			for (c = 1; c <= 3; c++) {
				cf = substr("ABC", c, 1)
				if (have[sz SUBSEP cf] && m_rps[cf] > 0)
					line = line sprintf("%s%s %.0f%%", line == "" ? "" : ", ", cf, 100 * (hi_rps[cf] - lo_rps[cf]) / m_rps[cf])
			}
			if (fmt == "md")
				printf "\nSpread of req/s between rounds, (max - min) / median: %s.\n\n", line
			else
				printf "spread of req/s between rounds, (max - min) / median: %s\n", line
			# A saturated client CPU means req/s is wrk'"'"'s limit, not nginx'"'"'s.
			line = ""
			for (c = 1; c <= 3; c++) {
				cf = substr("ABC", c, 1)
				if (have[sz SUBSEP cf] && m_cli[cf] >= 95)
					line = line (line == "" ? "" : ", ") cf
			}
			if (line != "") {
				msg = sprintf("client-bound (%s): wrk used all of CPU 1, so req/s and MiB/s show the client'"'"'s limit; syscalls/req still compares the servers", line)
				if (fmt == "md") printf "Note: %s.\n\n", msg
				else printf "note: %s\n", msg
			}
			if (stalled[sz]) {
				msg = sprintf("%d of %d runs had neither CPU saturated (server or wrk): time went elsewhere (host, other tenants); their req/s is low for reasons outside nginx", stalled[sz], runs[sz])
				if (fmt == "md") printf "Note: %s.\n\n", msg
				else printf "note: %s\n", msg
			}
			delete m_cli; delete m_rps; delete m_mib; delete m_p99; delete m_spr
		}
	}' "$OUT/rounds.csv"
}

# Errors only with the library are a red flag; so is any config with errors.
error_flags() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] && flag "$line"
	done < <(awk -F, 'NR > 1 {
		e = $12 + $13 + $14 + $15 + $16; err[$1 SUBSEP $4] += e
		if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
	}
	END {
		for (i = 1; i <= n; i++) {
			s = order[i]; a = err[s SUBSEP "A"] + 0; b = err[s SUBSEP "B"] + 0
			if (b > 0 && a == 0)
				printf "%s: %d wrk errors (HTTP status >= 400 or socket) with the library, none without\n", s, b
			else if (b > 0 || a > 0)
				printf "%s: wrk errors in both configs (A %d, B %d): the client or the machine is in trouble\n", s, a, b
		}
	}' "$OUT/rounds.csv")
}

describe_machine() {
	{
		echo "date: $(date -Is)"
		echo "command: bench/ab-nginx.sh $ARGS_TEXT"
		echo "host: $(hostname)"
		echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		echo "cpus: $(nproc)"
		local gov=/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor
		[ -r "$gov" ] && echo "cpu0 governor: $(cat "$gov")"
		echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
		echo "kernel: $(uname -srvm)"
		[ -r /etc/os-release ] && echo "os: $(awk -F= '$1 == "PRETTY_NAME" { gsub(/"/, "", $2); print $2 }' /etc/os-release)"
		command -v systemd-detect-virt >/dev/null 2>&1 && echo "virtualization: $(systemd-detect-virt 2>/dev/null)"
		echo "nginx: $("$NGINX" -v 2>&1)"
		echo "wrk: $(wrk -v 2>&1 | head -n 1)"
		echo "perf: $(perf version 2>&1)"
		echo "perf_event_paranoid: $(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)"
		echo "syscall counter: $COUNTER$([ "$COUNT_DURING_RUN" = 1 ] && echo ', during the measured run' || echo ", separate ${COUNT_SECS} s run")"
		echo "library: $LIB"
		echo "library sha256: $(sha256sum "$LIB" | cut -d' ' -f1)"
		echo "library mtime: $(date -r "$LIB" -Is)"
		echo "repository head: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
		echo "load before start: $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$OUT/machine.txt"
}

write_markdown() {
	{
		echo "# nginx A/B: sendcache"
		echo
		echo "A = nginx as Debian ships it (one worker); B = the same with"
		echo "\`LD_PRELOAD=$LIB\`; C = the same 1 KiB returned from memory"
		echo "(\`location = /mem { return 200 \"...\"; }\`), the floor for the file path."
		echo "Every run starts nginx afresh; rounds alternate A B (C)."
		echo "Medians over rounds; every round is in \`rounds.csv\`, the machine in \`machine.txt\`."
		echo
		local tool='strace -c -f'
		[ "$COUNTER" = perf ] && tool='perf stat -e raw_syscalls:sys_enter'
		echo "System calls are counted in the worker with \`$tool\`"
		if [ "$COUNT_DURING_RUN" = 1 ]; then
			echo "during the measured run (so its req/s carries the counter's cost)."
		else
			echo "during a separate ${COUNT_SECS} s wrk run on the same nginx, right after the measured one"
			if [ "$COUNTER" = perf ]; then
				echo "(an enabled tracepoint slows every system call, so it stays out of the req/s run)."
			else
				echo "(strace stops the worker at every system call; perf's raw_syscalls tracepoint was unusable here)."
			fi
		fi
		echo "The counter is on only while that wrk runs; the worker is idle outside it. The divisor"
		echo "is the responses sent in that window in whole bodies: the sum of \$body_bytes_sent over"
		echo "its access.log lines divided by the body size (wrk's own count leaves out the up to 16"
		echo "responses in flight when it stops, which matters for 16 MiB bodies)."
		echo
		summarize md
		if [ ${#FLAGS[@]} -gt 0 ]; then
			echo "## Red flags"
			echo
			local f
			for f in "${FLAGS[@]}"; do echo "- $f"; done
			echo
		fi
	} >"$OUT/results.md"
}

# ------------------------------------------------------------------ cleanup

# Run from the traps.
# shellcheck disable=SC2317
cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	if [ -n "$WRK_PID" ] && alive "$WRK_PID"; then
		kill -TERM "$WRK_PID" 2>/dev/null
		wait "$WRK_PID" 2>/dev/null
	fi
	if [ -n "$COUNTER_PID" ] && alive "$COUNTER_PID"; then
		kill -INT "$COUNTER_PID" 2>/dev/null
		wait_gone "$COUNTER_PID" 20 || kill -KILL "$COUNTER_PID" 2>/dev/null
		wait "$COUNTER_PID" 2>/dev/null
	fi
	stop_nginx
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		# The raw wrk and counter outputs go with the results.
		if [ -d "$OUT" ] && [ -d "$TMP/raw" ]; then
			mkdir -p "$OUT/raw" && cp -p "$TMP"/raw/* "$OUT/raw/" 2>/dev/null
		fi
		rm -rf "$TMP"
	fi
}

# shellcheck disable=SC2317
on_signal() {
	trap - INT TERM
	printf '\nab-nginx: interrupted (%s); stopping what was started\n' "$1" >&2
	cleanup
	exit 130
}

# --------------------------------------------------------------------- main

main() {
	ARGS_TEXT="$*"
	parse_args "$@"
	check_prereqs

	trap cleanup EXIT
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM

	mkdir -p "$OUT" || die "cannot create $OUT"
	OUT=$(cd "$OUT" && pwd)
	# Raw outputs of an earlier run into the same directory would mix in.
	rm -f "$OUT"/raw/*-r[0-9]*-[ABC].*
	make_site
	PORT=$(pick_port) || die "no free port"
	write_config
	"$NGINX" -t -q -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" ||
		die "nginx rejects the generated configuration ($TMP/nginx.conf)"
	describe_machine
	echo "$CSV_HEADER" >"$OUT/rounds.csv"

	local per_run=$((WARMUP + DURATION + 1)) runs=0 i r
	[ "$COUNT_DURING_RUN" = 1 ] || per_run=$((per_run + COUNT_SECS + 1))
	for i in "${!SIZE_BYTES[@]}"; do
		runs=$((runs + 2 * ROUNDS))
		[ "${SIZE_BYTES[$i]}" = "$MEM_BYTES" ] && runs=$((runs + ROUNDS))
	done
	echo "sendcache A/B on nginx: library $LIB"
	echo "sizes ${SIZE_LABELS[*]}, $ROUNDS round(s) x $DURATION s, warm-up $WARMUP s, port $PORT;" \
		"$runs runs, about $((runs * per_run / 60 + 1)) min"

	for i in "${!SIZE_LABELS[@]}"; do
		echo
		echo "${SIZE_LABELS[$i]}:"
		local configs="A B"
		[ "${SIZE_BYTES[$i]}" = "$MEM_BYTES" ] && configs="A B C"
		for ((r = 1; r <= ROUNDS; r++)); do
			local c
			for c in $configs; do
				run_one "$i" "$r" "$c"
			done
		done
	done

	summarize text
	error_flags
	write_markdown
	if [ -n "${LAST_STATS-}" ] && [ -s "$LAST_STATS" ]; then
		echo
		echo "sendcache-stat -n $STATS_NAME, just before the last B nginx stopped:"
		cat "$LAST_STATS"
	fi
	echo
	echo "results: $OUT/ (results.md, rounds.csv, machine.txt, raw/)"
	if [ ${#FLAGS[@]} -gt 0 ]; then
		echo "RED FLAGS: ${#FLAGS[@]} (listed above and in results.md)"
		return 2
	fi
}

main "$@"
exit $?
