#!/usr/bin/env bash
# t6005-systemd-dropin: sendcache-run --print-systemd-dropin SERVICE prints
# a drop-in that loads the library with the options given, names the
# instance after the service and sets a LimitNOFILE that fits the budget;
# systemd-analyze verify accepts it (where the tool exists); and nginx
# started with its Environment= lines has the library, in that instance.
. "$(dirname "$0")/tap/tap.sh"
. "$(dirname "$0")/tap/nginx.sh"
tap_require_lib
if [[ $tap_preload != "$tap_lib" ]]; then
	skip_all "sendcache-run cannot put TAP_PRELOAD's sanitizer runtime first"
fi
plan 10
tap_require curl
run=$tap_top/scripts/sendcache-run
dir=$(tap_tmpdir)
svc=t6005-$$

out=$("$run" --lib "$tap_lib" --max-fds 20000 --max-mapped 512M \
	--print-systemd-dropin "$svc" 2>&1)
is "$?" 0 "a drop-in is printed"
is "$(grep -v '^#' <<<"$out")" "[Service]
Environment=\"LD_PRELOAD=$tap_lib\"
Environment=\"SENDCACHE_MAX_FDS=20000\"
Environment=\"SENDCACHE_MAX_MAPPED=512M\"
Environment=\"SENDCACHE_STATS_NAME=$svc\"
LimitNOFILE=80000" "the library, the options, the instance and four times the budget"
is "$("$run" --lib "$tap_lib" --print-systemd-dropin nginx | grep '^LimitNOFILE')" \
	"LimitNOFILE=65536" "the default budget: 65536 descriptors"
like "$(SENDCACHE_PREWARM='/w%w"x' "$run" --lib "$tap_lib" --print-systemd-dropin nginx)" \
	'Environment="SENDCACHE_PREWARM=/w%%w\\"x"' "% doubled and \" escaped in a value"
out=$("$run" --lib "$tap_lib" --print-systemd-dropin 'a b' 2>&1)
is "$?:$(wc -l <<<"$out")" "2:1" "a bad service name: exit 2, one line ($out)"

# systemd's own reading of it, beside a minimal unit of that name.
"$run" --lib "$tap_lib" --max-fds 20000 --print-systemd-dropin "$svc" \
	>"$dir/sendcache.conf"
mkdir -p "$dir/units/$svc.service.d"
printf '[Unit]\nDescription=%s\n[Service]\nExecStart=/usr/sbin/nginx\n' "$svc" \
	>"$dir/units/$svc.service"
cp "$dir/sendcache.conf" "$dir/units/$svc.service.d/"
if command -v systemd-analyze >/dev/null; then
	verify() {
		SYSTEMD_UNIT_PATH="$dir/units:" timeout 60 systemd-analyze verify \
			"$dir/units/$svc.service" 2>&1
	}
	is "$(verify)" "" "systemd-analyze verify: no complaint"
	echo 'LimitNOFILE=many' >>"$dir/units/$svc.service.d/sendcache.conf"
	like "$(verify)" "sendcache.conf:[0-9]+: .*many" "and it reads the drop-in (a bad line is reported)"
else
	skip "systemd-analyze is not installed" 2
fi

# nginx with the drop-in's environment: the library is in the master and
# the worker, counting in the instance named after the service.
port=$(tap_free_port)
nginx_conf "$dir/ng" "$port"
echo hello >"$dir/ng/www/index.html"
nginx_www_perms "$dir/ng"
tap_at_exit rm -f "/dev/shm/sendcache.$svc"
env=()
while IFS= read -r line; do
	line=${line#Environment=\"}
	env+=("${line%\"}")
done < <(grep '^Environment=' "$dir/sendcache.conf")
env -i PATH="$PATH" "${env[@]}" /usr/sbin/nginx -p "$dir/ng" -c "$dir/ng/nginx.conf" \
	-e "$dir/ng/error.log" </dev/null >"$dir/ng.out" 2>&1
tap_at_exit nginx_stop "$dir/ng"
tap_wait_port "$port"
is "$(curl -fs "http://127.0.0.1:$port/index.html")" "hello" "nginx serves"
like "$("$tap_build/sendcache-stat" -1 -n "$svc")" "processes: 2 live" \
	"its master and worker count in the instance named after the service"
nginx_stop "$dir/ng"
for _ in $(seq 50); do [[ -e /dev/shm/sendcache.$svc ]] || break; sleep 0.1; done
ok "the instance's segment is gone with its last process" test ! -e "/dev/shm/sendcache.$svc"
