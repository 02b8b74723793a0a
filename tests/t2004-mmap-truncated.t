#!/bin/bash
# t2004-mmap-truncated: a head written together with the server's mapping
# of a file truncated under it neither crashes nor changes the answer.
#
# DESIGN.md invariants 1 and 5. Apache (EnableMMAP, sendfile off) maps a
# file it serves and sends writev(head, mapping). When the file is
# truncated in between, the kernel's copy stops at the mapping (EFAULT);
# the library, which holds back lone response heads, must not copy the
# bytes after the head into its buffer: reading a truncated mapping in
# user space is SIGBUS (found under load by t4004). The scenario
# (build/tests/sendpaths mmap-truncated) runs without and with the
# library on a fresh copy of the file each time; the transcripts (every
# call's result and errno) and the bytes the client got must be equal.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"

tap_require_lib
helper=$tap_build/tests/sendpaths
[[ -x $helper ]] || bail_out "$helper is not built (make test builds it)"

dir=$(tap_tmpdir)
plan 4

for size in 3000 100000; do
	head -c "$size" /dev/urandom >"$dir/file"
	cp "$dir/file" "$dir/a"
	"$helper" mmap-truncated "$dir/a" "$dir/without.out" >"$dir/without.log" 2>&1
	rc_without=$?
	cp "$dir/file" "$dir/b"
	LD_PRELOAD="$tap_preload" "$helper" mmap-truncated "$dir/b" "$dir/with.out" \
		>"$dir/with.log" 2>&1
	rc_with=$?
	is "$(cat "$dir/with.log"; echo "exit $rc_with")" \
		"$(cat "$dir/without.log"; echo "exit $rc_without")" \
		"$size bytes: the same calls and results, no crash"
	ok "$size bytes: the client got the same bytes" cmp "$dir/without.out" "$dir/with.out"
done
