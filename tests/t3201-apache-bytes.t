#!/bin/bash
# t3201-apache-bytes: Apache puts the same bytes on the wire with the
# library, with the event and the prefork MPM, EnableSendfile Off (as
# Debian ships it: files are mmap'ed and written with writev) and On.
#
# Debian's apache2.conf, modules and default site, with .htaccess probed
# in every directory, serve files from 0 B to 16 MiB. For each MPM and
# sendfile setting, GET, HEAD, byte ranges, a conditional GET, a gzip'ed
# page (mod_deflate) and a 404 go first to plain Apache, each answer
# checked against the file, then twice to Apache with the library (the
# first round fills the caches of the children that answer, the second
# hits them): every status line, header but Date, and body must equal the
# plain answer. Keep-alive and pipelined requests check that nothing leaks
# from one response into the next; the children must survive.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/server-bytes.sh"

tap_require curl perl sha256sum gzip cmp
srv_require apache-event apache-prefork
tap_require_lib

rounds=2
kinds=(apache-event apache-prefork)
sendfile=(Off On)

dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf apache-event "$dir" "$port"
cmp_init "$port" "$dir/www" "$dir/work"
cmp_head_len0=0      # Apache sends no Content-Length for a HEAD of 0 bytes
cmp_make_corpus

per_setting=$(( $(sb_plain_count) + $(sb_with_count "$rounds") ))
plan $(( ${#kinds[@]} * ${#sendfile[@]} * per_setting ))

for kind in "${kinds[@]}"; do
	for sf in "${sendfile[@]}"; do
		srv_conf "$kind" "$dir" "$port" "EnableSendfile $sf"
		sb_plain "$kind" "$dir" "$kind, EnableSendfile $sf"
		sb_with "$kind" "$dir" "$rounds" "$kind, EnableSendfile $sf"
	done
done
