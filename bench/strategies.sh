#!/usr/bin/env bash
# strategies.sh - measure each row of the send strategy table (src/send.c)
# on nginx at the sizes where the choice matters, to set the defaults of
# SENDCACHE_MERGE_MAX and SENDCACHE_PIPE_MAX.
#
# Each strategy is forced through the size bounds (writev: every body
# merged; pipe: every whole file from a cached pipe; sendfile: header with
# MSG_MORE, then the real sendfile) and measured by bench/ab.sh against
# nginx without the library in the same run (alternating A B). The table
# gives, per size, each strategy's requests/s relative to its own A, and
# its system calls per request.
#
#   bench/strategies.sh [--rounds N] [--duration SEC] [--out DIR] [--report]
# --report only rebuilds the tables from the runs already in DIR.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sizes=${SIZES:-4k,16k,64k,256k,1m}
rounds=3 duration=3
out=$ROOT/bench/results/$(date +%Y%m%d)-$(hostname -s)-strategies
report_only=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--report) report_only=1; shift ;;
	*) echo "usage: $0 [--rounds N] [--duration SEC] [--out DIR] [--report]" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"

# name and the bounds that force it (a pipe holds at most
# fs.pipe-max-size less a page: 1 MiB files cannot take that row).
declare -A env=(
	[writev]="SENDCACHE_MERGE_MAX=2M SENDCACHE_PIPE_MAX=0"
	[pipe]="SENDCACHE_MERGE_MAX=0 SENDCACHE_PIPE_MAX=1020K"
	[sendfile]="SENDCACHE_MERGE_MAX=0 SENDCACHE_PIPE_MAX=0"
)
order=(writev pipe sendfile)
for s in "${order[@]}"; do
	((report_only)) && break
	echo "== strategy $s (${env[$s]})"
	env ${env[$s]} "$ROOT/bench/ab.sh" --servers nginx --sizes "$sizes" \
		--anchors none --rounds "$rounds" --duration "$duration" \
		--no-strace --no-plots --no-stats --out "$out/$s" >"$out/$s.log" 2>&1
	echo "   exit $? (log: $out/$s.log)"
done

# One CSV row per strategy and size: B/A of the medians, and B's syscalls.
{
	echo "strategy,size,a_req_per_s,b_req_per_s,ratio,b_syscalls_per_req,b_mb_per_s"
	for s in "${order[@]}"; do
		awk -F, -v s="$s" 'NR > 1 && $1 == "nginx" {
			if ($2 == "without") a[$3] = $7
			else if ($2 == "with") { b[$3] = $7; sc[$3] = $15; mb[$3] = $11; o[++n] = $3 }
		} END {
			for (i = 1; i <= n; i++) { z = o[i]
				printf "%s,%s,%s,%s,%.2f,%s,%s\n", s, z, a[z], b[z],
				       (a[z] > 0 ? b[z] / a[z] : 0), sc[z], mb[z] }
		}' "$out/$s/summary.csv"
	done
} >"$out/strategies.csv"

# The Markdown table: sizes down, strategies across.
awk -F, 'NR > 1 { r[$1 "," $2] = sprintf("%sx (%s)", $5, $6)
		  if (!($2 in seen)) { seen[$2] = 1; sz[++n] = $2 } }
	END {
		print "| size | writev B/A (syscalls) | pipe B/A (syscalls) | sendfile B/A (syscalls) |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++)
			printf "| %s | %s | %s | %s |\n", sz[i], r["writev," sz[i]],
			       r["pipe," sz[i]], r["sendfile," sz[i]]
	}' "$out/strategies.csv" >"$out/strategies.md"
cat "$out/strategies.md"
