#!/bin/bash
# t3100-servers-control: tests/tap/servers.sh starts and stops every server
# of tests/servers/.
#
# Each kind of server is started without and with the library: it must
# answer a GET with the file, have the library mapped in every serving
# process exactly when asked to, and leave no process, no listener and no
# stats segment behind once srv_stop returns. With the library, it must
# answer right while paused and after resume (sendcache-ctl). Apache must probe .htaccess
# in every directory from / down to the file (what its tests rely on).

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/servers.sh"

tap_require curl strace
srv_require "${srv_kinds[@]}"
tap_require_lib

# Tests per kind and mode: starts, answers, library mapped or not, stop
# leaves no process, no listener, no segment.
per_run=6
# With the library, two more: paused, resumed.
plan $(( ${#srv_kinds[@]} * (2 * per_run + 2) + 1 ))
ctl=$tap_build/sendcache-ctl

# no_lib_in PID...: succeeds when none of the processes maps the library.
no_lib_in() {
	local pid
	for pid in "$@"; do
		srv_has_lib "$pid" && return 1
	done
	return 0
}

# not_listening PORT: succeeds when nothing listens on PORT.
not_listening() { ! tap_listening "$1"; }

for kind in "${srv_kinds[@]}"; do
	for mode in without with; do
		dir=$(tap_tmpdir)
		port=$(tap_free_port)
		srv_conf "$kind" "$dir" "$port"
		echo "hello from $kind $mode" >"$dir/www/index.html"
		if ! ok "$kind $mode: starts" srv_start "$kind" "$dir" "$mode"; then
			extra=0
			[[ $mode == with ]] && extra=2
			skip "$kind did not start" $((per_run - 1 + extra))
			continue
		fi
		main=$SRV_PID
		mapfile -t serving < <(srv_serving_pids "$kind" "$dir")
		is "$(curl -sk --max-time 10 "$(srv_url "$kind" "$port")/index.html")" \
			"hello from $kind $mode" "$kind $mode: GET /index.html"
		if [[ $mode == with ]]; then
			srv_ok_lib "$kind" "$dir" "$kind with"
			gen=0
			for step in pause resume; do
				gen=$((gen + 2))
				out=$("$ctl" -n "$SRV_STATS_NAME" "$step" 2>&1)$'\n'
				out+=$(curl -sk --max-time 10 "$(srv_url "$kind" "$port")/index.html")
				is "$out" "$SRV_STATS_NAME: $step, generation $gen"$'\n'"hello from $kind $mode" \
					"$kind with: sendcache-ctl $step, then GET /index.html"
			done
		else
			ok "$kind without: the library is not mapped" \
				no_lib_in "$main" "${serving[@]}"
		fi
		name=$SRV_STATS_NAME
		srv_stop "$kind" "$dir"
		ok "$kind $mode: no process left (pids $main ${serving[*]})" \
			srv_none_alive "$kind" "$dir" "$main" "${serving[@]}"
		ok "$kind $mode: nothing listens on port $port" \
			not_listening "$port"
		ok "$kind $mode: no stats segment left" \
			test ! -e "/dev/shm/sendcache.${name:-none-expected}"
	done
done

# Apache looks for .htaccess from / down: one failing open per level.
dir=$(tap_tmpdir)
port=$(tap_free_port)
srv_conf apache-event "$dir" "$port" 'StartServers 1'
mkdir -p "$dir/www/sub"
echo probe >"$dir/www/sub/p.txt"
srv_start apache-event "$dir" without || bail_out "Apache did not start"
mapfile -t serving < <(srv_serving_pids apache-event "$dir")
strace -f -qq -e trace=openat -o "$dir/strace.out" \
	$(printf -- '-p %s ' "${serving[@]}") &
strace_pid=$!
tap_at_exit kill "$strace_pid"
sleep 0.5   # strace attaches to every thread first
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$port/sub/p.txt"
sleep 0.2
kill "$strace_pid"
wait "$strace_pid" 2>/dev/null
want=
d=$dir/www/sub
while :; do
	want="${d%/}/.htaccess"$'\n'$want
	[[ $d == / ]] && break
	d=$(dirname "$d")
done
is "$(sed -n 's/.*openat(AT_FDCWD, "\(.*\.htaccess\)".*ENOENT.*/\1/p' "$dir/strace.out")" \
	"${want%$'\n'}" "Apache probes .htaccess in every directory from / to /sub"
srv_stop apache-event "$dir"
