# bench/lib/measure.sh - what a benchmark run measures: wrk, CPU time of
# the serving processes, system calls (perf stat or strace), and the
# content check. Sourced by bench/ab.sh.

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
