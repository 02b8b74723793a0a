#!/bin/bash
# t3103-lighttpd-syscalls: with the library, lighttpd reads a cached small
# file without a system call.
#
# lighttpd keeps the descriptors of the files it serves open itself and
# sends a small file as pread64 into its buffer plus one writev. 200
# keep-alive GETs of a 1 KiB file are counted with strace -c attached to
# lighttpd, after two requests that warm both lighttpd and the library.
# Without the library there must be one pread64 a request (which shows
# the count sees what it should); with it, the cache answers pread64 from
# its mapping: at most a warm-up constant of pread64 calls in all.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/servers.sh"
. "$here/tap/syscalls.sh"

tap_require curl strace
srv_require lighttpd
tap_require_lib

requests=200
# pread64 calls allowed with the library in all: a first touch after a
# change, not one a request.
warmup=5

dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf lighttpd "$dir" "$port"
head -c 1024 /dev/urandom >"$dir/www/f1k.bin"
chmod 0644 "$dir/www/f1k.bin"
url=http://127.0.0.1:$port/f1k.bin

plan 5

# measure MODE: start lighttpd MODE, warm it, count; the summary is in
# $dir/strace.MODE (1 test).
measure() {
	srv_start lighttpd "$dir" "$1" || bail_out "lighttpd $1 the library did not start"
	[[ $1 == with ]] && srv_ok_lib lighttpd "$dir" "lighttpd with the library"
	curl -s -o /dev/null "$url" -o /dev/null "$url"
	ok "$1 the library: $requests keep-alive GETs of 1 KiB counted by strace" \
		sc_count lighttpd "$dir" "$url" "$requests" "$dir/strace.$1"
	srv_stop lighttpd "$dir"
}

measure without
sc_between "$dir/strace.without" "$requests" 9 11 \
	"without the library: one pread64 a request" pread64
measure with
sc_at_most "$dir/strace.with" "$requests" "$warmup" \
	"with the library: no pread64 a request (at most $warmup in all)" pread64
