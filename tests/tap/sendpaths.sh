# tests/tap/sendpaths.sh - run scenarios of build/tests/sendpaths without
# and with the library and compare them (t2001, t2003). Source after
# tap.sh; set dir (a tap_tmpdir) before calling scenario. The environment
# of the caller reaches the with-run (SENDCACHE_* to force a strategy).

helper=$tap_build/tests/sendpaths
# A command prefix for both runs (e.g. setpriv to run as another user).
as_user=()

# sum_counter STATSFILE NAME: NAME summed over the processes in STATSFILE.
sum_counter() {
	awk -v n="$2" '$1 == n { s += $2 } END { print s + 0 }' "$1"
}

# scenario NAME FILE CHECKS...: one scenario, 3 assertions. CHECKS are
# "counter>=N" or "counter==N" on the with-run's counters (written at
# exit), or "exit==N" on its exit status.
scenario() {
	local name=$1 file=$2 w=$dir/$1.without t=$dir/$1.with rc_without rc_with
	local check c v got bad=
	local preload=$tap_preload
	shift 2
	# Another user cannot load what a 0700 checkout holds: a copy.
	if (( ${#as_user[@]} )); then
		preload=$(tap_public_preload)
	fi
	"${as_user[@]}" "$helper" "$name" "$file" "$w.out" >"$w.log" 2>&1
	rc_without=$?
	SENDCACHE_STATS=0 SENDCACHE_STATS_FILE="$t.stats" LD_PRELOAD="$preload" \
		"${as_user[@]}" "$helper" "$name" "$file" "$t.out" >"$t.log" 2>&1
	rc_with=$?
	is "$(grep -v '^~' "$t.log"; echo "exit $rc_with")" \
		"$(grep -v '^~' "$w.log"; echo "exit $rc_without")" \
		"$name: the same calls, results, errnos and positions"
	ok "$name: the client got the same bytes ($(stat -c %s "$w.out"))" \
		cmp "$w.out" "$t.out"
	for check in "$@"; do
		c=${check%%[<>=]*}
		v=${check##*[<>=]}
		if [[ $c == exit ]]; then
			got=$rc_with
		else
			got=$(sum_counter "$t.stats" "$c")
		fi
		case $check in
		*'>='*) (( got >= v )) || bad+=" $c=$got" ;;
		*'=='*) (( got == v )) || bad+=" $c=$got" ;;
		esac
	done
	is "${bad:-none}" none "$name: the library acted as expected ($*)"
}

# expect_body NAME FILE [SKIP]: what the client got ends with FILE from
# byte SKIP on (the without-run is the kernel's truth; this checks that the
# scenario itself sends what it means to).
expect_body() {
	ok "$1: the body is the file's bytes" \
		cmp <(tail -c "+$(( ${3:-0} + 1 ))" "$2") \
		    <(tail -c "$(( $(stat -c %s "$2") - ${3:-0} ))" "$dir/$1.without.out")
}
