#!/usr/bin/env bash
# t1002-hit-syscalls: a cached file costs no open, stat, fstat or close
# syscall. strace counts the calls a process makes for 200 rounds of
# stat + open + fstat + read + close on one file (perl, through libc).
. "$(dirname "$0")/tap/tap.sh"
plan 9
tap_require_lib
tap_require strace perl

dir=$(tap_tmpdir)
head -c 3000 /dev/urandom >"$dir/f.bin"
want=$(sha256sum <"$dir/f.bin")

script='
	my ($p, $n) = @ARGV; my $all = "";
	for (1 .. $n) {
		my $size = -s $p;
		open(my $f, "<", $p) or die "open: $!";
		my @st = stat($f);
		local $/; my $c = <$f>;
		close $f;
		die "size" unless length($c) == $size && $st[7] == $size;
		$all = $c;
	}
	print $all;'

trace=$dir/trace
got=$(LD_PRELOAD="$tap_preload" strace -f -qq -o "$trace" -e trace=openat,open,newfstatat,fstat,statx,close,read \
	perl -e "$script" "$dir/f.bin" 200 | sha256sum)
is "$got" "$want" "200 rounds read the right bytes"
opens=$(grep -c "open.*f\.bin\"" "$trace")
is "$opens" 1 "one open of the file reached the kernel (the first)"
stats=$(grep -Ec "(newfstatat|statx)\(AT_FDCWD, \"$dir/f.bin\"" "$trace")
ok "at most 4 path stats reached the kernel (first round only): $stats" test "$stats" -le 4
reads=$(grep -Ec '^[0-9]+ +read\(' "$trace")
ok "reads of the cached file go through pread, not read(): $reads" test "$reads" -lt 50

got=$(strace -f -qq -o "$trace.off" -e trace=openat,open,newfstatat,fstat,statx,close \
	perl -e "$script" "$dir/f.bin" 200 | sha256sum)
is "$got" "$want" "without the library: the same bytes"
opens=$(grep -c "open.*f\.bin\"" "$trace.off")
is "$opens" 200 "and 200 opens reached the kernel"

got=$(SENDCACHE_DISABLE=1 LD_PRELOAD="$tap_preload" strace -f -qq -o "$trace.dis" \
	-e trace=openat,open,newfstatat,fstat,statx,close perl -e "$script" "$dir/f.bin" 200 | sha256sum)
is "$got" "$want" "SENDCACHE_DISABLE=1: the same bytes"
opens=$(grep -c "open.*f\.bin\"" "$trace.dis")
is "$opens" 200 "and every open reaches the kernel: the library is off"

# The cache's descriptors sit at the top of the numbers (src/fdtab.h): from
# the soft limit, at most 32768, down by the budget (a quarter of the soft
# limit, at most 16384) and 16 spare, so that every number the server would
# be given alone stays free; never higher than 32768 under a huge soft limit:
# fork copies the descriptor table up to its highest open number.
fds=$(ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	LD_PRELOAD="$tap_preload" perl -e 'open(my $f, "<", $ARGV[0]) or die;
		my @b = <$f>; close $f; open($f, "<", $ARGV[0]) or die;
		opendir(my $d, "/proc/self/fd") or die;
		my @n = sort { $a <=> $b } grep { /^\d+$/ } readdir $d;
		print "$n[-1] soft ", `sh -c "ulimit -n"`' "$dir/f.bin")
max=${fds%% *} soft=${fds##* }
top=$(( soft < 32768 ? soft : 32768 ))
budget=$(( soft / 4 < 16384 ? soft / 4 : 16384 ))
base=$(( top - budget - 16 ))
if (( max >= base && max < top )); then
	pass "the cache's highest descriptor is $max, in $base..$((top - 1)) (soft limit $soft)"
else
	fail "the cache's highest descriptor is $max, in $base..$((top - 1)) (soft limit $soft)"
fi
