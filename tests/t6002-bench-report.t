#!/usr/bin/env bash
# t6002-bench-report: bench/ab.sh's reporting, on made-up runs (no server):
# medians, spread and with/without ratios in summary.csv, failed runs
# counted but left out, the Markdown overview and per-size tables, the
# strace breakdown's calls per request, and the mixed set's proportions.
. "$(dirname "$0")/tap/tap.sh"
plan 16
lib=$tap_top/bench/lib
dir=$(tap_tmpdir)

# Three rounds of nginx without (100, 300, 200 req/s) and with (400, 600,
# 500) the library for 1k, one run with that failed to start, and an
# anchor. Columns as bench/ab.sh writes them (see its CSV_HEADER).
csv_row() {   # server config round status req/s syscalls/req cpu/10k p99
	printf '%s,%s,1k,1024,%s,%s,1000,1.000,%s,1.00,0.100,%s,0,1000.0,0.10,%s,500,500.0,5000,%s,perf,1,1,100,90,16,\n' \
		"$1" "$2" "$3" "$4" "$5" "$8" "$7" "$6"
}
{
	echo 'server,config,size,size_bytes,round,status,requests,duration_s,req_per_s,mb_per_s,p50_ms,p99_ms,errors,served,cpu_s,cpu_s_per_10k,count_requests,count_served,syscalls,syscalls_per_req,counter,lib_loaded,content_ok,server_cpu_busy_pct,client_cpu_busy_pct,conns,note'
	csv_row nginx without 1 ok 100 10 0.4 2.0
	csv_row nginx with 1 ok 400 3 0.2 1.0
	csv_row nginx without 2 ok 300 11 0.6 4.0
	csv_row nginx with 2 ok 600 3 0.1 1.0
	csv_row nginx without 3 ok 200 10 0.5 3.0
	csv_row nginx with 3 ok 500 4 0.2 1.5
	echo 'nginx,with,1k,1024,4,start,,,,,,,,,,,,,,,perf,,,,,,did not start'
	csv_row nginx-mem without 1 ok 800 3 0.1 0.5
} >"$dir/rounds.csv"

awk -F, -v order="nginx nginx-mem" -v sizes="1k" -f "$lib/summary.awk" \
	"$dir/rounds.csv" >"$dir/summary.csv"
field() {   # SERVER CONFIG COLUMN-NAME: one value of summary.csv
	awk -F, -v s="$1" -v c="$2" -v n="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == s && $2 == c { print $col[n] }' "$dir/summary.csv"
}
is "$(field nginx without req_per_s),$(field nginx without req_per_s_min),$(field nginx without req_per_s_max)" \
	"200.0,100.0,300.0" "median, min and max req/s without"
is "$(field nginx without spread_pct)" "100.0" "spread is (max - min) / median"
is "$(field nginx with runs),$(field nginx with ok_runs)" "4,3" "a failed run counts in runs, not in figures"
is "$(field nginx with req_per_s)" "500.0" "median with: the failed run is left out"
is "$(field nginx ratio req_per_s)" "2.500" "req/s ratio with/without of the medians"
is "$(field nginx ratio syscalls_per_req)" "0.300" "syscalls/request ratio (3 / 10)"
is "$(field nginx ratio p99_ms)" "0.333" "p99 ratio (1.0 / 3.0)"
is "$(field nginx-mem without req_per_s)" "800.0" "anchor summarised"
is "$(field nginx-mem ratio req_per_s)" "" "no ratio row for an anchor"

awk -F, -v servers="nginx" -v anchors="nginx-mem" -v sizes="1k" -v rounds=3 -v dur=3 \
	-v counter=perf -f "$lib/tables.awk" "$dir/summary.csv" >"$dir/tables.md"
tables=$(<"$dir/tables.md")
like "$tables" $'\n''\| nginx \| 2\.50x \|' "overview: req/s ratio per server and size"
like "$tables" '\| nginx \| 10\.0 -> 3\.0 \|' "overview: syscalls per request without -> with"
like "$tables" '\| nginx with / nginx from memory \(anchor\) \| \| 0\.62x \|' "nginx with the library against the memory anchor"

# strace -c summaries of 2000 requests each.
cat >"$dir/without.txt" <<'EOF2'
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 50.00    0.001000           0      4000      2000 openat
 50.00    0.001000           0     16000           writev
------ ----------- ----------- --------- --------- ----------------
100.00    0.002000           0     20000      2000 total
EOF2
cat >"$dir/with.txt" <<'EOF2'
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.001000           0      6000           writev
------ ----------- ----------- --------- --------- ----------------
100.00    0.001000           0      6000           total
EOF2
st=$(awk -v kind=apache -v na=2000 -v nb=2000 -v size=1k -f "$lib/strace-table.awk" \
	"$dir/without.txt" "$dir/with.txt")
like "$st" '\| openat \| 2\.000 \| 0\.000 \| -2\.000 \| 1\.000 \| 0\.000 \|' "strace: calls and errors per request"
like "$st" '\| \*\*total\*\* \| 10\.000 \| 3\.000 \| -7\.000 \(0\.30x\) \|' "strace: total and ratio"

# The mixed set, from the harness itself (sourced: main does not run).
. "$tap_top/bench/ab.sh"
TMP=$dir
echo 'done = function() end' >"$TMP/report.lua"
write_mix_lua
total=$(grep -c '"/mix/c[0-3]_[1-9]\.bin",' "$TMP/mix.lua")
small=$(mix_files | awk '$2 < 1024 { print $1 }' | grep -cFf - <(grep -o '"/mix/[^"]*"' "$TMP/mix.lua" | tr -d '"'))
ok "the mixed list has about 1000 requests ($total)" test "$total" -ge 990 -a "$total" -le 1010
ok "35% of them are for files under 1 KiB ($small of $total)" \
	awk -v s="$small" -v t="$total" 'BEGIN { exit !(s / t > 0.34 && s / t < 0.36) }'
