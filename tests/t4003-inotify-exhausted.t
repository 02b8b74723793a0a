#!/bin/bash
# t4003-inotify-exhausted: with no inotify watch to be had, nginx with the
# library still serves every change within the freshness bound.
#
# DESIGN.md invariants 2 and 4: when inotify cannot watch a directory
# (fs.inotify.max_user_watches exhausted: inotify_add_watch fails with
# ENOSPC), the library counts it (watch_fail) and revalidates those files
# by stat every SENDCACHE_REVALIDATE_MS; a request 50 ms after a change
# must see it. The exhaustion is simulated by build/tests/libnowatch.so,
# preloaded after the library, so the machine's shared limit is left
# alone. Each round caches a file, then edits it in place, replaces it by
# rename, deletes and recreates it, makes it unreadable and readable
# again, and requests it twice exactly 50 ms after each change.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl sha256sum
tap_require_lib
nowatch=$tap_build/tests/libnowatch.so
[[ -f $nowatch ]] || bail_out "$nowatch is not built (make test builds it)"

fresh_after=0.05
rounds=3
per_round=14

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
www=$dir/www
work=$dir/work
mkdir -p "$work" "$www/sub"
: >"$work/stats"
chmod 0666 "$work/stats"

sha() { local s; s=$(sha256sum "$1") || return 1; echo "${s%% *}"; }
served() { echo "200 $(sha "$1")"; }
fetch() {
	local code
	rm -f "$work/body"
	code=$(curl -s --max-time 10 -o "$work/body" -w '%{http_code}' \
		"http://127.0.0.1:$port$1")
	if [[ $code == 200 ]]; then echo "$code $(sha "$work/body")"; else echo "$code"; fi
}
twice() {
	is "$(fetch "$2")" "$3" "$1"
	is "$(fetch "$2")" "$3" "$1 (again)"
}
after_change() { sleep "$fresh_after"; twice "$@"; }
new_bytes() { head -c "$2" /dev/urandom >"$1"; chmod 0644 "$1"; }

f=$www/sub/a.bin
new_bytes "$f" 3000
nginx_www_perms "$dir"

round() {
	local r=$1
	twice "round $r: /sub/a.bin cached" /sub/a.bin "$(served "$f")"
	new_bytes "$work/c" 3000
	dd if="$work/c" of="$f" conv=notrunc status=none
	after_change "round $r: edited in place, same size" /sub/a.bin "$(served "$f")"
	new_bytes "$www/sub/.a.new" $((2000 + r * 100))
	mv -f "$www/sub/.a.new" "$f"
	after_change "round $r: replaced by rename" /sub/a.bin "$(served "$f")"
	rm -f "$f"
	after_change "round $r: deleted" /sub/a.bin 404
	new_bytes "$f" 2500
	after_change "round $r: recreated" /sub/a.bin "$(served "$f")"
	chmod 000 "$f"
	after_change "round $r: made unreadable" /sub/a.bin 403
	chmod 0644 "$f"
	after_change "round $r: readable again" /sub/a.bin "$(served "$f")"
}

plan $(( rounds * per_round + 6 ))

plain_preload=$tap_preload
tap_preload="$tap_preload $nowatch"
SENDCACHE_STATS_FILE=$work/stats nginx_start_with "$dir"
tap_preload=$plain_preload
for ((r = 1; r <= rounds; r++)); do
	round "$r"
done
is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker"
nginx_stop "$dir"

counter() { awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }' "$work/stats"; }
ok "no directory could be watched (watch_fail=$(counter watch_fail))" \
	test "$(counter watch_fail)" -gt 0
ok "freshness came from stat revalidation (inval_revalidate=$(counter inval_revalidate))" \
	test "$(counter inval_revalidate)" -gt 0
ok "and the cache still served hits (open_hit=$(counter open_hit))" \
	test "$(counter open_hit)" -gt 0
lines=$(cat "$dir/server.out" "$dir/error.log" | grep -c 'sendcache:')
ok "at most one line about it on stderr, not one per directory ($lines)" \
	test "$lines" -le 1
