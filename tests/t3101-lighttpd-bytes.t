#!/bin/bash
# t3101-lighttpd-bytes: lighttpd puts the same bytes on the wire with the
# library.
#
# Debian's lighttpd configuration (its stock network backend: small files
# read with pread64 into one writev, large ones sent with sendfile) serves
# files from 0 B to 16 MiB. GET, HEAD, byte ranges, a conditional GET and
# a 404 go first to plain lighttpd, each answer checked against the file,
# then three times to lighttpd with the library: every status line, header
# but Date, and body must equal the plain answer. A hundred keep-alive
# requests on one connection and eight pipelined requests in one write
# check that nothing leaks from one response into the next.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/server-bytes.sh"

tap_require curl perl sha256sum gzip cmp
srv_require lighttpd
tap_require_lib

rounds=3

dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf lighttpd "$dir" "$port"
cmp_init "$port" "$dir/www" "$dir/work"
cmp_gzip=0           # Debian does not enable mod_deflate
cmp_make_corpus

plan $(( $(sb_plain_count) + $(sb_with_count "$rounds") ))
sb_plain lighttpd "$dir" lighttpd
sb_with lighttpd "$dir" "$rounds" lighttpd
