# bench/lib/ab-run.sh - one run of bench/ab.sh (fresh server, warm-up,
# measured run, counting run, one row of rounds.csv) and the per-server
# strace breakdown.

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

# run_one KIND SIZE ROUND MODE: one fresh server, one measured run, one
# counting run, one CSV row. The steps share the run's facts as R_*.
run_one() {
	R_KIND=$1 R_SIZE=$2 R_ROUND=$3 R_MODE=$4
	R_TAG=$1-$2-r$3-$4
	if ((SECONDS >= DEADLINE)); then
		run_fail skipped "time limit reached"
		SKIPPED=$((SKIPPED + 1))
		return
	fi
	RUN_NO=$((RUN_NO + 1))
	STATS_NAME=ab-$$-$RUN_NO
	if run_setup && run_measured; then
		run_counted
		if ! alive "$MAIN_PID"; then
			flag "$R_TAG: the server's main process $MAIN_PID died during the run"
			run_fail died "main process $MAIN_PID died"
		elif run_row && [[ $R_MODE == with && -x $STAT_CLI ]]; then
			"$STAT_CLI" -1 -n "$STATS_NAME" >"$TMP/raw/$R_TAG.stats.txt" 2>&1
			LAST_STATS=$TMP/raw/$R_TAG.stats.txt LAST_STATS_KIND=$R_KIND
		fi
	fi
	stop_current
}

# run_fail STATUS NOTE: the run's row without figures.
run_fail() { fail_row "$R_KIND" "$R_MODE" "$R_SIZE" "$R_ROUND" "$@"; }

# run_setup: start the server, check it serves the right bytes with the
# library mapped or not as asked, and warm it up. Sets R_DIR, R_PORT,
# R_PIDS (serving processes), R_LIB (1: the library is mapped), R_CONNS,
# R_URL and R_SCRIPT (wrk's). Returns 1 after a failed row.
run_setup() {
	local start=$TMP/raw/$R_TAG.start.txt want=0
	R_DIR=$(server_dir "$R_KIND") || { run_fail setup "no directory"; return 1; }
	R_PORT=$(tap_free_port) || { run_fail setup "no free port"; return 1; }
	if ! bench_conf "$R_KIND" "$R_DIR" "$R_PORT" 2>"$start"; then
		run_fail config "$(tail -n 1 "$start")"
		return 1
	fi
	CUR_KIND=$R_KIND CUR_DIR=$R_DIR
	if ! bench_start "$R_KIND" "$R_DIR" "$R_MODE" 2>>"$start"; then
		run_fail start "did not start: $(grep -v '^$' "$start" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	mapfile -t R_PIDS < <(bench_pids "$R_KIND" "$R_DIR")
	if ((${#R_PIDS[@]} == 0)); then
		run_fail start "no serving process"
		return 1
	fi
	pin_pids "$MAIN_PID" "${R_PIDS[@]}"

	[[ $R_MODE == with ]] || ((A_STATS_OFF)) && want=1
	R_LIB=0
	srv_has_lib "${R_PIDS[0]}" && R_LIB=1
	if ((want && !R_LIB)); then
		flag "$R_TAG: the library is not mapped in pid ${R_PIDS[0]}"
	elif ((!want && R_LIB)); then
		flag "$R_TAG: the library is mapped in a server started without it"
	fi
	if ! content_ok "$R_KIND" "$R_PORT" "$R_SIZE"; then
		[[ $R_MODE == with ]] && flag "$R_TAG: $CHECK_MSG"
		run_fail check "$CHECK_MSG"
		return 1
	fi

	R_CONNS=$(bench_prop "$R_KIND" conns "$DEFAULT_CONNS")
	R_URL=$(url "$R_KIND" "$R_PORT")/$R_SIZE.bin R_SCRIPT=$TMP/report.lua
	[[ $R_SIZE == mix ]] && R_URL=$(url "$R_KIND" "$R_PORT")/ R_SCRIPT=$TMP/mix.lua
	if ! run_wrk "$WARMUP" "$R_CONNS" "$R_URL" "$R_SCRIPT" "$TMP/raw/$R_TAG.warmup.txt"; then
		run_fail wrk "warm-up failed: $(tail -n 1 "$TMP/raw/$R_TAG.warmup.txt")"
		return 1
	fi
}

# run_measured: the measured run, nothing attached to the server. Sets
# R_CPU_S (CPU seconds of the serving processes), R_BUSY_BEFORE and
# R_BUSY_AFTER (cpu_busy) and R_PIDS (the serving processes after it).
run_measured() {
	local out=$TMP/raw/$R_TAG by_clock=0 ticks_before ticks_after
	local -a pids_all
	[[ $(bench_prop "$R_KIND" ignores_sigchld) == 1 && $COUNTER == perf ]] &&
		((PERF_CONTROL)) && by_clock=1
	((by_clock)) && clock_start "$out.cpu.txt" "$MAIN_PID"
	ticks_before=$(cpu_ticks "${R_PIDS[@]}")
	R_BUSY_BEFORE=$(cpu_busy)
	if ! run_wrk "$DURATION" "$R_CONNS" "$R_URL" "$R_SCRIPT" "$out.wrk.txt"; then
		((by_clock)) && clock_stop "$out.cpu.txt"
		run_fail wrk "wrk failed: $(tail -n 1 "$out.wrk.txt")"
		return 1
	fi
	# Children of a forking server exit and are reaped just after their
	# connection closes; let that happen inside the window.
	sleep 0.1
	R_BUSY_AFTER=$(cpu_busy)
	mapfile -t pids_all < <({ printf '%s\n' "${R_PIDS[@]}"; bench_pids "$R_KIND" "$R_DIR"; } | sort -un)
	mapfile -t R_PIDS < <(bench_pids "$R_KIND" "$R_DIR")
	ticks_after=$(cpu_ticks "${pids_all[@]}")
	R_CPU_S=$(awk -v t="$(cpu_delta "$ticks_before" "$ticks_after")" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.3f", t / hz }')
	if ((by_clock)); then
		clock_stop "$out.cpu.txt"
		R_CPU_S=${CLOCK_S:-NA}
	fi
}

# run_counted: the counting run, a separate, shorter window with the
# counter on, attached to the main process too: its children forked
# meanwhile (Apache adding workers under load) are followed from there.
# Sets R_SYSCALLS (NA when unknown).
run_counted() {
	local out=$TMP/raw/$R_TAG
	local -a pids_all
	R_SYSCALLS=NA
	((${#R_PIDS[@]})) || return 0
	mapfile -t pids_all < <(printf '%s\n' "$MAIN_PID" "${R_PIDS[@]}" | sort -un)
	count_start "$out.count.txt" "${pids_all[@]}"
	if run_wrk "$COUNT_SECS" "$R_CONNS" "$R_URL" "$R_SCRIPT" "$out.countwrk.txt"; then
		count_stop "$out.count.txt"
		[[ $COUNT_RESULT =~ ^[0-9]+$ ]] && R_SYSCALLS=$COUNT_RESULT
	else
		count_stop "$out.count.txt"
	fi
	return 0
}

# run_row: the run's row in rounds.csv from wrk's outputs and R_*, and
# its line on the terminal. Returns 1 after a failed row.
run_row() {
	local -a f c
	read -r -a f <<<"$(wrk_fields "$TMP/raw/$R_TAG.wrk.txt")"
	read -r -a c <<<"$(wrk_fields "$TMP/raw/$R_TAG.countwrk.txt" 2>/dev/null)"
	if ((${#f[@]} != 6)); then
		run_fail wrk "cannot read wrk's output"
		return 1
	fi
	((${#c[@]} == 6)) || c=(0 0 1 0 0 0)
	((f[5] > 0)) && [[ $R_MODE == with ]] && flag "$R_TAG: ${f[5]} wrk errors with the library"

	awk -v server="$R_KIND" -v config="$R_MODE" -v size="$R_SIZE" \
	    -v sbytes="${SIZE_BYTES[$R_SIZE]}" -v round="$R_ROUND" -v r="${f[0]}" \
	    -v b="${f[1]}" -v d="${f[2]}" -v p50="${f[3]}" -v p99="${f[4]}" -v err="${f[5]}" \
	    -v resp="$RESP_BYTES" -v cpu="$R_CPU_S" -v cr="${c[0]}" -v cb="${c[1]}" \
	    -v sc="$R_SYSCALLS" -v counter="$COUNTER" -v lib="$R_LIB" -v bb="$R_BUSY_BEFORE" \
	    -v ba="$R_BUSY_AFTER" -v conns="$R_CONNS" -v mix="$([[ $R_SIZE == mix ]] && echo 1 || echo 0)" \
	    -f "$BENCH/lib/row.awk" >>"$OUT/rounds.csv"
	tail -n 1 "$OUT/rounds.csv" | awk -F, -v lim="$SATURATED_PCT" '{
		printf "  %-14s %-7s r%d %9.0f req/s %9.1f MB/s  p50 %7.3f p99 %7.3f ms  %7s sys/req  %6s CPU s/10k  err %d  CPU srv %d%% wrk %d%%%s\n",
			$1, $2, $5, $9, $10, $11, $12, ($20 == "NA" ? "NA" : sprintf("%.2f", $20)), $16, $13, $24, $25,
			($24 < lim && $25 < lim) ? "  (neither CPU saturated)" : ""
	}'
}

stop_current() {
	[[ -n $CUR_KIND ]] || return 0
	bench_stop "$CUR_KIND" "$CUR_DIR" >/dev/null 2>&1
	CUR_KIND='' CUR_DIR=''
}

# strace_one KIND MODE OUT: start KIND, warm it up, and run a bounded ab of
# 1 KiB requests under strace -f -c attached to the serving processes.
# Sets STRACE_N to the number of requests made; returns 1 on failure. (Not
# for $(...): the server and strace must be known to this shell's cleanup.)
strace_one() {
	local kind=$1 mode=$2 out=$3 dir port url n conc pid rc
	local -a pids ps keep=(-k)
	STRACE_N=
	n=$STRACE_DEFAULT_REQS
	conc=4
	# ab's keep-alive is HTTP/1.0 "Connection: Keep-Alive"; a server that
	# closes every connection gets fewer requests.
	if [[ $(bench_prop "$kind" keepalive) == 0 ]]; then
		keep=()
		n=$STRACE_CLOSE_REQS
	fi
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
