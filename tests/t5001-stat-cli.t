#!/usr/bin/env bash
# t5001-stat-cli: sendcache-stat reads segments written by the mkseg helper
# (no server, no library): sums of totals and slots, one process's slot,
# JSON, Prometheus format checked by promtool, the counter list and the man
# page made from it, every error exit status, and the live view's rates.
. "$(dirname "$0")/tap/tap.sh"
plan 48
tap_require perl promtool
(( EUID == 0 )) && tap_require runuser   # the permission test needs both
stat=$tap_build/sendcache-stat
mkseg=$tap_build/tests/mkseg
[[ -x $stat && -x $mkseg ]] || bail_out "build/sendcache-stat or build/tests/mkseg missing (run make)"
dir=$(tap_tmpdir)

# Every segment of this run is named $pre-*, removed at exit.
pre=t5001-$$
remove_segments() { rm -f /dev/shm/sendcache."$pre"-*; }
tap_at_exit remove_segments

# run ARGS...: sendcache-stat's stdout in $out, stderr in $err, status in $rc.
run() {
	out=$("$stat" "$@" 2>"$dir/err")
	rc=$?
	err=$(<"$dir/err")
}

# value NAME: the value of counter NAME in the table in $out.
value() { awk -v n="$1" '$1 == n { print $2 }' <<<"$out"; }

# The counters of src/stats_def.h as "name kind" lines.
declared=$(sed -n 's/^SC_COUNTER(\([a-z0-9_]*\), *\([A-Z]*\),.*/\1 \2/p' \
	"$tap_top/src/stats_def.h" | tr '[:upper:]' '[:lower:]')
ncounters=$(wc -l <<<"$declared")

# A live slot (this shell: its pid and real start time) and a dead one (a
# process that has exited): COUNT counters of both and of the totals add
# up, gauges only of the live slot.
true & dead=$!
wait "$dead"
sum=$pre-sum
others=$(compgen -G '/dev/shm/sendcache.*' | wc -l)
"$mkseg" "$sum" --total open_hit:100,merged_bytes:4096 \
	--slot "$$=open_hit:20,stat_hit:7,entries:3,fds_held:5" \
	--slot "$dead=open_hit:3,entries:40,mapped_bytes:999" ||
	bail_out "mkseg cannot create a segment"

# Without -n, the only segment there is is read; skipped when the machine
# has segments of its own.
if (( others == 0 )); then
	run
	is "$rc:$(value open_hit)" "0:123" "without -n the only instance is read"
else
	skip "$others other segment(s) in /dev/shm"
fi

run -n "$sum" -1
is "$rc" 0 "-1: exit status 0"
like "$out" "instance: +$sum \(/dev/shm/sendcache\.$sum\)" "-1: instance line"
like "$out" $'\n''creator: +pid [0-9]+, created [0-9]{4}-[0-9]{2}-[0-9]{2} ' "-1: creator pid and time"
like "$out" $'\n''processes: +1 live'$'\n' "-1: one live process (the dead slot's is not)"
like "$out" $'\n''name +value +description'$'\n' "-1: column heads"
is "$(value open_hit)" 123 "COUNT: totals + live slot + dead slot"
is "$(value stat_hit) $(value merged_bytes)" "7 4096" "COUNT: of a slot only, of the totals only"
is "$(value entries) $(value fds_held)" "3 5" "GAUGE: the live slot's"
is "$(value mapped_bytes)" 0 "GAUGE: not the dead slot's"
like "$out" $'\n''open_hit +123 +opens answered from the cache' "description column"
table=$out
run -n "$sum"
is "$out" "$table" "stdout not a terminal: the table is the default"

run -n "$sum" -p $$
is "$rc:$(value open_hit):$(value entries)" "0:20:3" "-p: the live slot only, without the totals"
like "$out" "pid: +$$ " "-p: says which pid"
run -n "$sum" -p "$dead"
is "$rc:$(value open_hit):$(value entries)" "0:3:0" "-p: a dead slot's counts but no gauges"
run -n "$sum" -p 1
is "$rc" 7 "-p with no slot: exit status 7"
like "$err" "no slot for pid 1" "-p with no slot: says so"

run -n "$sum" -j
got=$(perl -MJSON::PP -e '
	my $j = decode_json(join "", <STDIN>);
	my $c = $j->{counters};
	print join(" ", $j->{instance}, $j->{processes}, $j->{creator_pid} > 0,
		$j->{created} > 1e9, scalar(keys %$c), @$c{qw(open_hit entries
		mapped_bytes)}), "\n";' <<<"$out")
is "$got" "$sum 1 1 1 $ncounters 123 3 0" "-j: JSON with instance, processes, every counter"
run -n "$sum" -j -p $$
got=$(perl -MJSON::PP -e '
	my $j = decode_json(join "", <STDIN>);
	print "$j->{pid} $j->{counters}{open_hit}\n";' <<<"$out")
is "$got" "$$ 20" "-j -p: the pid and its slot"

run -n "$sum" --prometheus
printf '%s\n' "$out" >"$dir/metrics.prom"
ok "--prometheus: promtool check metrics accepts it" \
	promtool check metrics <"$dir/metrics.prom"
like "$out" $'\n''# TYPE sendcache_open_hit_total counter'$'\n''sendcache_open_hit_total\{instance="'"$sum"'"\} 123'$'\n' \
	"--prometheus: a COUNT counter is a counter named _total"
like "$out" $'\n''# TYPE sendcache_entries gauge'$'\n''sendcache_entries\{instance="'"$sum"'"\} 3'$'\n' \
	"--prometheus: a GAUGE is a gauge"
is "$(grep -c '^# HELP ' <<<"$out")" "$ncounters" "--prometheus: HELP for every counter"

run -l
is "$(awk '{ print $1, $2 }' <<<"$out")" "$declared" "-l lists every counter of stats_def.h with its kind"
run -l --man
man=$(sed -n '/^\.\\" BEGIN COUNTERS/,/^\.\\" END COUNTERS/p' \
	"$tap_top/man/sendcache-stat.1" | sed '1d;$d')
is "$man" "$out" "man page's counter list is -l --man's (else run scripts/gen-docs)"

# Errors: one line on stderr, one exit status each.
run -n "$pre-none"
is "$rc" 3 "no such segment: exit status 3"
like "$err" "^sendcache-stat: /dev/shm/sendcache\.$pre-none: No such file" "no such segment: says which"
"$mkseg" "$pre-version" --version 99
run -n "$pre-version"
is "$rc" 5 "another layout version: exit status 5"
like "$err" "layout version 99, this sendcache-stat reads version 3" "another version: says both"
"$mkseg" "$pre-magic" --magic-bad
run -n "$pre-magic"
is "$rc:$err" "5:sendcache-stat: /dev/shm/sendcache.$pre-magic: not a sendcache stats segment (bad magic)" \
	"bad magic: exit status 5, one line"
"$mkseg" "$pre-layout" --ncounters 3
run -n "$pre-layout"
is "$rc" 5 "bad layout: exit status 5"
like "$err" "bad layout \(.* 3 counters" "bad layout: says what differs"
# Anyone may make a FIFO under a segment's name: opening it to read must
# not wait for a writer, with -n or in the sweep without it.
mkfifo "/dev/shm/sendcache.$pre-fifo"
out=$(timeout 10 "$stat" -n "$pre-fifo" 2>&1 >/dev/null)
rc=$?
is "$rc:$out" "5:sendcache-stat: /dev/shm/sendcache.$pre-fifo: not a regular file: not a sendcache segment" \
	"a FIFO: exit status 5 at once, one line"
timeout 10 "$stat" >/dev/null 2>&1
isnt "$?" 124 "and the sweep without -n passes it by"
rm -f "/dev/shm/sendcache.$pre-fifo"

# At least two segments exist now (ours), whatever else the machine has.
run
is "$rc" 6 "several instances and no -n: exit status 6"
like "$err" " $pre-layout .*$pre-sum.*; pick one with -n$" "several instances: lists them"

if (( EUID == 0 )); then
	"$mkseg" "$pre-perm" --mode 0600
	cp "$stat" "$dir/sendcache-stat"
	runuser -u nobody -- "$dir/sendcache-stat" -n "$pre-perm" >/dev/null 2>"$dir/err"
	rc=$?
	is "$rc" 4 "root's 0600 segment read by nobody: exit status 4"
	like "$(<"$dir/err")" "Permission denied" "permission denied: says so"
else
	skip "needs root to make a segment another user cannot read" 2
fi

run -n "$sum" -x
is "$rc" 2 "unknown option: exit status 2"
run -n "a/b"
is "$rc" 2 "instance name with a slash: exit status 2"
run -n "$sum" -j --prometheus
is "$rc" 2 "two output formats: exit status 2"
run -h
like "$rc:$out" "^0:usage: sendcache-stat" "-h: usage on stdout, exit status 0"

# Live view: the first refresh has no rates yet; 600 opens added to the
# totals in between make the second one's rate about 600 over its ~1 s.
"$stat" -n "$sum" -i 1 -c 2 >"$dir/live" 2>&1 &
live=$!
tap_at_exit kill "$live"
for ((i = 0; i < 100; i++)); do
	grep -q '^mapped_bytes' "$dir/live" && break
	sleep 0.02
done
# totals.open_hit: offset 48, the first counter (pinned by t0007).
perl -e 'open my $f, "+<", $ARGV[0] or die "$!\n"; seek $f, 48, 0;
	print $f pack("Q<", 700); close $f or die "$!\n";' "/dev/shm/sendcache.$sum"
wait "$live"
is "$?" 0 "-i 1 -c 2: exit status 0 after two refreshes"
out=$(<"$dir/live")
is "$(grep -c '^instance:' <<<"$out")" 2 "-i 1 -c 2: two refreshes"
rates=$(awk '$1 == "open_hit" { print $2, $3 }' <<<"$out" | paste -sd' ')
like "$rates" '^123 - 723 [0-9]+\.[0-9]$' "-i: values and a rate per refresh ($rates)"
rate=${rates##* }
ok "-i: the rate is about 600/s (got $rate)" \
	perl -e 'exit !($ARGV[0] > 400 && $ARGV[0] <= 600.5)' "$rate"
unlike "$out" $'\e' "-i: no screen clearing when stdout is not a terminal"

# The CLI links the segment's own file (shm.c) and no other engine object:
# no global that another object of the engine defines is in it.
others=$(for o in "$tap_build"/obj/*.o; do
	case ${o##*/} in shm.o | preload.o | *-selfcheck.o) continue ;; esac
	nm --defined-only -g "$o" | awk '{ print $3 }'
done | sort -u)
inside=$(nm --defined-only "$stat" | awk '{ print $3 }' | sort -u)
is "$(comm -12 <(echo "$others") <(echo "$inside") | head -5)" "" \
	"sendcache-stat links no engine object but shm.c"
