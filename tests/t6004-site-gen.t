#!/usr/bin/env bash
# t6004-site-gen: the real-site benchmark's inputs (bench/lib/site-gen.pl)
# are what bench/site.sh and the README say: the same site and streams
# from the same seed, SPECweb99 file-set sizes in their proportions, Zipf
# streams whose top ranks come in the proportions 1/r^alpha, a crawler
# walking every file in order at every tenth request, and a one-hit-wonder
# stream that asks for every file exactly once. No server.
. "$(dirname "$0")/tap/tap.sh"
tap_require perl
plan 12
gen=$tap_top/bench/lib/site-gen.pl
dir=$(tap_tmpdir)
files=4000

perl "$gen" site "$dir/a" "$files" 40 7 >"$dir/list.a" 2>"$dir/err" ||
	bail_out "site-gen failed: $(head -c 300 "$dir/err")"
mkdir -p "$dir/b"
perl "$gen" site "$dir/b" "$files" 40 7 >"$dir/list.b"
is "$(wc -l <"$dir/list.a")" "$files" "$files files listed"
is "$(find "$dir/a" -type f | wc -l)" "$files" "and made"
ok "the same seed makes the same site, bytes included" \
	diff -r "$dir/a" "$dir/b"
ok "every file has the size its line says" \
	perl -ne 'my ($p, $n) = split; exit 1 if -s "'"$dir/a"'$p" != $n' "$dir/list.a"
# SPECweb99: classes of 1..9 x 102, 1024, 10240, 102400 bytes, 35/50/14/1%.
ok "every size is k x 102, 1024, 10240 or 102400 bytes, k from 1 to 9" \
	perl -ne 'my (undef, $n) = split; my $ok = 0;
		for my $u (102, 1024, 10240, 102400) { $ok = 1 if $n % $u == 0 && $n / $u >= 1 && $n / $u <= 9 }
		exit 1 unless $ok' "$dir/list.a"
shares=$(perl -ne 'my (undef, $n) = split; $c{$n < 1024 ? 0 : $n < 10240 ? 1 : $n < 102400 ? 2 : 3}++;
	END { printf "%.0f %.0f %.0f\n", map { 100 * ($c{$_} // 0) / $. } 0 .. 2 }' "$dir/list.a")
read -r c0 c1 c2 <<<"$shares"
ok "class shares near 35/50/14% ($c0/$c1/$c2)" \
	test "$c0" -ge 31 -a "$c0" -le 39 -a "$c1" -ge 46 -a "$c1" -le 54 -a "$c2" -ge 11 -a "$c2" -le 17

stream() { perl "$gen" stream "$1" "$2" 7 <"$dir/list.a"; }
stream zipf-1.0 40000 >"$dir/z10"
ok "streams are repeatable" cmp -s "$dir/z10" <(stream zipf-1.0 40000)
# Zipf(1.0) over 4000 ranks: rank 1 has p = 1/H(4000) = 0.114, rank 2 half.
read -r top second <<<"$(sort "$dir/z10" | uniq -c | sort -rn | awk 'NR <= 2 { printf "%s ", $1 }')"
ok "zipf-1.0: the top file is ~11.4% of requests ($top of 40000), the second half of that ($second)" \
	test "$top" -ge 4100 -a "$top" -le 5000 -a $((2 * second)) -ge $((top * 8 / 10)) -a $((2 * second)) -le $((top * 12 / 10))
stream zipf-1.2 40000 >"$dir/z12"
top12=$(sort "$dir/z12" | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
ok "zipf-1.2 is more skewed ($top12 > $top)" test "$top12" -gt "$top"
stream crawl 40000 >"$dir/crawl"
ok "crawl: every tenth request is the next file in directory order" \
	cmp -s <(awk 'NR % 10 == 0' "$dir/crawl") <(awk '{ print $1 }' "$dir/list.a")
stream onehit 1 >"$dir/onehit"
ok "onehit: every file exactly once" \
	cmp -s <(sort "$dir/onehit") <(awk '{ print $1 }' "$dir/list.a" | sort)
isnt "$(head -n 100 "$dir/onehit" | md5sum)" "$(awk 'NR <= 100 { print $1 }' "$dir/list.a" | md5sum)" \
	"onehit is shuffled, not in directory order"
