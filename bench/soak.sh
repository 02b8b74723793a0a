#!/usr/bin/env bash
# soak.sh - nginx, lighttpd and Apache event with the library, side by side
# for SOAK_SECONDS (default 600), under load and file faults, with every
# checked byte right and their descriptors and memory flat.
#
# Each server gets its own directory and port (as the tests configure
# them) and its own tests/helpers/faultload.py run: wrk with SOAK_CONNECTIONS
# (default 10) connections, the fault loop (rename, in-place rewrite,
# truncate, delete every 100 ms, and a freshness check 50 ms after each
# change) and checker clients that check every response's bytes. First a
# baseline of SOAK_BASELINE seconds (default 60) with the three servers
# without the library records the failure kinds each shows (404 while a
# file is deleted, ...); then the soak with the library. Every 10 s the
# serving processes of each server are sampled: descriptors (/proc/PID/fd)
# and resident memory (VmRSS), summed over the processes.
#
# Results in bench/results/<date>-soak[-TAG]/: samples.csv (the curve),
# summary.md (requests, failure kinds against the baseline, wrong bytes,
# crashes, fd and RSS first/last/max), baseline-*.json and soak-*.json
# (faultload's results), and soak.png when gnuplot is installed.
#
#     make soak                      # 10 minutes
#     make soak SOAK_SECONDS=120     # 2 minutes
#     bench/soak.sh [TAG]

set -uo pipefail
unset LD_PRELOAD TAP_PRELOAD TAP_NO_PRELOAD SENDCACHE_STATS_NAME

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_BASELINE=${SOAK_BASELINE:-60}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-10}
SAMPLE_S=10
SERVERS=(nginx lighttpd apache-event)
FAULTLOAD=$ROOT/tests/helpers/faultload.py
TAG=${1:+-$1}
OUT=$ROOT/bench/results/$(date -u +%Y%m%d)-soak$TAG

# tap.sh brings the server helpers; its plan-checking exit trap is for
# tests, so soak_exit replaces it and runs the helpers' stop commands.
# shellcheck source=tests/tap/tap.sh
. "$ROOT/tests/tap/tap.sh"
# shellcheck source=tests/tap/nginx.sh
. "$ROOT/tests/tap/nginx.sh"
# shellcheck source=tests/tap/servers.sh
. "$ROOT/tests/tap/servers.sh"
tap_lib=$ROOT/build/libsendcache.so
tap_preload=$tap_lib

soak_exit() {
	local i
	trap - EXIT
	for ((i = ${#_tap_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_tap_cleanups[i]}" >/dev/null 2>&1
	done
	[[ -n ${_tap_tmproot-} ]] && rm -rf "$_tap_tmproot"
}
trap soak_exit EXIT

for c in wrk python3 curl "$(srv_bin nginx)" "$(srv_bin lighttpd)" "$(srv_bin apache-event)"; do
	command -v "$c" >/dev/null || { echo "soak: $c is missing (scripts/install-deps demo)" >&2; exit 1; }
done
[[ -f $tap_lib ]] || { echo "soak: $tap_lib is not built (make)" >&2; exit 1; }

declare -A DIR PORT PIDS

# setup KIND: a directory, a port and the configuration of one server.
setup() {
	local kind=$1
	DIR[$kind]=$(tap_tmpdir)
	PORT[$kind]=$(tap_free_port)
	local extra=
	# lighttpd's own stat cache would serve changed files for a second
	[[ $kind == lighttpd ]] && extra='server.stat-cache-engine = "disable"'
	srv_conf "$kind" "${DIR[$kind]}" "${PORT[$kind]}" "$extra"
	python3 "$FAULTLOAD" init "${DIR[$kind]}/www"
}

start() {
	local kind=$1 mode=$2 d=${DIR[$1]}
	srv_start "$kind" "$d" "$mode" || return 1
	echo "$(serving "$kind")" >"$d/pids.$mode"
}

stop() {
	srv_stop "$1" "${DIR[$1]}"
}

# serving KIND: the pids that answer requests, one line.
serving() {
	srv_serving_pids "$1" "${DIR[$1]}" | tr '\n' ' '
}

# sample T KIND: "T,KIND,PROCS,FDS,RSS_KB" for the serving processes.
sample() {
	local t=$1 kind=$2 pid n=0 fds=0 rss=0 f r
	for pid in $(serving "$kind"); do
		f=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[[ -n $r ]] || continue
		n=$((n + 1)); fds=$((fds + f)); rss=$((rss + r))
	done
	echo "$t,$kind,$n,$fds,$rss"
}

# phase LABEL MODE SECONDS [sample]: the three servers at once.
phase() {
	local label=$1 mode=$2 secs=$3 sampling=${4-} kind t0 t pids=() base
	for kind in "${SERVERS[@]}"; do
		start "$kind" "$mode" || { echo "soak: $kind ($mode) did not start" >&2; exit 1; }
	done
	for kind in "${SERVERS[@]}"; do
		base=
		[[ $mode == with ]] && base="--baseline $OUT/baseline-$kind.json"
		# shellcheck disable=SC2086 # base is two words or none
		python3 "$FAULTLOAD" run --www "${DIR[$kind]}/www" --port "${PORT[$kind]}" \
			--seconds "$secs" --connections "$SOAK_CONNECTIONS" $base \
			--json "$OUT/$label-$kind.json" >"$OUT/$label-$kind.out" 2>&1 &
		pids+=($!)
	done
	if [[ -n $sampling ]]; then
		t0=$(date +%s)
		echo "seconds,server,processes,fds,rss_kb" >"$OUT/samples.csv"
		while :; do
			t=$(( $(date +%s) - t0 ))
			for kind in "${SERVERS[@]}"; do sample "$t" "$kind"; done >>"$OUT/samples.csv"
			(( t + SAMPLE_S > secs )) && break
			sleep "$SAMPLE_S"
		done
	fi
	wait "${pids[@]}"
	sleep 1
	for kind in "${SERVERS[@]}"; do
		[[ -n $sampling ]] && sample "$(( $(date +%s) - t0 ))" "$kind" >>"$OUT/samples.csv"
		echo "$(serving "$kind")" >"${DIR[$kind]}/pids.$mode.end"
		cp "${DIR[$kind]}/error.log" "$OUT/$label-$kind.error.log" 2>/dev/null
		stop "$kind"
	done
}

mkdir -p "$OUT"
for kind in "${SERVERS[@]}"; do setup "$kind"; done
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel: $(uname -r)"
	echo "cpus: $(nproc)"
	echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
	echo "soak: $SOAK_SECONDS s, baseline $SOAK_BASELINE s, wrk $SOAK_CONNECTIONS connections per server"
} >"$OUT/machine.txt"

echo "soak: baseline, ${SOAK_BASELINE} s without the library"
phase baseline without "$SOAK_BASELINE"
echo "soak: ${SOAK_SECONDS} s with the library"
phase soak with "$SOAK_SECONDS" sample

# crashes KIND: serving pids of the start gone at the end (Apache, which
# retires children as load varies: its main process), plus log lines of
# processes killed by a signal.
for kind in "${SERVERS[@]}"; do
	d=${DIR[$kind]}
	gone=0
	if [[ $kind != apache-* ]]; then
		for p in $(cat "$d/pids.with"); do
			[[ " $(cat "$d/pids.with.end") " == *" $p "* ]] || gone=$((gone + 1))
		done
	fi
	sig=$(grep -ciE 'signal|SIGBUS|bus error' "$OUT/soak-$kind.error.log" 2>/dev/null)
	echo "$kind ${gone:-0} ${sig:-0}"
done >"$OUT/crashes.txt"

python3 - "$OUT" "$SOAK_SECONDS" "${SERVERS[@]}" <<'EOF'
import csv, json, sys
out, secs, servers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
crash = {l.split()[0]: l.split()[1:] for l in open(out + "/crashes.txt")}
rows = list(csv.DictReader(open(out + "/samples.csv")))
md = ["# Soak: nginx, lighttpd, Apache event with the library", "",
      "%d s (%.1f min) of load and file faults, the three servers at once; "
      "baseline without the library first. Samples every 10 s in samples.csv." % (secs, secs / 60), "",
      "| server | wrk requests | responses checked | faults | freshness checks (stale) | wrong bytes | failure kinds (baseline) | new kinds | much more often | unanswered (10 s) | crashes | fds first/last/max | RSS KiB first/last/max |",
      "|---|---:|---:|---:|---:|---:|---|---|---|---:|---|---|---|"]
fails = 0
for s in servers:
    r = json.load(open("%s/soak-%s.json" % (out, s)))
    b = json.load(open("%s/baseline-%s.json" % (out, s)))
    def kinds(res):
        k = {}
        for ks in res["kinds"].values():
            for kind, n in ks.items():
                if kind != "ok":
                    k[kind] = k.get(kind, 0) + n
        return ", ".join("%s %d" % (x, k[x]) for x in sorted(k)) or "none"
    pts = [x for x in rows if x["server"] == s]
    fd = [int(x["fds"]) for x in pts]
    rss = [int(x["rss_kb"]) for x in pts]
    gone, sig = crash[s]
    stale = len(r["stale"]) + 0
    new = " ".join(r.get("new_kinds", [])) or "none"
    more = " ".join(r.get("more_often", [])) or "none"
    hung = r.get("fresh_timeouts", 0) + sum(k.get("timeout", 0) for k in r["kinds"].values())
    fails += (r["wrong_bytes"] > 0 or new != "none" or more != "none" or int(gone) or
              int(sig) or stale or hung)
    md.append("| %s | %d | %d | %d | %d (%d) | %d | %s (%s) | %s | %s | %d | %s pid(s) gone, %s signal line(s) | %d / %d / %d | %d / %d / %d |" % (
        s, r["wrk"]["requests"], r["checked"], sum(r["faults"].values()),
        r["fresh_checked"], stale, r["wrong_bytes"], kinds(r), kinds(b), new, more, hung,
        gone, sig, fd[0], fd[-1], max(fd), rss[0], rss[-1], max(rss)))
md += ["", "Result: %s." % ("PASS: no wrong byte, no new failure kind, none much more often "
                            "(faultload.py more_often), no request left unanswered, "
                            "no crash, every change served 50 ms later"
                            if not fails else "FAIL (see the table)"), ""]
md.append("Failure kinds: see tests/helpers/faultload.py (404 while delete.bin is gone, "
              "mixed for a read that raced an in-place write, short for a file truncated while sent).")
open(out + "/summary.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
sys.exit(1 if fails else 0)
EOF
rc=$?

if command -v gnuplot >/dev/null 2>&1; then
	for kind in "${SERVERS[@]}"; do
		awk -F, -v k="$kind" 'NR > 1 && $2 == k { print $1, $4, $5 / 1024 }' \
			"$OUT/samples.csv" >"$OUT/.plot-$kind"
	done
	gnuplot <<EOF
set terminal png size 1000,700
set output "$OUT/soak.png"
set multiplot layout 2,1 title "soak: ${SOAK_SECONDS} s with the library (sums over each server's serving processes)"
set xlabel "seconds"
set ylabel "open descriptors"
set key outside right
plot "$OUT/.plot-nginx" using 1:2 with linespoints title "nginx", \
     "$OUT/.plot-lighttpd" using 1:2 with linespoints title "lighttpd", \
     "$OUT/.plot-apache-event" using 1:2 with linespoints title "apache-event"
set ylabel "RSS (MiB)"
plot "$OUT/.plot-nginx" using 1:3 with linespoints title "nginx", \
     "$OUT/.plot-lighttpd" using 1:3 with linespoints title "lighttpd", \
     "$OUT/.plot-apache-event" using 1:3 with linespoints title "apache-event"
unset multiplot
EOF
	rm -f "$OUT"/.plot-*
fi
echo "soak: results in ${OUT#"$ROOT"/}"
exit $rc
