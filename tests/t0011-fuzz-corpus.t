#!/bin/bash
# t0011-fuzz-corpus: the fuzz targets' committed inputs, replayed.
#
# tests/fuzz/corpus/NAME/ holds the seeds of each libFuzzer target and every
# input that once broke one (make fuzz; a crash is copied there with its
# fix). Here each target's checks run over its corpus through a plain
# main() built by make test, so the regressions need no clang: one test per
# target, which fails if any input breaks an invariant or the driver dies.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"

targets=(http-head config path)
plan ${#targets[@]}

for t in "${targets[@]}"; do
	driver=$tap_build/tests/fuzz-$t
	[[ -x $driver ]] || bail_out "$driver is not built (make test builds it)"
	files=("$here/fuzz/corpus/$t"/*)
	out=$("$driver" "${files[@]}" 2>&1)
	rc=$?
	passed=$(grep -c '^ok ' <<<"$out")
	if ! is "$rc $passed" "0 ${#files[@]}" "$t: every one of ${#files[@]} corpus inputs keeps the invariants"; then
		diag "$(grep -v '^ok ' <<<"$out" | tail -n 20)"
	fi
done
