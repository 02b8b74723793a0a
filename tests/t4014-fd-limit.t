#!/usr/bin/env bash
# t4014-fd-limit: the server never runs out of descriptors for the cache's
# sake.
#
# The cache may hold a quarter of the soft RLIMIT_NOFILE. A server that
# needs more than the other three quarters (a burst of connections,
# lighttpd's stat cache holding a descriptor per file) would be refused
# one (EMFILE) where it alone was not. The library then gives back
# descriptors of its own and makes the call again: socket, accept, open,
# pipe, dup, fcntl(F_DUPFD), epoll_create, eventfd.
#
# A perl program under a soft limit of 400 (a budget of 100) reads 100
# files, holding the first 80 open (busy entries, which are not given
# back: more than twice the 32 the victim walk looks at, so the idle ones
# lie behind them) and reading the other 20 twice, so that the cache holds
# its budget, then takes every descriptor the
# limit allows by one call: socket, accept (of connections a child made),
# pipe (pipe2), open (of /dev/null, which the cache does not take), dup,
# fcntl(F_DUPFD_CLOEXEC); epoll_create and eventfd take the same path
# (emfile_again), not driven here. With the library it must get
# as many as alone but one (the library's inotify instance; two for
# pipes, made in pairs), every time,
# and the cache must have counted what it gave back and held its budget
# at what was left; the files it held read right.
. "$(dirname "$0")/tap/tap.sh"
kinds=(socket accept pipe open dup fcntl)
plan $((2 * ${#kinds[@]}))
tap_require_lib
tap_require perl

dir=$(tap_tmpdir)
nfiles=100
for ((i = 0; i < nfiles; i++)); do
	echo "file $i" >"$dir/f$i"
done

# taker DIR N KIND: prints "descriptors-taken bad-files".
taker='
	use strict; use Socket; use Fcntl; use POSIX ();
	my ($dir, $n, $kind) = @ARGV;
	# accept: 380 connections waiting on a listener, made by a child
	# forked before the files are read (its descriptors are its own).
	my ($lis, $child);
	if ($kind eq "accept") {
		socket($lis, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
		bind($lis, pack_sockaddr_in(0, INADDR_LOOPBACK)) or die "bind: $!";
		listen($lis, 1024) or die "listen: $!";
		my $port = (unpack_sockaddr_in(getsockname($lis)))[0];
		pipe(my $r, my $w) or die "pipe: $!";
		defined($child = fork) or die "fork: $!";
		if (!$child) {
			close $lis; close $r;
			my @c;
			for (1 .. 380) {
				socket(my $c, PF_INET, SOCK_STREAM, 0) or die "child socket: $!";
				connect($c, pack_sockaddr_in($port, INADDR_LOOPBACK))
					or die "connect: $!";
				push @c, $c;
			}
			syswrite($w, "x"); close $w;
			sleep 60;
			POSIX::_exit(0);
		}
		close $w;
		sysread($r, my $x, 1) == 1 or die "the child did not connect";
		close $r;
		my $fl = fcntl($lis, F_GETFL, 0);
		fcntl($lis, F_SETFL, $fl | O_NONBLOCK) or die "fcntl: $!";
	}
	# 80 files held first (the least recently used end), then the rest
	# read twice.
	my @held;
	for my $i (0 .. $n - 1) {
		for my $r (1 .. 2) {
			open(my $f, "<", "$dir/f$i") or die "open: $!";
			if ($r == 2 && $i < 80) { push @held, $f; next }
			my $c = <$f>;
			close $f;
		}
	}
	open(my $null, "<", "/dev/null") or die "open: $!";
	my ($taken, @h) = (0);
	while (1) {
		if ($kind eq "socket") {
			socket(my $s, PF_INET, SOCK_STREAM, 0) or last;
			push @h, $s; $taken++;
		} elsif ($kind eq "accept") {
			accept(my $c, $lis) or last;
			push @h, $c; $taken++;
		} elsif ($kind eq "pipe") {
			pipe(my $r, my $w) or last;
			push @h, $r, $w; $taken += 2;
		} elsif ($kind eq "open") {
			open(my $f, "<", "/dev/null") or last;
			push @h, $f; $taken++;
		} elsif ($kind eq "dup") {
			defined(POSIX::dup(fileno $null)) or last;
			$taken++;
		} else {
			my $fd = fcntl($null, F_DUPFD, 0) or last;
			push @h, $fd; $taken++;
		}
	}
	my $err = $!;
	if ($child) { kill "KILL", $child; waitpid($child, 0) }
	$! = $err;
	die "$kind: $!" unless $!{EMFILE};
	my $bad = 0;
	for my $i (0 .. 79) {
		my $c = readline($held[$i]);
		$bad++ unless defined $c && $c eq "file $i\n";
	}
	print "$taken $bad\n";'

for kind in "${kinds[@]}"; do
	alone=$(ulimit -n 400 && perl -e "$taker" "$dir" "$nfiles" "$kind" 2>&1)
	rm -f "$dir/stats"
	with=$(ulimit -n 400 && SENDCACHE_STATS=0 SENDCACHE_STATS_FILE="$dir/stats" \
		LD_PRELOAD="$tap_preload" perl -e "$taker" "$dir" "$nfiles" "$kind" 2>&1)
	read -r at _ <<<"$alone"
	read -r wt wbad <<<"$with"
	given=$(awk '$1 == "fd_given_back" { print $2 }' "$dir/stats" 2>/dev/null)
	budget=$(awk '$1 == "fds_budget" { print $2 }' "$dir/stats" 2>/dev/null)
	# One fewer: the inotify instance; a pair fewer for pipes.
	less=1
	[[ $kind == pipe ]] && less=2
	ok "$kind: $wt descriptors with the library, $at alone" \
		test "${wt:-0}" -ge "$(( ${at:-1} - less ))" -a "$wbad" = 0
	ok "$kind: the cache gave back ${given:-0} and held its budget at ${budget:-?} (from 100)" \
		test "${given:-0}" -gt 0 -a "${budget:-100}" -lt 100
done
