#!/usr/bin/env bash
# t5002-segment-lifetime: which stats segments exist, and for how long.
#   - A program started through wrappers that exec (env, sh -c exec,
#     taskset, setpriv) has one segment, named after the program; the
#     wrappers' are gone as soon as it runs, and its own when it exits.
#     So when the wrapper drops root's privileges first (setpriv --reuid,
#     su-exec, chpst -u), and when its exec fails.
#   - A process killed outright leaves its segment; the next process that
#     starts with the library, or sendcache-stat, removes it once it is two
#     seconds old.
#   - A live process's segment whose header was written over is damaged,
#     not abandoned: sendcache-stat says so (exit 5) and neither it nor a
#     starting process removes it while a process maps it; once that
#     process is gone, it is removed.
. "$(dirname "$0")/tap/tap.sh"
tap_require taskset setpriv perl /usr/bin/python3
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"
plan 16

dir=$(tap_tmpdir)
pids=()
tap_at_exit 'for p in "${pids[@]}"; do kill -KILL "$p"; done'

# segments_of PID: the names of the segments whose name ends in -PID.
segments_of() {
	local f out=()
	for f in /dev/shm/sendcache.*-"$1"; do
		[[ -e $f ]] && out+=("${f#/dev/shm/sendcache.}")
	done
	echo "${out[*]}"
}

# wait_for COND...: until COND succeeds (5 s at most).
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
has_segment() { [[ -n $(segments_of "$1") ]]; }
no_segment() { [[ -z $(segments_of "$1") ]]; }

# start_sleep: a sleep with the library in the background, its pid in $p,
# once its segment exists; kill_sleep: killed outright and reaped.
start_sleep() {
	LD_PRELOAD=$tap_preload sleep 30 </dev/null &
	p=$!
	pids+=("$p")
	wait_for has_segment "$p"
}
kill_sleep() {
	kill -KILL "$p"
	wait "$p" 2>/dev/null
}

# 1. Wrappers that exec into the program.
LD_PRELOAD=$tap_preload env T5002=1 sh -c \
	'exec taskset -c 0 setpriv --reuid=0 -- sleep 3' </dev/null &
p=$!
pids+=("$p")
# The program's segment appears once sleep has started.
wait_for test -e "/dev/shm/sendcache.sleep-$p"
sleep 0.2
is "$(segments_of "$p")" "sleep-$p" \
	"env, sh -c exec, taskset, setpriv, sleep: only the program's segment is left"
wait "$p"
is "$(segments_of "$p")" "" "and it is gone when the program exits"

# A wrapper that becomes nobody, then execs: nobody can remove the
# wrapper's segment (it is given to nobody before the switch), and its own.
public=$(tap_public_preload) || bail_out "cannot copy the library where nobody reaches it"
LD_PRELOAD=$public setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	sleep 3 </dev/null &
p=$!
pids+=("$p")
wait_for test -e "/dev/shm/sendcache.sleep-$p"
sleep 0.2
is "$(segments_of "$p")" "sleep-$p" \
	"setpriv dropping root, then sleep: only the program's segment is left"
wait "$p"
is "$(segments_of "$p")" "" "and the program, now nobody, removes its own at exit"
LD_PRELOAD=$public setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	/nonexistent/t5002 </dev/null 2>/dev/null &
p=$!
pids+=("$p")
wait "$p"
is "$(segments_of "$p")" "" "a wrapper whose exec fails after dropping root leaves nothing"

# 2. Killed outright: swept by the next start, then by sendcache-stat.
start_sleep
kill_sleep
is "$(segments_of "$p")" "sleep-$p" "SIGKILL leaves the segment"
LD_PRELOAD=$tap_preload /bin/true
is "$(segments_of "$p")" "sleep-$p" "a start within 2 s leaves it (it may be one being set up)"
sleep 2.1
LD_PRELOAD=$tap_preload /bin/true
is "$(segments_of "$p")" "" "the next start after 2 s removes it"

start_sleep
kill_sleep
sleep 2.1
# Without -n, sendcache-stat sweeps before it looks for the instance.
"$stat_cli" -1 >/dev/null 2>&1
is "$(segments_of "$p")" "" "sendcache-stat removes it too"

# 3. Damaged while its process lives.
start_sleep
seg=/dev/shm/sendcache.sleep-$p
# The magic, version and sizes: an invalid header.
perl -e 'open(my $f, "+<", $ARGV[0]) or die; print $f "\xff" x 32' "$seg"
sleep 2.1
err=$("$stat_cli" -n "sleep-$p" -1 2>&1 >/dev/null)
rc=$?
is "$rc" 5 "a damaged segment: exit 5"
is "$(wc -l <<<"$err")" 1 "in one line: $err"
is "$(segments_of "$p")" "sleep-$p" "sendcache-stat keeps a damaged segment its process maps"
LD_PRELOAD=$tap_preload /bin/true
is "$(segments_of "$p")" "sleep-$p" "so does a starting process"
kill_sleep
"$stat_cli" -1 >/dev/null 2>&1
is "$(segments_of "$p")" "" "once its process is gone, sendcache-stat removes it"

# A named instance whose process lives is not swept by another start.
LD_PRELOAD=$tap_preload SENDCACHE_STATS_NAME=own-$$-t5002 sleep 30 </dev/null &
p=$!
pids+=("$p")
wait_for test -e "/dev/shm/sendcache.own-$$-t5002"
sleep 2.1
LD_PRELOAD=$tap_preload /bin/true
ok "a named instance with a live process stays" test -e "/dev/shm/sendcache.own-$$-t5002"
kill_sleep
rm -f "/dev/shm/sendcache.own-$$-t5002"

# A process whose child has exited but is not reaped yet (a server that
# reaps its CGI a moment later) is the last: it removes its segment. Such
# a child was taken for a live one, and lighttpd left its segment after a
# CGI request now and then.
name=zombie-$$-t5002
tap_at_exit rm -f "/dev/shm/sendcache.$name"
SENDCACHE_STATS_NAME=$name LD_PRELOAD=$tap_preload /usr/bin/python3 -c '
import os, time
if os.fork() == 0:
    os._exit(0)
time.sleep(0.3)'
ok "a process whose exited child is not reaped yet removes its segment" \
	test ! -e "/dev/shm/sendcache.$name"
