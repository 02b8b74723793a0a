#!/bin/bash
# t3007-nginx-ctl: sendcache-ctl purge, pause, resume and prewarm on a
# running nginx.
#
# - purge's contract: a request that starts after `sendcache-ctl purge`
#   returned is never answered from bytes cached before it. A file is
#   replaced and purged every 10 ms while two clients fetch it on
#   keep-alive connections (tests/helpers/purgeload.py); no request that
#   started after a purge returned may get an older version. inotify is
#   off and revalidation at its slowest (40 ms), so that without the
#   purges the clients do see old versions: the control run shows the
#   check can fail.
# - pause: nginx's worker makes as many system calls per request as
#   without the library (strace -c, within one request's worth), the
#   counters count the calls passed; resume brings the cached count back
#   (within the one miss that caches the file again).
# - prewarm: a worker caches the files of a directory at its next idle
#   point and serves them as hits, and so does a worker started later; a
#   list file others can write is refused; a worker running as root does
#   not prewarm.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/syscalls.sh"

tap_require "$nginx_bin" curl strace python3
tap_require_lib
[[ ${TAP_NO_PRELOAD:-0} == 1 ]] && skip_all "TAP_NO_PRELOAD=1: nothing to control"

ctl=$tap_build/sendcache-ctl
stat=$tap_build/sendcache-stat
[[ -x $ctl && -x $stat ]] || bail_out "build/sendcache-ctl or sendcache-stat missing (run make)"

requests=200
dir=$(tap_tmpdir)
port=$(tap_free_port)
name=ctl-$port-$$
nginx_conf "$dir" "$port"
python3 -c "import sys; sys.path.insert(0, '$here/helpers'); import purgeload
open('$dir/www/v.bin', 'wb').write(purgeload.body(1))"
head -c 1024 /dev/urandom >"$dir/www/f1k.bin"
mkdir -p "$dir/www/warm"
for i in $(seq 1 30); do
	echo "warm file $i" >"$dir/www/warm/w$i.html"
done
nginx_www_perms "$dir"
url=http://127.0.0.1:$port

plan 27

# counter PID NAME: one counter of process PID's slot.
counter() {
	"$stat" -n "$name" -p "$1" -1 | awk -v n="$2" '$1 == n { print $2 }'
}

# status_of PID: the STATE column of PID's line in sendcache-ctl status.
status_of() {
	"$ctl" -n "$name" status | awk -v p="$1" '$1 == p { $1 = ""; $2 = ""; sub(/^ +/, ""); print }'
}

# --- the baseline: nginx's own system calls per request -------------------
nginx_start "$dir" without || bail_out "nginx without the library did not start"
curl -s -o /dev/null "$url/f1k.bin"
ok "without the library: $requests keep-alive GETs counted by strace" \
	sc_count nginx "$dir" "$url/f1k.bin" "$requests" "$dir/strace.without"
nginx_stop "$dir"
without=$(sc_calls "$dir/strace.without" total)
# One request's worth of calls, rounded up: the tolerance.
one=$(( (without + requests - 1) / requests ))

# --- purge under load --------------------------------------------------------
export SENDCACHE_STATS_NAME=$name SENDCACHE_INOTIFY=0 SENDCACHE_REVALIDATE_MS=40
nginx_start_with "$dir"
unset SENDCACHE_STATS_NAME SENDCACHE_INOTIFY SENDCACHE_REVALIDATE_MS

read -r _ checked _ stale _ purges _ failed < <(python3 "$here/helpers/purgeload.py" \
	"$port" /v.bin "$dir/www/v.bin" "$ctl" "$name" 4 2)
note "purge every 10 ms: $checked requests started after a purge returned, $stale got older bytes; $purges purges"
ok "at least 10,000 requests checked (got $checked)" test "${checked:-0}" -ge 10000
is "$stale" 0 "no request that started after a purge returned got bytes cached before it"
ok "a purge every 10 ms or so: at least 250 in 4 s (got $purges)" test "${purges:-0}" -ge 250
is "$failed" 0 "every response was a 200 with a version"
read -r _ cchecked _ cstale _ _ _ _ < <(python3 "$here/helpers/purgeload.py" \
	"$port" /v.bin "$dir/www/v.bin" "$ctl" "$name" 2 2 --no-purge)
note "control, no purges: $cstale of $cchecked requests got a version older than the file's"
ok "without the purges, old versions are served (the check above can fail)" \
	test "${cstale:-0}" -gt 0
like "$(status_of "$worker")" "^current" "the worker acknowledged the last generation"

# --- pause and resume, in the default configuration ------------------------------
nginx_stop "$dir"
export SENDCACHE_STATS_NAME=$name
nginx_start_with "$dir"
unset SENDCACHE_STATS_NAME
curl -s -o /dev/null "$url/f1k.bin" -o /dev/null "$url/f1k.bin"
ok "with the library: $requests GETs counted" \
	sc_count nginx "$dir" "$url/f1k.bin" "$requests" "$dir/strace.with"
with=$(sc_calls "$dir/strace.with" total)
"$ctl" -n "$name" pause >/dev/null
passed0=$(counter "$worker" pass_paused)
ok "paused: $requests GETs counted" \
	sc_count nginx "$dir" "$url/f1k.bin" "$requests" "$dir/strace.paused"
paused=$(sc_calls "$dir/strace.paused" total)
passed1=$(counter "$worker" pass_paused)
note "system calls for $requests requests: without $without, with $with, paused $paused"
ok "paused: as many system calls as without the library, within one request's ($one)" \
	test $(( paused > without ? paused - without : without - paused )) -le "$one"
ok "paused: the counters count the calls passed ($((passed1 - passed0)) for $requests requests)" \
	test $(( passed1 - passed0 )) -ge "$requests"
curl -s -o "$dir/got.paused" "$url/f1k.bin"
ok "paused: the file's bytes" cmp -s "$dir/got.paused" "$dir/www/f1k.bin"
like "$(status_of "$worker")" "^current, paused" "status: the worker is paused"
"$ctl" -n "$name" resume >/dev/null
ok "resumed: $requests GETs counted" \
	sc_count nginx "$dir" "$url/f1k.bin" "$requests" "$dir/strace.resumed"
resumed=$(sc_calls "$dir/strace.resumed" total)
note "resumed: $resumed system calls"
curl -s -o "$dir/got.resumed" "$url/f1k.bin"
ok "resumed: the file's bytes" cmp -s "$dir/got.resumed" "$dir/www/f1k.bin"
# The first request after resume caches the file again: a miss.
ok "resumed: as few system calls as before the pause, within two requests'" \
	test "$resumed" -le $(( with + 2 * one ))
ok "resumed: fewer system calls than without the library" test "$resumed" -lt "$without"

# --- prewarm ---------------------------------------------------------------------
"$ctl" -n "$name" prewarm "$dir/www/warm" >/dev/null
# The worker notices at its next call and prewarms at its next wait.
curl -s -o /dev/null "$url/f1k.bin"
curl -s -o /dev/null "$url/f1k.bin"
ok "prewarm: the worker cached the directory's 30 files" \
	test "$(counter "$worker" prewarmed)" -ge 30
hit0=$(counter "$worker" open_hit) miss0=$(counter "$worker" open_miss)
is "$(curl -s "$url/warm/w7.html")" "warm file 7" "a prewarmed file is served"
is "$(counter "$worker" open_miss):$(( $(counter "$worker" open_hit) - hit0 ))" "$miss0:1" \
	"... from the cache: a hit, no miss since the prewarm"

# A worker started later (nginx reloaded) prewarms at its first idle
# point: its master, root, did not, and passed the request on.
old_worker=$worker
kill -HUP "$NGINX_MASTER_PID"
for ((i = 0; i < 200; i++)); do
	worker=$(srv_serving_pids nginx "$dir" | grep -vx "$old_worker" | head -n 1)
	[[ -n $worker ]] && ! kill -0 "$old_worker" 2>/dev/null && break
	worker=
	sleep 0.05
done
[[ -n $worker ]] || bail_out "no new nginx worker 10 s after HUP"
# Past the new worker's first 40 ms, in which nothing it cached is kept.
sleep 0.1
curl -s -o /dev/null "$url/f1k.bin"
curl -s -o /dev/null "$url/f1k.bin"
ok "a worker started after the prewarm (reload) prewarms too" \
	test "$(counter "$worker" prewarmed)" -ge 30

# A list that others could have written is not read. Paused meanwhile, so
# that the worker cannot read the list before it is made writable.
warmed=$(counter "$worker" prewarmed)
"$ctl" -n "$name" pause >/dev/null
"$ctl" -n "$name" prewarm "$dir/www" >/dev/null
chmod 0666 "/dev/shm/sendcache-prewarm.$name"
"$ctl" -n "$name" resume >/dev/null
curl -s -o /dev/null "$url/f1k.bin"
curl -s -o /dev/null "$url/f1k.bin"
like "$(status_of "$worker")" "prewarm list refused" "a list others may write is refused"
is "$(counter "$worker" prewarmed)" "$warmed" "... and nothing was cached from it"
nginx_stop "$dir"

# --- a worker running as root opens nothing for a prewarm -------------------------
if (( EUID != 0 )); then
	skip "not root: nginx cannot run its worker as root" 2
	exit 0
fi
sed -i 's/^user www-data;/user root;/' "$dir/nginx.conf"
export SENDCACHE_STATS_NAME=$name
nginx_start "$dir" with || bail_out "nginx with user root did not start"
unset SENDCACHE_STATS_NAME
worker=$NGINX_WORKER_PID
"$ctl" -n "$name" prewarm "$dir/www/warm" >/dev/null
curl -s -o /dev/null "$url/f1k.bin"
curl -s -o /dev/null "$url/f1k.bin"
like "$(status_of "$worker")" "prewarm not done: runs as root" \
	"a worker running as root does not prewarm"
is "$(counter "$worker" prewarmed)" 0 "... and cached nothing for it"
nginx_stop "$dir"
