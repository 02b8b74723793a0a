#!/usr/bin/env bash
# t4013-fd-numbers: the library's descriptors never take a number the
# server would have been given alone.
#
# The kernel gives a process the lowest free number, and a server may size
# a table by a limit of its own and index it by descriptor, trusting that
# its numbers stay under the count it holds: Debian 12's lighttpd sizes
# its event table at min(soft limit, 4096) slots, holds a descriptor for
# every file of its stat cache, and an accept() numbered past the table
# writes outside it (a crash on a site of 5,000 files with the library when
# the cache's descriptors sat from 1024 up, under a soft limit of 20,000).
#
# A perl program does what lighttpd does: stats and opens 1,500 files and
# keeps them open (once, or after an open and close of each), then makes
# 64 sockets and reads every file through its descriptor. With the library
# its highest socket number must be at most what it is without, and every
# file must read right. Then the same after the soft limit is lowered under
# the cache's numbers while it runs (lighttpd's server.max-fds): the cache
# keeps caching, under the new limit.
. "$(dirname "$0")/tap/tap.sh"
plan 9
tap_require_lib
tap_require perl prlimit

# A soft limit of its own, above the 1024 the test lowers it to (the cache's
# numbers then start at soft - soft/4 - 16).
soft=$(ulimit -Hn)
[[ $soft == unlimited || $soft -gt 20000 ]] && soft=20000
((soft >= 4096)) || skip_all "a hard RLIMIT_NOFILE of $soft: 4096 needed"
ulimit -n "$soft" || bail_out "cannot set the soft limit to $soft"

dir=$(tap_tmpdir)
nfiles=1500
for ((i = 0; i < nfiles; i++)); do
	echo "file $i" >"$dir/f$i"
done

# holder DIR N ROUNDS [LIMIT]: prints "highest-socket bad-files
# lowest-file-fd highest-file-fd".
holder='
	use strict; use Socket;
	my ($dir, $n, $rounds, $limit) = @ARGV;
	system("prlimit", "--pid", $$, "--nofile=$limit:") == 0 or die "prlimit"
		if $limit;
	my @keep;
	for my $r (1 .. $rounds) {
		for my $i (0 .. $n - 1) {
			my $p = "$dir/f$i";
			my @st = stat($p) or die "stat $p: $!";
			open(my $f, "<", $p) or die "open $p: $!";
			if ($r == $rounds) { push @keep, $f } else { close $f }
		}
	}
	my @s;
	for (1 .. 32) {
		socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, 0) or die "socketpair: $!";
		push @s, $x, $y;
	}
	my ($max) = sort { $b <=> $a } map { fileno $_ } @s;
	my $bad = 0;
	for my $i (0 .. $n - 1) {
		my $f = $keep[$i];
		seek($f, 0, 0) or die "seek: $!";
		local $/;
		my $c = <$f>;
		$bad++ unless defined $c && $c eq "file $i\n";
	}
	my @fn = sort { $a <=> $b } map { fileno $_ } @keep;
	print "$max $bad $fn[0] $fn[-1]\n";'

# run with|without N ROUNDS [LIMIT]: sets r (the output).
run() {
	local mode=$1
	shift
	if [[ $mode == with ]]; then
		r=$(LD_PRELOAD="$tap_preload" perl -e "$holder" "$dir" "$@" 2>&1)
	else
		r=$(perl -e "$holder" "$dir" "$@" 2>&1)
	fi
}

for rounds in 2 1; do
	run without "$nfiles" "$rounds"
	alone=$r
	run with "$nfiles" "$rounds"
	with=$r
	what="$nfiles files kept open after $((rounds - 1)) open and close each"
	read -r amax _ <<<"$alone"
	read -r wmax wbad _ <<<"$with"
	ok "$what: the highest socket is $wmax, $amax alone" \
		test "${wmax:-x}" -le "${amax:-0}"
	is "$wbad" 0 "$what: every file reads right through its descriptor ($with)"
done

# The soft limit lowered to 1024 under the cache's numbers by the program
# itself, after the library started: the budget becomes 256, the numbers
# 752-1023.
run without 300 2 1024
alone=$r
SENDCACHE_STATS=0 SENDCACHE_STATS_FILE="$dir/stats" run with 300 2 1024
with=$r
read -r amax _ <<<"$alone"
read -r wmax wbad _ wtop <<<"$with"
ok "soft limit lowered to 1024: the highest socket is $wmax, $amax alone" \
	test "${wmax:-x}" -le "${amax:-0}"
is "$wbad" 0 "soft limit lowered: every file reads right ($with)"
ok "and files are still cached, under it (highest file descriptor $wtop in 752..1023)" \
	test "${wtop:-0}" -ge 752 -a "${wtop:-0}" -le 1023
# The last process's counters: prlimit's fork writes its own first.
budget=$(awk '$1 == "fds_budget" { v = $2 } END { print v }' "$dir/stats" 2>/dev/null)
is "$budget" 256 "and the budget says so: fds_budget 256"

# Below the cache's numbers the library holds one descriptor, its inotify
# instance (where the kernel puts it at start: a fork copies the table up
# to the highest number, src/watch.c): a program's hundredth descriptor is
# at most one number higher than alone.
hundredth='my @f; for (1 .. 100) { open(my $f, "<", "/dev/null") or die; push @f, $f }
	print fileno($f[-1]), "\n"'
alone=$(perl -e "$hundredth")
with=$(LD_PRELOAD="$tap_preload" perl -e "$hundredth")
ok "a program's hundredth descriptor is $with with the library, $alone alone" \
	test "${with:-x}" -le "$(( ${alone:-0} + 1 ))"
