#!/bin/bash
# t3301-busybox-bytes: busybox httpd puts the same bytes on the wire with
# the library, with and without the document root warmed in the parent.
#
# busybox httpd forks a child per connection, which chdir()s to the
# document root, opens the relative path, writes the header with write()
# and loops sendfile() until it returns 0. Files from 0 B to 16 MiB are
# requested with GET, HEAD, byte ranges and a 404 (busybox has no suffix
# ranges, If-Modified-Since, gzip, keep-alive or pipelining), first from
# plain busybox, each answer checked against the file, then from busybox
# with the library (its children sleep: they run as without it), then
# with SENDCACHE_PREWARM=DIR/www, which fills the parent's cache before it
# forks (its children inherit the cache's descriptors and do not use
# them). Every status line, header but Date, and body must equal the
# plain answer.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/server-bytes.sh"

tap_require curl perl sha256sum gzip cmp
srv_require busybox
tap_require_lib

rounds=2

dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf busybox "$dir" "$port"
cmp_init "$port" "$dir/www" "$dir/work"
cmp_suffix=0 cmp_ims=0 cmp_gzip=0 cmp_keepalive=0 cmp_pipeline=0
cmp_make_corpus

plan $(( $(sb_plain_count) + 2 * $(sb_with_count "$rounds") ))
sb_plain busybox "$dir" busybox
sb_with busybox "$dir" "$rounds" busybox
SENDCACHE_PREWARM=$dir/www sb_with busybox "$dir" "$rounds" "busybox, SENDCACHE_PREWARM"
