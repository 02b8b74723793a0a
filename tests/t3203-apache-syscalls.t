#!/bin/bash
# t3203-apache-syscalls: with the library, Apache serves a cached small file
# without opening, probing, stating, mapping or closing anything.
#
# For every request Apache (Debian's configuration, .htaccess read in
# every directory) stats the file, tries to open .htaccess in each
# directory from / down (failing openat calls), opens the file, maps it,
# writes, unmaps it and closes it. 200 keep-alive GETs of a 1 KiB file
# are counted with strace -c attached to every thread of the one child,
# after two requests that warm Apache and the library. Without the library
# openat, newfstatat, mmap, munmap and close together must come to about
# ten a request (which shows the count sees what it should); with it the
# cache answers them all: at most a warm-up constant in all, for the event
# MPM (threads) and the prefork MPM (processes).

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/servers.sh"
. "$here/tap/syscalls.sh"

tap_require curl strace
srv_require apache-event apache-prefork
tap_require_lib

requests=200
# Calls allowed with the library in all: Apache's own allocator mappings
# and whatever a reconnection costs (Debian's MaxKeepAliveRequests 100
# makes the client reconnect halfway).
warmup=40
calls=(openat newfstatat mmap munmap close)

# One child, so that the warm-up requests reach the process that is
# measured (with several, the measured connection may land in a child
# whose cache is still cold, which is a first touch, not a per-request
# cost).
declare -A one_child=(
	[apache-event]='ServerLimit 1
StartServers 1
MaxRequestWorkers 25
MinSpareThreads 1
MaxSpareThreads 26'
	[apache-prefork]='ServerLimit 1
StartServers 1
MaxRequestWorkers 1
MinSpareServers 1
MaxSpareServers 1'
)

dir=$(tap_tmpdir)
port=$(tap_free_port)
head_done=
url=http://127.0.0.1:$port/f1k.bin

plan 10

# measure KIND MODE: start Apache KIND MODE, warm it, count; the summary is
# in $dir/strace.KIND.MODE (1 test, 2 with the library).
measure() {
	local kind=$1 mode=$2
	srv_conf "$kind" "$dir" "$port" "${one_child[$kind]}"
	if [[ -z $head_done ]]; then
		head -c 1024 /dev/urandom >"$dir/www/f1k.bin"
		chmod 0644 "$dir/www/f1k.bin"
		head_done=1
	fi
	srv_start "$kind" "$dir" "$mode" || bail_out "$kind $mode the library did not start"
	[[ $mode == with ]] && srv_ok_lib "$kind" "$dir" "$kind with the library"
	curl -s -o /dev/null "$url" -o /dev/null "$url"
	ok "$kind $mode the library: $requests keep-alive GETs of 1 KiB counted by strace" \
		sc_count "$kind" "$dir" "$url" "$requests" "$dir/strace.$kind.$mode"
	srv_stop "$kind" "$dir"
	srv_logs_aside "$dir" "$kind.$mode"
}

for kind in apache-event apache-prefork; do
	measure "$kind" without
	sc_between "$dir/strace.$kind.without" "$requests" 80 140 \
		"$kind without the library: about ten of ${calls[*]} a request" "${calls[@]}"
	measure "$kind" with
	sc_at_most "$dir/strace.$kind.with" "$requests" "$warmup" \
		"$kind with the library: none of ${calls[*]} a request (at most $warmup in all)" \
		"${calls[@]}"
done
