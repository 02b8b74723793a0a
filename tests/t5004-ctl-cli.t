#!/usr/bin/env bash
# t5004-ctl-cli: sendcache-ctl on segments written by the mkseg helper (no
# server, no library): what each command writes into the control block
# (read back with status), that a bad argument changes nothing (exit 2,
# one line), every error exit status, a generation left odd by a writer
# that died, the lock between two sendcache-ctl, and who may control: a
# reader of a group-readable segment (SENDCACHE_STATS_GROUP) may ask for
# status and nothing else (exit 4); a segment's owner may control it.
. "$(dirname "$0")/tap/tap.sh"
plan 48
tap_require python3 flock sha256sum
(( EUID == 0 )) && tap_require runuser
ctl=$tap_build/sendcache-ctl
mkseg=$tap_build/tests/mkseg
[[ -x $ctl && -x $mkseg ]] || bail_out "build/sendcache-ctl or build/tests/mkseg missing (run make)"
dir=$(tap_tmpdir)

# Every segment of this run is named $pre-*, removed at exit.
pre=t5004-$$
remove_segments() { rm -f /dev/shm/sendcache."$pre"-* /dev/shm/sendcache-prewarm."$pre"-*; }
tap_at_exit remove_segments

# run ARGS...: sendcache-ctl's stdout in $out, stderr in $err, status in $rc.
run() {
	out=$("$ctl" "$@" 2>"$dir/err")
	rc=$?
	err=$(<"$dir/err")
}

# field NAME: the value of NAME in the status in $out.
field() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print }' <<<"$out"; }

# hash SEG: the segment's bytes, to tell that nothing changed.
hash() { sha256sum <"/dev/shm/sendcache.$1"; }

seg=$pre-a
"$mkseg" "$seg" --slot "$$=open_hit:1" || bail_out "mkseg cannot create a segment"

run -n "$seg" status
is "$rc" 0 "status: exit status 0"
is "$(field generation):$(field paused):$(field purges):$(field prewarms)" "0:no:0:0" \
	"a new segment: generation 0, not paused, nothing asked"
like "$out" $'\n'"$$ +0 +current" "status: this shell's slot, acknowledged generation 0"

# --- a bad argument: one line, exit 2, nothing changed -----------------------
before=$(hash "$seg")
bad() {
	local desc=$1
	shift
	run "$@"
	is "$rc:$(wc -l <<<"$err")" "2:1" "$desc: exit status 2, one line"
}
bad "no command" -n "$seg"
bad "unknown command" -n "$seg" frobnicate
like "$err" "unknown command 'frobnicate'" "... says which"
bad "pause with an argument" -n "$seg" pause now
bad "prewarm without a directory" -n "$seg" prewarm
bad "prewarm of a missing directory" -n "$seg" prewarm "$dir/none"
like "$err" "'$dir/none' is not a directory" "... says which"
bad "prewarm of a file" -n "$seg" prewarm /etc/passwd
bad "prewarm of /" -n "$seg" prewarm /
bad "a path with a newline" -n "$seg" purge $'/srv/a\nb'
bad "a bad instance name" -n "a/b" pause
bad "an unknown option" -x pause
is "$(hash "$seg")" "$before" "after all of them, the segment is unchanged"

# --- what each command writes --------------------------------------------------
run -n "$seg" pause
is "$rc:$out" "0:$seg: pause, generation 2" "pause: exit 0, says the new generation"
run -n "$seg" status
is "$(field generation):$(field paused)" "2:yes" "status: generation 2, paused"
like "$out" $'\n'"$$ +0 +behind" "status: this shell's slot has not acted on it"
run -n "$seg" resume
run -n "$seg" status
is "$(field generation):$(field paused)" "4:no" "resume: generation 4, not paused"
run -n "$seg" purge
is "$rc:$out" "0:$seg: purge of everything, generation 6" "purge: of everything"
run -n "$seg" status
is "$(field purges):$(field last)" "1:purge everything" "status: one purge, of everything"
mkdir -p "$dir/site/a"
(cd "$dir/site" && "$ctl" -n "$seg" purge a/ "/srv//x/./y/../z/" >/dev/null)
run -n "$seg" status
is "$(field purges):$(field last)" "2:purge $dir/site/a /srv/x/z" \
	"purge PATHS: made absolute, without . .. // or a trailing /"
run -n "$seg" purge /srv/a /
run -n "$seg" status
is "$(field last)" "purge everything" "purge of a path and /: of everything"
long=()
for i in $(seq 1 40); do long+=("/srv/$(printf 'x%.0s' $(seq 1 120))/$i"); done
run -n "$seg" purge "${long[@]}"
is "$rc" 0 "purge of more paths than the block holds: exit 0"
like "$err" "more than 4096 bytes: purging everything" "... and says it purges everything"
mkdir -p "$dir/warm"
run -n "$seg" prewarm "$dir/warm" "$dir/site/"
run -n "$seg" status
is "$(field prewarms)" 1 "prewarm: counted"
list=/dev/shm/sendcache-prewarm.$seg
is "$(cat "$list")" "$dir/warm"$'\n'"$dir/site" "prewarm: the list holds the directories, one a line"
is "$(stat -c '%a %u' "$list")" "644 $EUID" "prewarm: the list is this user's, mode 0644"

# A writer that died left the generation odd: the next one takes over.
python3 - "/dev/shm/sendcache.$seg" "$("$tap_build/tests/mkseg" --ctl-offset)" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    f.write(struct.pack("<Q", 101))
PY
run -n "$seg" status
like "$(field generation)" "^101 \(being written\)" "status: an odd generation is being written"
run -n "$seg" pause
is "$out" "$seg: pause, generation 102" "a generation left odd: the next writer takes it over"

# Two at once: the second waits for the first's lock (an open file
# description lock for writing, held here by a helper for 0.5 s).
python3 - "/dev/shm/sendcache.$seg" "$dir/locked" <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
open(sys.argv[2], "w").close()
time.sleep(0.5)
PY
for ((i = 0; i < 100; i++)); do [[ -e $dir/locked ]] && break; sleep 0.02; done
t0=$(date +%s%N)
run -n "$seg" resume
waited=$(( ($(date +%s%N) - t0) / 1000000 ))
wait
is "$rc:$out" "0:$seg: resume, generation 104" "a second sendcache-ctl waits for the lock ..."
ok "... until it is free ($waited ms)" test "$waited" -ge 250
# A reader cannot take that lock: a read-only descriptor holds no one off.
python3 - "/dev/shm/sendcache.$seg" <<'PY'
import errno, fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
    sys.exit(1)
except OSError as e:
    sys.exit(0 if e.errno == errno.EBADF else 2)
PY
is "$?" 0 "a read-only descriptor cannot take the lock (EBADF)"

# --- errors --------------------------------------------------------------------
run -n "$pre-none" pause
is "$rc" 3 "no such segment: exit status 3"
"$mkseg" "$pre-v99" --version 99
before=$(hash "$pre-v99")
run -n "$pre-v99" pause
is "$rc" 5 "another layout version: exit status 5"
is "$(hash "$pre-v99")" "$before" "... and it is left as it was"
run pause
is "$rc" 6 "several instances and no -n: exit status 6"

# --- who may control ---------------------------------------------------------------
if (( EUID == 0 )) && getent group nogroup >/dev/null; then
	cp "$ctl" "$dir/sendcache-ctl"
	cp "$mkseg" "$dir/mkseg"
	chmod 0755 "$dir/sendcache-ctl" "$dir/mkseg"
	as_nobody() { runuser -u nobody -g nogroup -- "$@"; }
	"$mkseg" "$pre-grp" --mode 0640 --slot "$$=open_hit:1"
	chgrp nogroup "/dev/shm/sendcache.$pre-grp"
	before=$(hash "$pre-grp")
	out=$(as_nobody "$dir/sendcache-ctl" -n "$pre-grp" status 2>&1)
	is "$?" 0 "a reader of the group may ask for status"
	for cmd in pause resume purge "prewarm $dir/warm"; do
		# shellcheck disable=SC2086 # the command and its argument
		err=$(as_nobody "$dir/sendcache-ctl" -n "$pre-grp" $cmd 2>&1)
		rc=$?
		is "$rc" 4 "a reader of the group may not ${cmd%% *}: exit status 4"
	done
	like "$err" "Permission denied: only its owner or root may control it" "... and says why"
	is "$(hash "$pre-grp")" "$before" "... and the segment is unchanged"
	ok "... and no prewarm list was written" test ! -e "/dev/shm/sendcache-prewarm.$pre-grp"
	as_nobody "$dir/mkseg" "$pre-own" --mode 0600
	out=$(as_nobody "$dir/sendcache-ctl" -n "$pre-own" pause 2>&1)
	is "$?:$out" "0:$pre-own: pause, generation 2" "the segment's owner (not root) may control it"
	"$mkseg" "$pre-root" --mode 0600
	out=$(as_nobody "$dir/sendcache-ctl" -n "$pre-root" status 2>&1)
	is "$?" 4 "root's 0600 segment: another user may not even read its status"
else
	skip "needs root, runuser and group nogroup to test another user" 10
fi
