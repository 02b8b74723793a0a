#!/usr/bin/env bash
# t6003-private-checkout: the suite works from a checkout that other users
# cannot enter (cloned under root's 0700 home, or into a mktemp -d
# directory). The build under test is copied into a 0700 directory and
# t2003, whose last scenario runs the library and a helper as nobody, is
# run against it: tap_public must hand nobody copies it can reach. Without
# them ld.so cannot preload the library ("cannot open shared object
# file") and exec of the helper fails.
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
tap_require_lib
tap_require setpriv
(( EUID == 0 )) || skip_all "needs root (the scenario switches to nobody)"
[[ -x $tap_build/tests/sendpaths ]] || _tap_missing "$tap_build/tests/sendpaths (run make test)"

plan 4

priv=$(mktemp -d /tmp/sendcache-private.XXXXXX) || bail_out "mktemp -d failed"
tap_at_exit rm -rf "$priv"
chmod 0700 "$priv"
mkdir -p "$priv/build/tests"
cp -p "$tap_lib" "$priv/build/"
cp -p "$tap_build/tests/sendpaths" "$priv/build/tests/"

ok "nobody cannot reach the private build (the case under test)" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	sh -c "! test -r '$priv/build/libsendcache.so'"

out=$priv/t2003.out
TAP_BUILD=$priv/build TAP_PRELOAD="${tap_preload//"$tap_lib"/"$priv/build/libsendcache.so"}" \
	bash "$here/t2003-send-strategies.t" >"$out" 2>&1
rc=$?
is "$rc" 0 "t2003 run from the private build passes (exit status)"
is "$(grep -c '^not ok' "$out")" 0 "and reports no failed check" ||
	diag "$(grep -A3 '^not ok' "$out" | head -20)"
like "$(grep '^ok .*eperm-busybox: the library acted' "$out")" \
	'^ok ' "its scenario as nobody ran with the library"
