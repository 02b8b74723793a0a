# bench/lib/ab-servers.sh - the benchmarks' servers: tests/tap/servers.sh's
# kinds (one file per server under tests/servers/), plus nginx's two
# anchors, which are nginx with configuration of their own. Sourced by
# bench/ab.sh.

# bench_kind KIND: the server kind a benchmark KIND runs (nginx for the
# anchors nginx-mem and nginx-tuned, lighttpd for lighttpd-fds).
bench_kind() {
	case $1 in
	nginx-mem | nginx-tuned) echo nginx ;;
	lighttpd-fds) echo lighttpd ;;
	*) echo "$1" ;;
	esac
}

# lighttpd-fds: Debian's lighttpd with server.max-fds = 16384. Debian 12's
# lighttpd (1.4.69) sizes its event table at min(soft limit, 4096) slots,
# indexes it by descriptor, and keeps one descriptor open for every file
# of its stat cache: on a site of more than about 4,000 files under load
# its sockets are numbered past the table, and it crashes with or without
# the library (upstream since: the soft limit set to 4096, and EMFILE
# recovery, lighttpd issue #3308). With server.max-fds it sets the soft
# limit to that number and sizes the table to match; a site of 20,000
# files then holds (at 100,000, thousands of answers are 403s: its stat
# cache runs out of descriptors, with or without the library).
readonly LIGHTTPD_FDS_EXTRA='server.max-fds = 16384'

# bench_prop KIND NAME [DEFAULT]: the server file's srv_ID_NAME.
bench_prop() { srv_prop "$(bench_kind "$1")" "${@:2}"; }

# server_dir KIND: the directory of KIND's configuration, logs and document
# root (DIR/www, files hard-linked from the site: same inodes, same page
# cache for every server).
server_dir() {
	local dir=$TMP/srv/$1
	if [[ ! -e $dir/.site-linked ]]; then
		mkdir -p "$dir/www" && chmod 0755 "$dir" "$dir/www" &&
			cp -al "$TMP/site/." "$dir/www/" && : >"$dir/.site-linked" || return 1
	fi
	echo "$dir"
}

# url KIND PORT: the base URL of a server (HTTPS for nginx-tls).
url() { srv_url "$(bench_kind "$1")" "$2"; }

# bench_conf KIND DIR PORT: write KIND's configuration.
bench_conf() {
	local kind=$1 dir=$2 port=$3
	case $kind in
	nginx-tuned) srv_conf nginx "$dir" "$port" "$TUNED_EXTRA" ;;
	nginx-mem) srv_conf nginx "$dir" "$port" "$(mem_locations)" ;;
	lighttpd-fds) srv_conf lighttpd "$dir" "$port" "$LIGHTTPD_FDS_EXTRA" ;;
	*) srv_conf "$kind" "$dir" "$port" ;;
	esac
}

# bench_start KIND DIR MODE: start KIND on DIR, with the library when MODE
# is "with", its processes pinned to SERVER_CPU (they inherit this shell's
# affinity, set for the start only). Sets MAIN_PID.
bench_start() {
	local kind=$1 dir=$2 mode=$3 rc
	MAIN_PID=
	if [[ $mode == with ]] || { [[ $mode == without ]] && ((A_STATS_OFF)); }; then
		export SENDCACHE_STATS_NAME=$STATS_NAME
		[[ $mode == without ]] && export SENDCACHE_STATS=0
		# A server that forks a child per connection: a cache built in a
		# child dies with it, so the parent fills it before it forks.
		[[ $(bench_prop "$kind" forks_per_connection) == 1 ]] && ((PREWARM)) &&
			export SENDCACHE_PREWARM=$dir/www
		mode=with
	fi
	taskset -p -c "$SERVER_CPU" $$ >/dev/null
	srv_start "$(bench_kind "$kind")" "$dir" "$mode"
	rc=$?
	MAIN_PID=${SRV_PID-}
	taskset -p -c "$OWN_CPUS" $$ >/dev/null
	unset TAP_PRELOAD SENDCACHE_STATS_NAME SENDCACHE_STATS SENDCACHE_PREWARM
	return $rc
}

# bench_pids KIND DIR: the pids of the processes that serve requests.
bench_pids() { srv_serving_pids "$(bench_kind "$1")" "$2"; }

bench_stop() { srv_stop "$(bench_kind "$1")" "$2"; }

# pin_pids PID...: every thread of every PID on SERVER_CPU (a server that
# forks later passes the affinity on to its children).
pin_pids() {
	local pid
	for pid; do
		taskset -a -p -c "$SERVER_CPU" "$pid" >/dev/null 2>&1
	done
}

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }
