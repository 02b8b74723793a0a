#!/bin/bash
# t4012-fork-pages: a server that forks a child per connection pays next
# to nothing for the library (README, "Servers" and "Limits").
#
# build/tests/forkpages plays busybox httpd: accept, fork, the parent
# closes the connection and accepts the next, the child serves a file on
# descriptors 0 and 1 (stat, open, fstat, write, sendfile to the end) and
# exits. It counts the pages of private memory one of them wrote after
# the fork, each of which the kernel copied (13 us apiece on a small VM,
# against 1.3 ms for the whole request). Each count is the lowest of
# $runs runs; pages of the stack are counted apart (their number moves with
# the environment's size and the depth of frames).
# - Without the library: the baseline, and the bytes the client got.
# - With it, plain and with SENDCACHE_PREWARM (the parent holds the file):
#   at most one page more than the baseline, the descriptor table's,
#   which the parent writes at accept and close; the same bytes.
# - A child that waits in poll() first, as a long-lived worker does, is
#   awake and takes its own counters: several pages more (13 here).
#   Before forked children slept, every child cost about that: 17 pages
#   against 8, and 21 with SENDCACHE_PREWARM.
# - A prewarm that does not win goes: after 16 forks over a second whose
#   children all slept, and no hit of its own, the parent closes what it
#   prewarmed (its descriptors are then those of the plain run); 20 forks
#   in a burst, or children that wake, and it keeps it (a descriptor more
#   for each file of $dir).

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"

tap_require_lib
forkpages=$tap_build/tests/forkpages
[[ -x $forkpages ]] || bail_out "$forkpages is not built (make test builds it)"
[[ -n ${TAP_SANITIZE-} ]] && skip_all "page counts of a sanitizer's build say nothing of the library's"

runs=5
dir=$(tap_tmpdir)

plan 13

# lowest MODE PRELOAD [VAR=VALUE...]: "PAGES STACK", the lowest of each
# over $runs runs (-1 if a run failed); the bytes the client got in the
# last one in $dir/bytes.
lowest() {
	local mode=$1 preload=$2 pages= stack= out p s i
	shift 2
	for ((i = 0; i < runs; i++)); do
		out=$(env LD_PRELOAD="$preload" "$@" "$forkpages" "$dir" "$mode" 2>&1) ||
			{ echo "-1 -1"; return; }
		p=$(awk '$1 == "pages" {print $2}' <<<"$out")
		s=$(awk '$1 == "stack" {print $2}' <<<"$out")
		awk '$1 == "bytes" {print $2}' <<<"$out" >"$dir/bytes"
		[[ -n $pages ]] && (( p >= pages )) || pages=$p
		[[ -n $stack ]] && (( s >= stack )) || stack=$s
	done
	echo "$pages $stack"
}

# within GOT BASE: pages at most one more than the baseline's (the
# descriptor table's), stack pages at most two more (deeper frames).
within() {
	local got=($1) base=($2)
	(( got[0] >= 0 && got[0] <= base[0] + 1 && got[1] <= base[1] + 2 ))
}

base=$(lowest sleep "")
is "$(cat "$dir/bytes")" 1065 "without the library the client gets head and body (1065 bytes)"
ok "without the library the pages are counted (pages, stack: $base)" test "${base% *}" -gt 0

with=$(lowest sleep "$tap_preload")
is "$(cat "$dir/bytes")" 1065 "with the library, the same bytes"
ok "a child that serves one connection and exits: $with pages against $base" within "$with" "$base"

warm=$(lowest sleep "$tap_preload" SENDCACHE_PREWARM="$dir")
is "$(cat "$dir/bytes")" 1065 "with SENDCACHE_PREWARM, the same bytes"
ok "and with the file cached in the parent: $warm against $base" within "$warm" "$base"

awake=$(lowest wake "$tap_preload")
is "$(cat "$dir/bytes")" 1065 "a child that waits first, the same bytes"
ok "a child that waits first is awake: $awake, several pages more than $base" \
	test "${awake% *}" -ge $(( ${base% *} + 4 ))

# fds MODE ROUNDS GAP_MS PRELOAD [VAR=VALUE...]: "BYTES FDS" of one run.
fds() {
	local mode=$1 rounds=$2 gap=$3 preload=$4 out
	shift 4
	out=$(env LD_PRELOAD="$preload" "$@" "$forkpages" "$dir" "$mode" "$rounds" "$gap" 2>&1) ||
		{ echo "-1 -1"; return; }
	awk '$1 == "bytes" {b = $2} $1 == "fds" {f = $2} END {print b, f}' <<<"$out"
}

plain=$(fds sleep 20 70 "$tap_preload")
let_go=$(fds sleep 20 70 "$tap_preload" SENDCACHE_PREWARM="$dir")
t0=$(date +%s%N)
burst=$(fds sleep 20 0 "$tap_preload" SENDCACHE_PREWARM="$dir")
burst_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
young=$(fds sleep 10 70 "$tap_preload" SENDCACHE_PREWARM="$dir")
woke=$(fds wake 20 70 "$tap_preload" SENDCACHE_PREWARM="$dir")
is "${let_go% *}" 1065 "20 children that sleep, 70 ms apart, prewarmed: the same bytes"
ok "after 16 forks over a second of sleeping children the prewarm is let go: $let_go (bytes, fds) against plain $plain" \
	test "${let_go#* }" -eq "${plain#* }"
if (( burst_ms < 800 )); then
	ok "20 forks in a burst ($burst_ms ms): still held ($burst)" test "${burst#* }" -gt "${plain#* }"
else
	skip "20 forks took $burst_ms ms here, not a burst"
fi
ok "after 10 it is still held: $young against $plain" test "${young#* }" -gt "${plain#* }"
ok "children that wake keep it: $woke against $plain" test "${woke#* }" -gt "${plain#* }"
