# bench/lib/ab-report.sh - what a run of bench/ab.sh leaves: machine.txt,
# summary.csv, results.md and the plots.

describe_machine() {
	local v k
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
		for k in "${srv_kinds[@]}"; do
			v=$(srv_version "$k") && [[ -n $v ]] && echo "$k: $v"
		done
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
		echo "under 1 KiB, walked from one fixed list (bench/lib/ab-site.sh's write_mix_lua, the same every run)."
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
