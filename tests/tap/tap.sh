# tests/tap/tap.sh - a small TAP producer for the bash test scripts.
#
# Source it first, then declare the plan before any assertion:
#
#     . "$(dirname "$0")/tap/tap.sh"
#     plan 3
#     ok   "nginx answers"   curl -fs "http://127.0.0.1:$port/"
#     is   "$got" "$want"    "body of /a"
#     like "$status" '^2'    "status is a success"
#
# Every assertion prints one "ok N - desc" or "not ok N - desc" line on
# stdout and returns 0 when it passed, 1 when it failed; diagnostics go to
# stderr as "# ..." lines. Assertions keep their count in shell variables,
# so call them from the script's own shell, not from a pipeline or $(...).
#
# At exit the cleanups registered with tap_at_exit run, last first, the
# temporary directories go away, and the exit status tells prove what
# happened: 0 all passed, the number of failures (at most 254) otherwise,
# 255 for a run that did not match its plan or bailed out.
#
# Environment:
#   CI=true          a missing required command fails instead of skipping
#   TAP_NO_PRELOAD=1 run the "with library" steps without LD_PRELOAD, to
#                    develop a test against the bare server
#   TAP_BUILD=DIR    the build directory under test (default <repo>/build;
#                    make sets it, e.g. build/sanitize-address-undefined)
#   TAP_PRELOAD=LIST what "with the library" puts in LD_PRELOAD (default
#                    $tap_lib); under ASan or TSan the sanitizer's runtime
#                    must come first, and make SANITIZE=... sets it so
#   TAP_SANITIZE=S   the library was built with -fsanitize=S: every
#                    sanitizer report of any process the test starts goes
#                    to a file, and a test that leaves one fails

[[ -n ${_tap_loaded-} ]] && return 0
_tap_loaded=1

# Files written by a test are read by server workers running as another
# user (nginx's www-data); a restrictive umask from the caller must not
# turn into 403s.
umask 022

_tap_planned=          # N of "1..N"; empty until plan or skip_all
_tap_run=0             # assertions printed so far
_tap_failed=0          # of which failed
_tap_bailed=           # set once "Bail out!" was printed
_tap_cleanups=()       # commands for _tap_exit, run last-registered first

# Repository root and the library under test, from this file's location so
# that a test can be run from any working directory.
tap_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
tap_build=${TAP_BUILD:-$tap_top/build}
tap_lib=$tap_build/libsendcache.so
# What a test puts in LD_PRELOAD to run a program with the library.
tap_preload=${TAP_PRELOAD:-$tap_lib}

# _tap_world_traversable DIR: succeeds when every directory from / down to
# DIR can be searched by other users (o+x).
_tap_world_traversable() {
	local d=$1
	while [[ -n $d && $d != / ]]; do
		[[ -d $d && $(stat -L -c %A "$d") == ????????[xt] ]] || return 1
		d=$(dirname "$d")
	done
}

# _tap_make_tmproot: one directory per test run that holds every
# tap_tmpdir. Made here, in the script's own shell, so that a tap_tmpdir
# called inside $(...) is still removed by the EXIT trap.
_tap_make_tmproot() {
	local base=${TMPDIR:-/tmp}
	if (( EUID == 0 )) && ! _tap_world_traversable "$base"; then
		base=/tmp        # e.g. TMPDIR=/root/tmp: www-data cannot enter
	fi
	_tap_tmproot=$(mktemp -d "$base/sendcache-tap.XXXXXX") || {
		echo "Bail out! cannot create a temporary directory in $base"
		exit 255
	}
	chmod 0755 "$_tap_tmproot"
}

# _tap_comment MSG...: every line of every MSG, prefixed with "# ".
_tap_comment() {
	local msg line
	for msg in "$@"; do
		while IFS= read -r line; do
			printf '# %s\n' "$line"
		done <<<"$msg"
	done
}

# diag MSG...: each MSG (one or more lines) on stderr as TAP comments.
diag() { _tap_comment "$@" >&2; }

# note MSG...: like diag, but on stdout (shown by prove -v only).
note() { _tap_comment "$@"; }

# plan N: print the plan line. Call once, before the first assertion.
plan() {
	if [[ -n $_tap_planned ]]; then
		bail_out "plan called twice"
	fi
	if ! [[ $1 =~ ^[0-9]+$ ]]; then
		bail_out "plan needs a number, got '$1'"
	fi
	_tap_planned=$1
	printf '1..%d\n' "$1"
}

# _tap_result PASSED DESC [DIRECTIVE]: print one result line and count it.
# A "#" in DESC would start a directive, so it is escaped.
_tap_result() {
	local passed=$1 desc=${2//$'\n'/ } directive=${3-} line
	line=${desc:+ - ${desc//\#/\\#}}${directive:+ # $directive}
	_tap_run=$((_tap_run + 1))
	if (( passed )); then
		printf 'ok %d%s\n' "$_tap_run" "$line"
		return 0
	fi
	_tap_failed=$((_tap_failed + 1))
	printf 'not ok %d%s\n' "$_tap_run" "$line"
	if [[ -n ${BASH_SOURCE[2]-} ]]; then
		diag "  Failed test '$desc'" \
			"  at ${BASH_SOURCE[2]##*/} line ${BASH_LINENO[1]}."
	fi
	return 1
}

# pass DESC / fail DESC: an assertion decided by the caller.
pass() { _tap_result 1 "$1"; }
fail() { _tap_result 0 "$1"; }

# ok DESC CMD [ARG...]: run CMD in this shell; passes when it exits 0.
# CMD's output is kept and shown only when the test fails.
ok() {
	local desc=$1 out rc
	shift
	out=$_tap_tmproot/.ok-output
	"$@" >"$out" 2>&1
	rc=$?
	if (( rc == 0 )); then
		_tap_result 1 "$desc"
		return 0
	fi
	_tap_result 0 "$desc"
	diag "    command: $*" "    exit status: $rc"
	if [[ -s $out ]]; then
		diag "$(head -n 40 "$out")"
	fi
	return 1
}

# _tap_show_diff GOT EXPECTED: the difference, for a failed is().
_tap_show_diff() {
	local got=$1 expected=$2
	if [[ $got != *$'\n'* && $expected != *$'\n'* ]]; then
		diag "         got: '$got'" "    expected: '$expected'"
		return
	fi
	diag "    --- expected" "    +++ got" \
		"$(diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$got") |
			tail -n +3 | head -n 60)"
}

# is GOT EXPECTED DESC: passes when the two strings are equal.
is() {
	if [[ $1 == "$2" ]]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	_tap_show_diff "$1" "$2"
	return 1
}

# isnt GOT UNEXPECTED DESC: passes when the two strings differ.
isnt() {
	if [[ $1 != "$2" ]]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "         got: '$1'" "    expected: anything else"
	return 1
}

# like GOT REGEX DESC: passes when GOT matches the extended REGEX.
like() {
	if [[ $1 =~ $2 ]]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "                  '$1'" "    doesn't match '$2'"
	return 1
}

# unlike GOT REGEX DESC: passes when GOT does not match REGEX.
unlike() {
	if ! [[ $1 =~ $2 ]]; then
		_tap_result 1 "$3"
		return 0
	fi
	_tap_result 0 "$3"
	diag "                  '$1'" "    matches '$2'"
	return 1
}

# skip REASON [COUNT]: count COUNT (default 1) planned tests as skipped.
skip() {
	local i n=${2:-1}
	for ((i = 0; i < n; i++)); do
		_tap_result 1 "" "skip $1"
	done
}

# skip_all REASON: skip the whole script and exit 0. Before the plan this
# is "1..0 # SKIP"; after it, the tests not yet run are reported skipped.
skip_all() {
	if [[ -z $_tap_planned ]]; then
		_tap_planned=0
		printf '1..0 # SKIP %s\n' "$1"
	elif (( _tap_run < _tap_planned )); then
		skip "$1" $((_tap_planned - _tap_run))
	fi
	exit 0
}

# bail_out REASON: stop this script and tell prove to stop everything.
bail_out() {
	_tap_bailed=1
	printf 'Bail out! %s\n' "$1"
	exit 255
}

# _tap_is_ci: succeeds under CI, where a missing dependency is a failure.
_tap_is_ci() {
	[[ ${CI-} == true || ${CI-} == 1 ]]
}

# _tap_missing WHAT: a required thing is missing. Under CI that is a failed
# test and a bail-out; elsewhere the whole script is skipped.
_tap_missing() {
	if _tap_is_ci; then
		fail "required: $1"
		bail_out "required $1 is missing under CI"
	fi
	skip_all "missing $1"
}

# tap_require CMD...: every CMD must be an executable command.
tap_require() {
	local cmd missing=()
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
	done
	if (( ${#missing[@]} )); then
		_tap_missing "command(s): ${missing[*]}"
	fi
}

# tap_require_lib: the library must be built, unless TAP_NO_PRELOAD=1
# says that this run deliberately goes without it.
tap_require_lib() {
	[[ ${TAP_NO_PRELOAD-} == 1 ]] && return 0
	[[ -f $tap_lib ]] || _tap_missing "$tap_lib (run make)"
}

# tap_at_exit CMD [ARG...]: run CMD when the script exits, before the
# temporary directories are removed. Registered commands run last first.
tap_at_exit() {
	_tap_cleanups+=("$(printf '%q ' "$@")")
}

# tap_tmpdir: print the path of a new empty directory, mode 0755 so that
# a server's unprivileged workers can enter it. Removed at exit.
tap_tmpdir() {
	local d
	d=$(mktemp -d "$_tap_tmproot/d.XXXXXX") || return 1
	chmod 0755 "$d"
	printf '%s\n' "$d"
}

# tap_public FILE: a path to FILE that every user can reach (the library
# or a helper that a test runs as nobody or www-data): FILE itself when
# every directory above it is searchable by others, else a copy in this
# run's temporary root, which is. A checkout under a 0700 home, or in a
# directory made by mktemp -d, is not.
tap_public() {
	local f=$1 pub=$_tap_tmproot/public
	if _tap_world_traversable "$(dirname "$f")"; then
		printf '%s\n' "$f"
		return 0
	fi
	mkdir -p "$pub" && chmod 0755 "$pub" || return 1
	[[ -e $pub/${f##*/} ]] || cp -p "$f" "$pub/${f##*/}" || return 1
	chmod a+rX "$pub/${f##*/}"
	printf '%s\n' "$pub/${f##*/}"
}

# tap_public_preload: $tap_preload with the library replaced by
# tap_public's copy, for LD_PRELOAD in a program run as another user.
tap_public_preload() {
	local pub
	pub=$(tap_public "$tap_lib") || return 1
	printf '%s\n' "${tap_preload//"$tap_lib"/"$pub"}"
}

# tap_free_port: print a TCP port on 127.0.0.1 that nothing listens on.
# The kernel picks it from the ephemeral range for a bind to port 0; it is
# free again once this returns, and another process could take it before
# the caller does, which in practice does not happen within a test.
tap_free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			LocalPort => 0, Proto => "tcp", Listen => 1, ReuseAddr => 1)
			or die "tap_free_port: bind: $!\n";
		print $s->sockport, "\n";'
}

# tap_listening PORT: succeeds when some socket listens on TCP PORT. Reads
# /proc/net/tcp{,6} rather than connecting, so the server sees no traffic.
# One grep reads each file in a few calls; bash's read builtin would seek
# back after every line, and each lseek on a /proc/net file walks the
# socket table again (0.7 s a call with 750 TIME_WAIT sockets around).
tap_listening() {
	local hex f
	printf -v hex '%04X' "$1"
	for f in /proc/net/tcp /proc/net/tcp6; do
		[[ -r $f ]] || continue
		# "sl: local_address rem_address st": state 0A is TCP_LISTEN
		# (include/net/tcp_states.h)
		grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:[0-9A-F]+ 0A " "$f" &&
			return 0
	done
	return 1
}

# tap_wait_port PORT [SECONDS]: wait up to SECONDS (default 5) for a
# listener on PORT. Returns 1 on timeout.
tap_wait_port() {
	local port=$1 tries=$(( ${2:-5} * 20 ))
	while (( tries-- > 0 )); do
		tap_listening "$port" && return 0
		sleep 0.05
	done
	return 1
}

# _tap_sanitizer_setup: under TAP_SANITIZE, make every process started
# from here write sanitizer reports to files in one directory that server
# workers running as another user can write to. Servers leak by design at
# exit (nginx keeps its pools until then): leak checking stays for the
# unit tests.
_tap_sanitizer_setup() {
	[[ -n ${TAP_SANITIZE-} ]] || return 0
	_tap_sandir=$_tap_tmproot/sanitizer
	mkdir -p "$_tap_sandir" && chmod 1777 "$_tap_sandir"
	export ASAN_OPTIONS="detect_leaks=0:log_path=$_tap_sandir/report${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$_tap_sandir/report${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	export TSAN_OPTIONS="log_path=$_tap_sandir/report${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
}

# _tap_sanitizer_reports: print the reports written so far, if any.
_tap_sanitizer_reports() {
	local f
	[[ -n ${_tap_sandir-} && -d $_tap_sandir ]] || return 0
	for f in "$_tap_sandir"/report*; do
		[[ -s $f ]] || continue
		echo "== $f"
		head -n 60 "$f"
	done
}

# _tap_end_strays: the last guard against a test leaving processes behind,
# passing or failing (a server whose master was killed leaves its workers
# to init; a helper in the background outlives an early exit). Every
# process but this shell that holds a descriptor or its working directory
# under this run's temporary root is ours: it is named in a diagnostic and
# killed. Only processes this user may look into are seen.
_tap_end_strays() {
	local link pid finder
	local -a links
	local -A seen=()
	[[ -n ${_tap_tmproot-} && -d $_tap_tmproot ]] || return 0
	# find inherits this shell's descriptors: its own pid ($!) is skipped.
	mapfile -t links < <(exec find /proc/[0-9]*/fd /proc/[0-9]*/cwd -maxdepth 1 \
		\( -lname "$_tap_tmproot/*" -o -lname "$_tap_tmproot" \) 2>/dev/null)
	finder=$!
	for link in "${links[@]}"; do
		pid=${link#/proc/}
		pid=${pid%%/*}
		[[ $pid =~ ^[0-9]+$ ]] && (( pid != $$ && pid != finder )) || continue
		[[ -z ${seen[$pid]-} ]] || continue
		seen[$pid]=1
		diag "left running: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
		kill -KILL "$pid" 2>/dev/null
	done
	(( ${#seen[@]} == 0 )) || sleep 0.1
}

# _tap_exit: the EXIT trap. Runs the cleanups, removes the temporary
# directories and turns failures and a broken plan into the exit status.
_tap_exit() {
	local i reports
	trap - EXIT
	for ((i = ${#_tap_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_tap_cleanups[i]}" >/dev/null 2>&1
	done
	reports=$(_tap_sanitizer_reports)
	_tap_end_strays
	[[ -n ${_tap_tmproot-} ]] && rm -rf "$_tap_tmproot"
	if [[ -n $reports ]]; then
		diag "Sanitizer reports (TAP_SANITIZE=$TAP_SANITIZE):" "$reports"
		exit 255
	fi
	if [[ -n $_tap_bailed ]]; then
		exit 255
	fi
	if [[ -z $_tap_planned ]]; then
		diag "No plan was declared ($_tap_run test(s) run)."
		exit 255
	fi
	if (( _tap_run != _tap_planned )); then
		diag "Looks like you planned $_tap_planned test(s) but ran $_tap_run."
		exit 255
	fi
	if (( _tap_failed > 0 )); then
		diag "Looks like you failed $_tap_failed test(s) of $_tap_run."
		exit $(( _tap_failed > 254 ? 254 : _tap_failed ))
	fi
	# The plan was met and nothing failed: whatever the script's last
	# command returned, the run passed (an "exit N" midway breaks the plan).
	exit 0
}

_tap_make_tmproot
_tap_sanitizer_setup
trap _tap_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
