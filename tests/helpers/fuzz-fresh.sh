#!/usr/bin/env bash
# fuzz-fresh.sh LIB FRESHFUZZ: make fuzz-fresh. Random seeds of the
# differential freshness fuzzer for FUZZ_SECONDS (default 60), with the
# library's default intervals and the 50 ms wait, as nobody. Stops at the
# first difference and prints how to replay it; exits 1 then.
set -u
lib=${1:?usage: fuzz-fresh.sh LIB FRESHFUZZ} fuzz=${2:?usage: fuzz-fresh.sh LIB FRESHFUZZ}
secs=${FUZZ_SECONDS:-60} ops=${FUZZ_OPS:-3000}
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-fresh.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
cp "$lib" "$work/lib.so" && cp "$fuzz" "$work/freshfuzz" || exit 2
end=$(( SECONDS + secs )) runs=0 total=0
while (( SECONDS < end )); do
	seed=$(( (RANDOM << 15 | RANDOM) + 1000 ))
	rm -rf "$work/root" && mkdir "$work/root" && chown nobody "$work/root"
	if ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env LD_PRELOAD="$work/lib.so" "$work/freshfuzz" "$work/root" \
		"$seed" "$ops" 50 >"$work/out" 2>&1; then
		cat "$work/out"
		echo "fuzz-fresh: seed $seed differs after $runs clean runs;" \
			"replay as nobody: LD_PRELOAD=$lib $fuzz EMPTY_DIR $seed $ops 50"
		exit 1
	fi
	runs=$(( runs + 1 )) total=$(( total + ops ))
done
echo "fuzz-fresh: $runs seeds, $total operations in $secs s: every lookup as the kernel says"
