#!/bin/bash
# t3102-lighttpd-fresh: lighttpd with the library never serves a stale file.
#
# DESIGN.md invariant 4, with tests/tap/fresh.sh's steps (edits, renames,
# deletes, chmod of the file and its directory, a re-pointed symlink),
# each request 50 ms after its change. lighttpd's own stat cache would
# serve a changed file stale for up to a second, so it is disabled here
# (server.stat-cache-engine = "disable"): then plain lighttpd is fresh
# within the bound, which one round against it checks, and so must be
# lighttpd with the library, for three rounds. lighttpd keeps the
# descriptors it opened and checks only the file's identity, size and
# mtime before reusing one, so a file made mode 000 after it was opened is
# still served: the library must give the same answer.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/servers.sh"
. "$here/tap/fresh.sh"

tap_require curl sha256sum
srv_require lighttpd
tap_require_lib

rounds=3

dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf lighttpd "$dir" "$port" 'server.stat-cache-engine = "disable"'
fresh_init "$port" "$dir/www" "$dir/work"
fresh_unreadable=served
fresh_unsearchable=403

plan $(( (1 + rounds) * fresh_per_round + 3 ))

srv_start lighttpd "$dir" without || bail_out "plain lighttpd did not start"
fresh_round 1 "plain lighttpd, round 1"
srv_stop lighttpd "$dir"
srv_logs_aside "$dir" plain

srv_start lighttpd "$dir" with || bail_out "lighttpd with the library did not start"
pid=$SRV_PID
srv_ok_lib lighttpd "$dir" "lighttpd with the library"
for ((r = 1; r <= rounds; r++)); do
	fresh_round "$r" "with library, round $r"
done
is "$(srv_serving_pids lighttpd "$dir")" "$pid" "lighttpd is still pid $pid (it never crashed)"
is "$(srv_log_problems lighttpd "$dir")" "" "nothing but start and stop in the error log"
srv_stop lighttpd "$dir"
