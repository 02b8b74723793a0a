#!/usr/bin/env bash
# t2003-send-strategies: the rows of the send strategy table other than the
# default merged writev (t2001), each forced by its size bounds, through
# the scenarios where a row can go wrong: every header path it follows,
# busybox's sendfile(NULL) loop, a Range, the end of a file, partial writes
# on non-blocking sockets, a reset mid-body. Same calls, results and bytes
# as without the library, and the row really ran (its counter moved).
# Last, the pipe row when the user's pipe pages are used up (EPERM): the
# file goes by sendfile instead.
. "$(dirname "$0")/tap/tap.sh"
. "$(dirname "$0")/tap/sendpaths.sh"
tap_require_lib
[[ -x $helper ]] || _tap_missing "$helper (run make test)"
tap_require setpriv

plan $((2 * (9 * 3 + 2) + 3 + 1))

dir=$(tap_tmpdir)
chmod 0777 "$dir"
head -c 3750 /dev/urandom | base64 -w 0 >"$dir/small.txt"       # 5000 B
head -c 100000 /dev/urandom >"$dir/mid.bin"

# run_row NAME COUNTER: the scenarios with the row NAME forced. The row
# runs for whole files sent right after a held head; ranges, positions
# and heads that a full socket splits go by the rows below it.
run_row() {
	local row=$1 counter=$2 n
	for n in cork-write plain-send-more cork-sendmsg busybox; do
		scenario "$row-$n" "$dir/small.txt" "$counter"\>=1
	done
	for n in busybox-range pos-held; do
		scenario "$row-$n" "$dir/small.txt" head_held\>=1
	done
	for n in nb-offset nb-null reset-write.sendfile.count; do
		scenario "$row-$n" "$dir/mid.bin" head_held\>=1
	done
	for n in nb-offset nb-null; do
		is "$(grep -c '^body sent = \([0-9]*\) of \1, zero returns = 0$' "$dir/$row-$n.with.log")" 2 \
			"$row-$n: both bodies whole, sendfile never returned 0"
	done
}

# The helper takes its scenario from its first argument; a prefix names
# the row for the files only.
# The helper runs as nobody below: from where nobody can reach it.
helper_real=$(tap_public "$helper") || bail_out "cannot copy $helper"
helper=$dir/sendpaths
cat >"$helper" <<SH
#!/bin/sh
exec "$helper_real" "\${1#*-}" "\$2" "\$3"
SH
chmod 0755 "$helper"

SENDCACHE_MERGE_MAX=0 SENDCACHE_PIPE_MAX=1000K run_row pipe piped
SENDCACHE_MERGE_MAX=0 SENDCACHE_PIPE_MAX=0 run_row sendfile sendfile_real

# EPERM: past fs.pipe-user-pages-soft an unprivileged user's pipes stay at
# two pages and F_SETPIPE_SZ fails. Lowered for this one run, as nobody.
soft=/proc/sys/fs/pipe-user-pages-soft
old=$(cat $soft)
tap_at_exit sh -c "echo $old > $soft"
echo 1 >$soft
as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
SENDCACHE_MERGE_MAX=0 SENDCACHE_PIPE_MAX=1000K scenario eperm-busybox "$dir/small.txt" pipe_fail\>=1 piped==0 sendfile_real\>=1
echo "$old" >$soft
as_user=()
is "$(cat $soft)" "$old" "fs.pipe-user-pages-soft restored"
