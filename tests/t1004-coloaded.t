#!/usr/bin/env bash
# t1004-coloaded: sendcache beside another preloaded library whose
# constructor runs first and calls, before ours has run, one of each call
# we interpose (stat first). Every call must give what it gives without
# sendcache: none dropped on a NULL pointer, none failed with ENOSYS.
# And the library never calls its own exported names (a call to our own
# pipe2 or mmap would take the interposed path from inside the engine).
. "$(dirname "$0")/tap/tap.sh"
plan 8
tap_require_lib
other=$tap_build/tests/libother.so
[[ -f $other ]] || bail_out "$other is not built (make test builds it)"

dir=$(tap_tmpdir)
printf 'other bytes\n' >"$dir/file.txt"
ln -s file.txt "$dir/link"

order=$(LD_DEBUG=libs OTHER_DIR=$dir LD_PRELOAD="$tap_preload $other" \
	/bin/true 2>&1 | grep -E 'calling init: .*(libother|libsendcache)\.so' |
	sed 's|.*/||' | tr '\n' ' ')
is "$order" "libother.so libsendcache.so " "the loader runs the other library's constructor first"

# run PRELOAD: the transcript of libother's constructor, and the exit code.
run() {
	(cd "$dir" && OTHER_DIR=$dir LD_PRELOAD="$1" /bin/true >"$dir/out" 2>"$dir/err")
	echo "exit $?" >>"$dir/out"
	cat "$dir/out"
}

alone=$(run "$other")
lines=$(grep -c . <<<"$alone")
if (( lines >= 60 )); then pass "the constructor's transcript alone has $lines lines (>= 60)"
else fail "the constructor's transcript alone has $lines lines (>= 60)"; fi
is "$(grep -c -- ' -1 ' <<<"$alone")" 3 "alone, only the three expected calls fail (missing file, double close, unbound accept)"
with=$(run "$tap_preload $other")
is "$with" "$alone" "with sendcache loaded first, every call gives what it gives alone"
is "$(cat "$dir/err")" "" "and nothing is printed on stderr"
with=$(run "$other $tap_preload")
is "$with" "$alone" "with sendcache loaded last, the same"

# Our exported names against the symbols the library itself imports: a
# name in both would bind our own call to our own wrapper.
lib=$tap_build/libsendcache.so
exported=$(readelf -W --dyn-syms "$lib" | awk '$7 != "UND" && $5 == "GLOBAL" { sub(/@.*/, "", $8); print $8 }' | sort -u)
imported=$(readelf -W -r "$lib" | awk '/JUMP_SLOT|GLOB_DAT/ { sub(/@.*/, "", $5); print $5 }' | sort -u)
if (( $(grep -c . <<<"$exported") > 60 && $(grep -c . <<<"$imported") > 20 )); then
	pass "readelf lists the exported names and the imported ones"
else fail "readelf lists the exported names and the imported ones"; fi
is "$(comm -12 <(echo "$exported") <(echo "$imported") | tr '\n' ' ')" "" \
	"the library calls none of its own exported names"
