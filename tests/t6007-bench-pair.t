#!/usr/bin/env bash
# t6007-bench-pair: bench/pair.sh on a small site: both servers run and are
# measured, the library only in the second, a line per run with the CPU
# per request of each and their ratio, the median line, nothing left
# running or on disk; bad arguments exit 1 with one line.
. "$(dirname "$0")/tap/tap.sh"
tap_require wrk nginx taskset curl perl
plan 8
pair=$tap_top/bench/pair.sh
dir=$(tap_tmpdir)

SENDCACHE_LIB=$tap_lib TMPDIR=$dir timeout 300 bash "$pair" --server nginx --files 1000 \
	--stream zipf-1.0 --runs 2 --duration 1 >"$dir/out" 2>"$dir/err"
rc=$?
is "$rc" 0 "pair.sh ends well"
[[ $rc == 0 ]] || diag "$(tail -n 5 "$dir/err")"
runs=$(awk '$1 ~ /^[12]$/ && NF == 6 && $6 + 0 > 0.2 && $6 + 0 < 5 && $4 + 0 > 0 && $5 + 0 > 0' "$dir/out" | wc -l)
is "$runs" 2 "a line per run: req/s, CPU per request of each, their ratio"
like "$(grep '^CPU per request' "$dir/out")" \
	'^CPU per request, without / with: median [0-9.]+ \(quartiles [0-9.]+-[0-9.]+, 2 runs\)$' \
	"and the median over the runs"
like "$(head -n 1 "$dir/err")" "library $(readlink -f "$tap_lib")" "it says which library"
is "$(find "$dir" -mindepth 1 -maxdepth 1 -name 'sendcache-pair.*' | wc -l)" 0 \
	"its temporary site is gone"
# nginx's master is started with -p DIR/sendcache-pair.XXXXXX/srv-MODE.
left=$(pgrep -f -- "$dir/sendcache-pair" | wc -l)
is "$left" 0 "no server of it is left running"

bash "$pair" --runs 0 >"$dir/bad.out" 2>&1
is "$?" 1 "--runs 0 is refused"
like "$(cat "$dir/bad.out")" '^pair: runs must be a positive integer, got .0.$' "in one line"
