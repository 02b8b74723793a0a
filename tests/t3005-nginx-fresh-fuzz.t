#!/bin/bash
# t3005-nginx-fresh-fuzz: the differential freshness fuzzer of t4009 with
# requests for lookups. Two nginx (Debian's configuration) serve one
# document root, one with the library and one without; the fuzzer, as
# nobody, makes random renames, directory swaps, symlinks, hard links,
# chmods and rewrites there, and after each batch asks both servers for
# every path: status, ETag and body must be the same.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" setpriv
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"
fuzz=$tap_build/tests/freshfuzz
[[ -x $fuzz ]] || bail_out "$fuzz is not built (make test builds it)"
fuzz=$(tap_public "$fuzz") || bail_out "cannot copy $fuzz where nobody reaches it"

seeds=(21 22)
ops=3000
plan $(( ${#seeds[@]} + 6 ))  # + nginx_start_with's own

with=$(tap_tmpdir)
without=$(tap_tmpdir)
port_with=$(tap_free_port)
nginx_conf "$with" "$port_with"
port_without=$(tap_free_port)
while [[ $port_without == "$port_with" ]]; do port_without=$(tap_free_port); done
nginx_conf "$without" "$port_without"
# One document root: the first's, the fuzzer's tree.
sed -i "s|root $without/www;|root $with/www;|" "$without/nginx.conf"
root=$with/www
chown nobody "$root"

# The library's intervals cut to 1 ms, as in t4009; 10 ms after a batch.
name=t3005-$$
tap_at_exit rm -f "/dev/shm/sendcache.$name"
SENDCACHE_STATS_NAME=$name SENDCACHE_CHECK_MS=1 SENDCACHE_REVALIDATE_MS=1 \
	nginx_start_with "$with"
with_master=$NGINX_MASTER_PID with_worker=$worker
nginx_start "$without" || bail_out "nginx without the library did not start"

for seed in "${seeds[@]}"; do
	find "$root" -mindepth 1 -delete
	if setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env FUZZ_HTTP="$port_with,$port_without" \
		"$fuzz" "$root" "$seed" "$ops" 10 16 >"$with/out" 2>&1; then
		pass "seed $seed: $ops operations, every request answered as without the library"
	else
		fail "seed $seed: a request is answered otherwise with the library"
		diag "$(head -n 60 "$with/out")"
	fi
done

is "$(nginx_worker_pids "$with_master" | tr '\n' ' ')" "$with_worker " \
	"the worker with the library is still pid $with_worker (it never crashed)"
hits=$("$stat_cli" -1 -n "$name" 2>/dev/null | awk '$1 == "open_hit" { print $2 }')
if (( ${hits:-0} > 100 )); then
	pass "the library answered opens from its cache ($hits open_hit)"
else
	fail "the library answered opens from its cache (open_hit '$hits')"
fi

# It can fail: without the wait, a server with events read every 40 ms
# is allowed to be behind, and the fuzzer must say so.
nginx_stop "$with"
SENDCACHE_STATS_NAME=$name SENDCACHE_CHECK_MS=40 SENDCACHE_REVALIDATE_MS=40 \
	nginx_start "$with" with || bail_out "nginx with the library did not restart"
find "$root" -mindepth 1 -delete
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env FUZZ_HTTP="$port_with,$port_without" \
	"$fuzz" "$root" 9 3000 0 16 >"$with/out" 2>&1
is "$?" 1 "with no wait and a 40 ms interval the fuzzer finds nginx behind (exit 1)"
like "$(head -n 1 "$with/out")" "GET /[abc/]+ differs" "and names the request"

is "$(grep -E '\[(alert|emerg)\]' "$with/error.log")" "" \
	"no [alert] or [emerg] in the error log"
nginx_stop "$with"
nginx_stop "$without"
