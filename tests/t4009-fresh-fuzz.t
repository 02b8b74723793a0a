#!/usr/bin/env bash
# t4009-fresh-fuzz: the differential freshness fuzzer (tests/helpers/
# freshfuzz.c) on fixed seeds. Random file-system operations (renames and
# swaps of directories, symlinks relative and absolute, hard links, chmod,
# truncates, rewrites that keep the mtime...) on a small tree, and after
# each batch every path looked up the ways servers do, through the library
# and by raw syscalls: every answer must be the kernel's. Run as nobody so
# that permissions matter. `make fuzz-fresh` runs random seeds for longer.
#
# The intervals are cut to 1 ms (CLOCK_MONOTONIC_COARSE ticks every 4 ms)
# and batches hold up to 16 operations, so that 20,000 operations fit in
# well under a minute; the wait after a batch, 10 ms, is two ticks more
# than the cache may lag.
#
# The seeds run with the library's self-checking build (cache.c with
# SENDCACHE_SELFCHECK): an entry trusted by its watches that disagrees with
# the kernel while no event is pending aborts the fuzzer, even between two
# probes. That found a remembered ENOTDIR outliving the re-pointing of a
# symlink on its way, which the probes alone saw in 1 run of about 40.
. "$(dirname "$0")/tap/tap.sh"
# 17373486 and 896177004: random seeds of make fuzz-fresh that found a
# directory opened read-only ending that directory's watch, and a name
# replaced by a symlink to the same file passing a stat revalidation.
seeds=(11 12 13 14 17373486 896177004)
ops=3500
plan $(( ${#seeds[@]} + 3 ))
tap_require_lib
tap_require setpriv
fuzz=$tap_build/tests/freshfuzz
[[ -x $fuzz ]] || bail_out "$fuzz is not built (make test builds it)"
fuzz=$(tap_public "$fuzz") || bail_out "cannot copy $fuzz where nobody reaches it"
preload=$(tap_public_preload) || bail_out "cannot copy the library where nobody reaches it"
selfcheck=$tap_build/tests/libsendcache-selfcheck.so
[[ -f $selfcheck ]] || bail_out "$selfcheck is not built (make test builds it)"
selfcheck=$(tap_public "$selfcheck") || bail_out "cannot copy $selfcheck where nobody reaches it"
checked=${tap_preload//"$tap_lib"/"$selfcheck"}
dir=$(tap_tmpdir)

# run PRELOAD SEED OPS WAIT_MS [VAR=VALUE...]: the fuzzer as nobody in a
# new tree, batches of up to 16, with PRELOAD;
# its output in $dir/out, its exit status returned.
run() {
	local lib=$1 seed=$2 n=$3 wait=$4 root=$dir/root-$2
	shift 4
	mkdir "$root" && chown nobody "$root"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env SENDCACHE_CHECK_MS=1 SENDCACHE_REVALIDATE_MS=1 "$@" \
		LD_PRELOAD="$lib" "$fuzz" "$root" "$seed" "$n" "$wait" 16 \
		>"$dir/out" 2>&1
}

start=$SECONDS
for seed in "${seeds[@]}"; do
	if run "$checked" "$seed" "$ops" 10; then
		pass "seed $seed: $(tail -n 1 "$dir/out")"
	else
		fail "seed $seed: a lookup differs from the kernel's"
		diag "$(head -n 80 "$dir/out")"
	fi
done
total=$(( ${#seeds[@]} * ops ))
secs=$(( SECONDS - start ))
if (( secs < 60 )); then
	pass "$total operations in $secs s (< 60)"
else
	fail "$total operations in $secs s (< 60)"
fi

# The fuzzer can fail: with events read only every 40 ms and no wait, the
# cache is allowed to be behind, and the fuzzer must say so, with what it
# takes to replay it.
run "$preload" 7 2000 0 SENDCACHE_CHECK_MS=40 SENDCACHE_REVALIDATE_MS=40
rc=$?
is "$rc" 1 "without the wait the fuzzer finds the cache behind the kernel (exit 1)"
if grep -q 'differs from the kernel' "$dir/out" &&
	grep -q 'replay: freshfuzz ROOT 7 [0-9]' "$dir/out"; then
	pass "it names the lookup and how to replay it"
else
	fail "it names the lookup and how to replay it"
	diag "$(head -n 20 "$dir/out")"
fi
