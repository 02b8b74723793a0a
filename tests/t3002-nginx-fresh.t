#!/bin/bash
# t3002-nginx-fresh: nginx with the library never serves a stale file.
#
# DESIGN.md invariant 4: a change to a file, or to the path leading to it,
# is seen by every request that starts 50 ms or more after the change.
# The steps are tests/tap/fresh.sh's (edits, renames, deletes, chmod of
# the file and its directory, a re-pointed symlink), each repeated for a
# few rounds with new contents.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/fresh.sh"

tap_require "$nginx_bin" curl sha256sum
tap_require_lib

rounds=3

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
fresh_init "$port" "$dir/www" "$dir/work"
# nginx's try_files cannot stat through the directory and falls through
# to =404 (logging the EACCES at level crit).
fresh_unsearchable=404

plan $(( rounds * fresh_per_round + 3 ))

nginx_start_with "$dir"

for ((r = 1; r <= rounds; r++)); do
	fresh_round "$r"
done

is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker (it never crashed)"
is "$(grep -E '\[(alert|emerg)\]' "$dir/error.log")" "" \
	"no [alert] or [emerg] in the error log"
nginx_stop "$dir"
