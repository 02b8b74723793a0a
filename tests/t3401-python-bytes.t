#!/bin/bash
# t3401-python-bytes: python3's http.server puts the same bytes on the
# wire with the library.
#
# http.server (HTTP/1.0, one connection a request) opens each file, copies
# it with read() and write() (no sendfile) and closes it. Files from 0 B
# to 16 MiB are requested with GET, HEAD, a conditional GET and a 404
# (it ignores Range and does no gzip), first from the plain server, each
# answer checked against the file, then three times from the server with
# the library. Every status line, header but Date, and body must equal the
# plain answer.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/server-bytes.sh"

tap_require curl perl sha256sum gzip cmp
srv_require python
tap_require_lib

rounds=3

dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf python "$dir" "$port"
cmp_init "$port" "$dir/www" "$dir/work"
cmp_range=0 cmp_suffix=0 cmp_gzip=0 cmp_keepalive=0 cmp_pipeline=0
cmp_make_corpus

plan $(( $(sb_plain_count) + $(sb_with_count "$rounds") ))
sb_plain python "$dir" python
sb_with python "$dir" "$rounds" python
