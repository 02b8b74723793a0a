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
# A perl program under a soft limit of 100 (a budget of 25) reads 40 files
# twice, so the cache holds its budget, then takes every descriptor the
# limit allows: sockets, then pipes, then opens of the files. With the
# library it must get as many as alone but one (the library's inotify
# instance), read every file it opened right, and the cache must have
# counted what it gave back.
. "$(dirname "$0")/tap/tap.sh"
plan 6
tap_require_lib
tap_require perl

dir=$(tap_tmpdir)
nfiles=40
for ((i = 0; i < nfiles; i++)); do
	echo "file $i" >"$dir/f$i"
done

# taker DIR N: prints "sockets pipes files bad".
taker='
	use strict; use Socket;
	my ($dir, $n) = @ARGV;
	for my $r (1 .. 2) {
		for my $i (0 .. $n - 1) {
			open(my $f, "<", "$dir/f$i") or die "open: $!";
			my $c = <$f>;
			close $f;
		}
	}
	my (@s, @p, @f);
	while (socket(my $s, PF_INET, SOCK_STREAM, 0)) { push @s, $s }
	die "socket: $!" unless $!{EMFILE};
	close pop @s for 1 .. 10;
	while (pipe(my $r, my $w)) { push @p, $r, $w }
	close pop @p for 1 .. 4;
	for my $i (0 .. $n - 1) {
		open(my $f, "<", "$dir/f$i") or last;
		push @f, [$i, $f];
	}
	my $bad = 0;
	for (@f) {
		my ($i, $f) = @$_;
		my $c = <$f>;
		$bad++ unless defined $c && $c eq "file $i\n";
	}
	printf "%d %d %d %d\n", scalar(@s) + 10, scalar(@p) + 4, scalar(@f), $bad;'

alone=$(ulimit -n 100 && perl -e "$taker" "$dir" "$nfiles" 2>&1)
with=$(ulimit -n 100 && SENDCACHE_STATS=0 SENDCACHE_STATS_FILE="$dir/stats" \
	LD_PRELOAD="$tap_preload" perl -e "$taker" "$dir" "$nfiles" 2>&1)
read -r as ap af _ <<<"$alone"
read -r ws wp wf wbad <<<"$with"
diag "alone: $alone; with the library: $with"
ok "sockets up to the limit: $ws with the library, $as alone" \
	test "${ws:-0}" -ge "$(( ${as:-1} - 1 ))"
ok "then pipe descriptors in the 10 numbers left: $wp with, $ap alone" \
	test "${wp:-0}" -ge "${ap:-1}"
ok "then opens in the 4 left: $wf with, $af alone" test "${wf:-0}" -ge "${af:-1}"
is "$wbad" 0 "every file opened reads right"
given=$(awk '$1 == "fd_given_back" { print $2 }' "$dir/stats" 2>/dev/null)
ok "the cache gave back descriptors (fd_given_back $given)" test "${given:-0}" -gt 0
budget=$(awk '$1 == "fds_budget" { print $2 }' "$dir/stats" 2>/dev/null)
ok "and held its budget at what was left (fds_budget $budget, from 25)" \
	test "${budget:-25}" -lt 25
