#!/bin/bash
# t3001-nginx-bytes: nginx puts the same bytes on the wire with the library.
#
# Files whose sizes straddle the page, 64 KiB and large-file boundaries are
# requested with GET, HEAD, byte ranges and a conditional GET, first from
# plain nginx and then three times from nginx with the library: the first
# round fills the cache, the later ones are served from it. Every response
# (status line, headers but Date, body digest) must equal the plain one.
# A hundred keep-alive requests on one connection and eight pipelined
# requests in one write check that nothing held back or merged by the
# library leaks from one response into the next.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/compare.sh"

tap_require "$nginx_bin" curl perl sha256sum gzip cmp
tap_require_lib

# Rounds with the library: the first fills the cache, the rest hit it.
rounds=3

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
cmp_init "$port" "$dir/www" "$dir/work"
cmp_make_corpus

# Each case once plain and $rounds times with the library; two keep-alive
# tests per server; the pipeline once plain and twice per round with the
# library; and three checks of the worker.
plan $(( cmp_ncases * (1 + rounds) + 2 * 2 + 1 + 2 * rounds + 3 ))

# --- without the library ----------------------------------------------------

nginx_start "$dir" || bail_out "plain nginx did not start"
cmp_plain "plain nginx"
cmp_keepalive "plain nginx"
cmp_pipeline "plain nginx" plain
nginx_stop "$dir"
mv "$dir/error.log" "$dir/error.log.plain"
mv "$dir/access.log" "$dir/access.log.plain"

# --- with the library -----------------------------------------------------

nginx_start_with "$dir"

for ((r = 1; r <= rounds; r++)); do
	cmp_again "with library, round $r"
done
cmp_keepalive "with library"
for ((r = 1; r <= rounds; r++)); do
	cmp_pipeline_same "with library, round $r" "lib$r"
done

is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker (it never crashed)"
is "$(nginx_log_problems "$dir")" "" "no [crit], [alert] or [emerg] in the error log"
nginx_stop "$dir"
