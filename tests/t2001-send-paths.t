#!/usr/bin/env bash
# t2001-send-paths: every way a header reaches the socket and every network
# condition, run by the helper build/tests/sendpaths (a server over loopback
# TCP, with a client thread) once without and once with the library. Per
# scenario: the transcripts (every call's return value and errno, file
# positions, TCP_CORK as getsockopt reports it, SIGPIPEs, what the client
# saw) are equal, the client received the same bytes, and the library's
# counters show that it did hold and merge where it should, so that a
# library that silently did nothing fails.
#
# Lines of a transcript that start with "~" (how many partial writes a full
# socket made) legitimately differ and are left out of the comparison; the
# lines beside them (totals, no 0 return before the end) are compared.
#
# The slow receiver reads 1 KiB every 10 ms for 2 s only (all of 64 MiB at
# that pace would take 11 minutes), which keeps its 4 KiB window full and
# the server at partial writes or blocked; then it drains at full speed.
. "$(dirname "$0")/tap/tap.sh"
. "$(dirname "$0")/tap/sendpaths.sh"
tap_require_lib
tap_require strace truncate
[[ -x $helper ]] || _tap_missing "$helper (run make test)"

dir=$(tap_tmpdir)
# Text, so that the transcript can show what read() returned.
head -c 3750 /dev/urandom | base64 -w 0 >"$dir/small.txt"       # 5000 B, merged
: >"$dir/empty"
head -c 100000 /dev/urandom >"$dir/mid.bin"                     # merged
head -c $((1 << 20)) /dev/urandom >"$dir/big.bin"               # sendfile
head -c $((64 << 20)) /dev/urandom >"$dir/huge.bin"             # slow receiver
# A sparse file over 4 GiB with data past 2^32.
truncate -s 5G "$dir/sparse.bin"
head -c 2200000 /dev/urandom |
	dd of="$dir/sparse.bin" bs=1M seek=4096 conv=notrunc status=none

heads=(write write2 writev writev-iovmax send sendto sendmsg send-more sendto-more sendmsg-more)
nobody=(304-poll 304-epoll 304-select 304-accept 304-recv 304-read 404-poll 404-recv head-poll head-read)
resets=(write.sendfile.count write.sendfile.ignore write.sendfile.default
	send-nosignal.sendfile.count send-nosignal.send.count write.write.count)
early=(write.poll.none.count write.poll.none.default write.poll.recv.count
	write.poll.sendfile.count write.poll.write.count write.none.write.count
	send-nosignal.poll.sendfile.count send-nosignal.none.sendfile.count
	send-nosignal.poll.send.count)
# Assertions: 3 per scenario, plus the checks of bodies and totals.
plan $(( 3 * (${#heads[@]} * 2 + 3 + 3 + ${#nobody[@]} + 2 + 2 + 3 + 1 + 4 + 2 + ${#resets[@]} * 2 + ${#early[@]} + 1) +
	${#heads[@]} * 2 + 3 + 3 + 1 + 4 + 1 + 2 + 1 ))
# 2. Every way a header arrives; corked (the library keeps the cork) or
# plain (held as an HTTP head); merged with a mapped body in one writev.
for h in "${heads[@]}"; do
	scenario "cork-$h" "$dir/small.txt" head_held\>=1 merged_writev\>=1 cork_kept\>=1
	expect_body "cork-$h" "$dir/small.txt"
	if [[ $h == write2 ]]; then
		# a status line alone is no HTTP head: both writes pass
		scenario "plain-$h" "$dir/small.txt" head_held==0 merged_writev==0
	else
		scenario "plain-$h" "$dir/small.txt" head_held\>=1 merged_writev\>=1
	fi
	expect_body "plain-$h" "$dir/small.txt"
done
# Heads above the hold buffer pass through, in order.
for h in cork-write plain-write cork-writev-iovmax; do
	scenario "bighead-$h" "$dir/small.txt" head_held==0 merged_writev==0
	expect_body "bighead-$h" "$dir/small.txt"
done
# busybox httpd: write(head), sendfile64(NULL) until 0; a cold open (no
# cache hit: the server's own descriptor is adopted, so the body still
# merges with the head and the last sendfile is answered at end of file);
# a Range.
scenario busybox "$dir/small.txt" merged_writev\>=1 open_hit\>=1
expect_body busybox "$dir/small.txt"
scenario busybox-cold "$dir/small.txt" head_held\>=1 open_hit==0 merged_writev\>=1 sendfile_eof\>=1
expect_body busybox-cold "$dir/small.txt"
scenario busybox-range "$dir/small.txt" merged_writev\>=1
expect_body busybox-range "$dir/small.txt" 1000
# A head with no body (304, 404, the answer to HEAD) reaches the client by
# the thread's next blocking point: poll, epoll_wait, select, accept, or a
# read of the same socket (a blocking thread-per-connection server).
for n in "${nobody[@]}"; do
	case $n in
	*-recv | *-read) scenario "nobody-$n" "$dir/small.txt" head_held\>=1 ;;
	*) scenario "nobody-$n" "$dir/small.txt" head_held\>=1 flush_blocking\>=1 ;;
	esac
done
scenario 404-body "$dir/small.txt" head_held\>=1
# Apache's event MPM: the worker arms the socket in the listener's epoll
# set and waits on a condition variable; the head goes out at epoll_ctl.
scenario handoff-304 "$dir/small.txt" head_held\>=1

# 3. File positions: read, sendfile(NULL) and sendfile(&off) interleaved,
# with a held head (merged sends) and without.
scenario pos-held "$dir/small.txt" merged_writev\>=2 open_hit\>=1
scenario pos-plain "$dir/small.txt" open_hit\>=1 merged_writev==0
is "$(grep -c '^read bytes: .' "$dir/pos-held.without.log")" 2 \
	"pos: the transcript shows the bytes each read returned"
# sendfile at the end of the file after a head (an empty file, a Range at
# the end): the head reaches the client at once.
for n in eof-plain eof-cork; do
	scenario "$n" "$dir/small.txt" head_held\>=1
done
scenario eof-plain "$dir/empty" head_held\>=1

# getsockopt(TCP_CORK) with the lengths a server may pass (8, 4, 1, 0).
scenario getsockopt-len /dev/null cork_kept\>=2

# 4. Non-blocking sockets against a slow reader, two responses back to
# back with 7000-byte heads: partial writes split heads and bodies.
for f in mid.bin big.bin; do
	for n in nb-offset nb-null; do
		scenario "$n" "$dir/$f" head_held\>=2
		is "$(grep -c '^body sent = \([0-9]*\) of \1, zero returns = 0$' "$dir/$n.with.log")" 2 \
			"$n ($f): both bodies whole, sendfile never returned 0"
	done
done
# The split really happened with the library: a merged writev that
# returned less than the 7000-byte head.
# (strace -E: the library in the helper only, not in strace, which may be
# of another libc: make check-musl)
strace -E LD_PRELOAD="$tap_preload" -f -qq -e trace=writev -o "$dir/nb.strace" \
	"$helper" nb-offset "$dir/mid.bin" "$dir/nb.out" >/dev/null 2>&1
ok "nb-offset: a merged writev returned inside the head, and it was still first" \
	grep -Eq 'iov_len=7000\}, \{.*\) = ([0-9]{1,3}|[1-6][0-9]{3})$' "$dir/nb.strace"

# A slow receiver (4 KiB window) of a 64 MiB file, blocking and not.
for n in slow-block slow-nonblock; do
	scenario "$n" "$dir/huge.bin" head_held\>=1 sendfile_real\>=1
	expect_body "$n" "$dir/huge.bin"
	rm -f "$dir/$n".*.out
done

# A client that resets mid-body: the same ECONNRESET then EPIPE, and
# SIGPIPE exactly when the real call raises it (a counting handler,
# SIG_IGN, the default disposition that kills; MSG_NOSIGNAL honoured).
for f in mid.bin big.bin; do
	for n in "${resets[@]}"; do
		if [[ $n == *.default ]]; then
			# killed by SIGPIPE (128 + 13): no counters at exit
			scenario "reset-$n" "$dir/$f" exit==141
		else
			scenario "reset-$n" "$dir/$f" head_held\>=1
		fi
	done
done

# A client that resets after the head was written, before the body: the
# head is still held, and whoever flushes it (a blocking point, the body
# call, close) must leave the server what the kernel would have told it:
# the connection's ECONNRESET once, to the server's next call (a flush
# takes it from the kernel), EPIPE after, no SIGPIPE for bytes whose
# write already succeeded, and sendfile's SIGPIPE even after a head sent
# with MSG_NOSIGNAL.
for n in "${early[@]}"; do
	case $n in
	*.poll.*) scenario "early-$n" "$dir/mid.bin" head_held\>=1 flush_blocking\>=1 ;;
	*) scenario "early-$n" "$dir/mid.bin" head_held\>=1 ;;
	esac
done

# Files over 4 GiB: sendfile with an offset past 2^32, sendfile(NULL) and
# read from a position past 2^32.
scenario big-offset "$dir/sparse.bin" head_held\>=1 sendfile_real\>=2
cmp_part() { cmp <(tail -c +58 "$dir/big-offset.without.out" | head -c $((1 << 20))) \
	<(tail -c +$(( (1 << 32) + 1001 )) "$dir/sparse.bin" | head -c $((1 << 20))); }
ok "big-offset: the bytes from 2^32 + 1000 on" cmp_part
