#!/bin/bash
# t2004-mmap-truncated: the server's mapping of a file truncated under it,
# written with or after its head, corked or not, neither crashes nor
# changes the answer.
#
# DESIGN.md invariants 1 and 5. Apache (EnableMMAP, sendfile off) maps a
# file it serves and sends writev(head, mapping), or the mapping alone
# once its head went out. When the file is truncated in between, the
# kernel's copy stops at the mapping (EFAULT); the library, which looks
# at the first bytes of a write for a response head and holds back lone
# heads (and anything written under TCP_CORK), must neither look at nor
# copy bytes in a file mapping: reading a truncated mapping in user space
# is SIGBUS. Found under load by t4004 and the 10-minute soak: first the
# copy of a body after a held head, then the look at the first bytes of
# writev(mapping). Each way (build/tests/sendpaths mmap-truncated-HOW)
# runs without and with the library on a fresh copy of the file each
# time; the transcripts (every call's result and errno) and the bytes the
# client got must be equal.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"

tap_require_lib
helper=$tap_build/tests/sendpaths
[[ -x $helper ]] || bail_out "$helper is not built (make test builds it)"

dir=$(tap_tmpdir)
hows=(one apart alone more cork cork-apart)
plan $(( 2 * 2 * ${#hows[@]} ))

for how in "${hows[@]}"; do
	for size in 3000 100000; do
		head -c "$size" /dev/urandom >"$dir/file"
		cp "$dir/file" "$dir/a"
		"$helper" "mmap-truncated-$how" "$dir/a" "$dir/without.out" \
			>"$dir/without.log" 2>&1
		rc_without=$?
		cp "$dir/file" "$dir/b"
		LD_PRELOAD="$tap_preload" "$helper" "mmap-truncated-$how" "$dir/b" \
			"$dir/with.out" >"$dir/with.log" 2>&1
		rc_with=$?
		is "$(cat "$dir/with.log"; echo "exit $rc_with")" \
			"$(cat "$dir/without.log"; echo "exit $rc_without")" \
			"$how, $size bytes: the same calls and results, no crash"
		ok "$how, $size bytes: the client got the same bytes" \
			cmp "$dir/without.out" "$dir/with.out"
	done
done
