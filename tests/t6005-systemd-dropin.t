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
plan 13
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

# nginx's binary upgrade (kill -USR2) execs a new master with nginx's own
# environment: only "env LD_PRELOAD;" (and "env SENDCACHE_...;" for each
# variable) in nginx.conf keeps the library and its settings there
# (README, "nginx under systemd"). upgrade N CONF_LINES: starts nginx
# with the drop-in's environment and CONF_LINES in the main context,
# upgrades, lets the old master go, and prints how many of the new master
# and its worker have the library, and how many processes count in the
# service's instance.
upgrade() {
	local d=$dir/up$1 old new worker n=0 pid live
	port=$(tap_free_port)
	nginx_conf "$d" "$port"
	sed -i "s|^worker_processes 1;|worker_processes 1;\n$2|" "$d/nginx.conf"
	echo up >"$d/www/index.html"
	nginx_www_perms "$d"
	env -i PATH="$PATH" "${env[@]}" /usr/sbin/nginx -p "$d" -c "$d/nginx.conf" \
		-e "$d/error.log" </dev/null >"$d/out" 2>&1
	tap_wait_port "$port"
	old=$(cat "$d/nginx.pid")
	kill -USR2 "$old"
	for _ in $(seq 100); do
		new=$(cat "$d/nginx.pid" 2>/dev/null)
		[[ -n $new && $new != "$old" && -e $d/nginx.pid.oldbin ]] && break
		sleep 0.05
	done
	for _ in $(seq 100); do
		worker=$(pgrep -P "$new" | head -1)
		[[ -n $worker ]] && break
		sleep 0.05
	done
	for pid in $new $worker; do
		grep -q libsendcache "/proc/$pid/maps" 2>/dev/null && n=$((n + 1))
	done
	kill -QUIT "$old"
	for _ in $(seq 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.05; done
	curl -fs "http://127.0.0.1:$port/index.html" >/dev/null || n="$n, no answer"
	live=$("$tap_build/sendcache-stat" -1 -n "$svc" 2>/dev/null |
		awk '/^processes:/ { print $2 }')
	nginx_stop "$d"
	echo "$n ${live:-none}"
}
is "$(upgrade 1 'env LD_PRELOAD; env SENDCACHE_STATS_NAME;')" "2 2" \
	"after kill -USR2, with 'env LD_PRELOAD; env SENDCACHE_STATS_NAME;', the new master and worker have the library, in the service's instance"
# The old master leaves its segment (0 live) to the next sweep: at its
# exit it had a child, the new master, so it could not know it was last.
rm -f "/dev/shm/sendcache.$svc"
is "$(upgrade 2 'env LD_PRELOAD;')" "2 0" \
	"with 'env LD_PRELOAD;' alone they have it, in an instance of their own"
rm -f "/dev/shm/sendcache.$svc"
is "$(upgrade 3 '')" "0 0" "without it they have not (why the README says so)"
