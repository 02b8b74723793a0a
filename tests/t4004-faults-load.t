#!/bin/bash
# t4004-faults-load: nginx, lighttpd and Apache event with the library,
# under wrk load, while their files are renamed over, rewritten in place,
# truncated and deleted every 100 ms: every byte served is right, nothing
# crashes, and every change is served 50 ms later.
#
# DESIGN.md invariants 1, 4 and 5 under load. tests/helpers/faultload.py
# runs wrk (100 connections, one thread), the fault loop and checker
# clients that check every response they get (status, Content-Length,
# body against every version of the file) for FAULT_SECONDS (default 6 per
# server and run, to keep this test near a minute; FAULT_SECONDS=30 is the
# longer run). Each server first runs the same load and faults without
# the library: the failure kinds it shows (404 while a file is deleted, a
# body that raced an in-place write) are the only ones the library may
# show, besides the races faultload.py lists (RACES: a fault that lands
# between a server's stat and its send, which a short run without the
# library may miss), and none much more often (faultload.py more_often:
# at most 3 times the share without, plus 2% of the file's responses).
# With the library: no wrong byte, no new failure kind, every freshness
# check (each file 50 ms after each tick's last change, and once after the
# faults stop) answers the latest version, the serving processes are the
# same pids and no log tells of a signal. FAULT_SECONDS=6 makes the whole
# test 45-70 s on 2 cores.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/servers.sh"

tap_require "$nginx_bin" wrk python3
srv_require lighttpd apache-event
tap_require_lib

seconds=${FAULT_SECONDS:-6}
faultload=$here/helpers/faultload.py
servers=(${FAULT_SERVERS:-nginx lighttpd apache-event})
per_server=11

plan $(( ${#servers[@]} * per_server ))

# val FILE KEY: the value of "KEY value" in faultload's output FILE.
val() { sed -n "s/^$2 //p" "$1" | head -n 1; }

# start KIND DIR with|without: start the server; its serving pids in $pids.
start() {
	srv_start "$1" "$2" "$3" || bail_out "$1 ($3 the library) did not start"
	pids=$(watched "$1" "$2")
}

# watched KIND DIR: the pids that must live through the load, one line.
# Apache starts and retires children as the load comes and goes: its main
# process must live, and a child killed by a signal is in its error log
# (signals below).
watched() {
	if [[ $1 == apache-* ]]; then
		echo "$(srv_main_pid "$1" "$2") "
	else
		srv_serving_pids "$1" "$2" | sort -n | tr '\n' ' '
	fi
}

# alive KIND DIR PIDS: every pid in PIDS still serves.
alive() {
	local now pid
	now=" $(watched "$1" "$2")"
	for pid in $3; do
		[[ $now == *" $pid "* ]] || { echo "pid $pid is gone; now:$now"; return 1; }
	done
}

# signals DIR: error log lines that tell of a process killed by a signal.
signals() { grep -hiE 'signal|SIGBUS|bus error' "$1"/error.log* 2>/dev/null; }

stop() { srv_stop "$1" "$2"; }

# run KIND DIR LABEL [BASELINE]: faultload against the running server;
# its output in DIR/LABEL.out, its result in DIR/LABEL.json.
run() {
	python3 "$faultload" run --www "$2/www" --port "$port" --seconds "$seconds" \
		--json "$2/$3.json" ${4:+--baseline "$4"} >"$2/$3.out" 2>&1
}

for kind in "${servers[@]}"; do
	dir=$(tap_tmpdir)
	port=$(tap_free_port)
	# lighttpd's own stat cache would serve a deleted or changed file for
	# up to a second; disabled, plain lighttpd is fresh within the bound
	# (as in t3102).
	case $kind in
	lighttpd) srv_conf "$kind" "$dir" "$port" 'server.stat-cache-engine = "disable"' ;;
	apache-*) srv_conf "$kind" "$dir" "$port" "${FAULT_APACHE_EXTRA-}" ;;
	*)        srv_conf "$kind" "$dir" "$port" ;;
	esac
	python3 "$faultload" init "$dir/www" || bail_out "faultload.py init failed"

	# Without the library: the failure kinds this server shows.
	start "$kind" "$dir" without
	run "$kind" "$dir" plain
	plain_ok=$?
	stop "$kind" "$dir"
	for f in error.log access.log; do [[ -e $dir/$f ]] && mv "$dir/$f" "$dir/plain.$f"; done
	if (( plain_ok != 0 )) || [[ $(val "$dir/plain.out" wrong_bytes) != 0 ]]; then
		diag "$kind without the library:" "$(cat "$dir/plain.out")"
	fi
	diag "$kind without the library: $(val "$dir/plain.out" checked) responses checked," \
		"$(grep '^kinds ' "$dir/plain.out")"

	start "$kind" "$dir" with
	srv_ok_lib "$kind" "$dir" "$kind"
	run "$kind" "$dir" with "$dir/plain.json"
	ok "$kind: faultload ran to the end" test $? = 0 ||
		diag "$(tail -n 20 "$dir/with.out")"
	out=$dir/with.out
	diag "$kind with the library: $(val "$out" checked) responses checked," \
		"$(val "$out" faults) faults applied, $(val "$out" wrk_requests) wrk requests," \
		"wrong bytes $(val "$out" wrong_bytes), $(val "$out" fresh_checked) freshness checks," \
		"$(grep '^kinds ' "$out")"
	like "$(val "$out" checked)" '^[1-9][0-9]+$' "$kind: the checkers got responses"
	is "$(val "$out" wrong_bytes) $(val "$out" wrong_responses)" "0 0" \
		"$kind: no wrong byte, no response out of step" ||
		diag "$(grep '^example' "$out")"
	is "$(val "$out" new_kinds)" none \
		"$kind: no failure kind the server does not show without the library"
	# Answers up to SENDCACHE_CHECK_MS old made Apache fail 3-6% of the
	# requests for a file changed under it (0.05% without the library)
	# until names changed lately were checked at each lookup.
	is "$(val "$out" more_often)" none \
		"$kind: no failure kind much more often than without the library"
	# A thread of the library that deadlocked on its own cache lock (it
	# freed a mapping with its own munmap while Apache held one) left
	# Apache's requests unanswered under these faults.
	is "$(val "$out" timeouts)" 0 "$kind: no request left unanswered (10 s)"
	is "$(val "$out" stale) $(val "$out" final_stale)" "0 0" \
		"$kind: every file 50 ms after its last change is the latest version" ||
		diag "$(grep '^stale_example' "$out")"
	like "$(val "$out" wrk_requests) $(val "$out" wrk_rc)" '^[1-9][0-9]* 0$' \
		"$kind: wrk ran its load"
	ok "$kind: the serving processes ($pids) never died" alive "$kind" "$dir" "$pids"
	is "$(signals "$dir")" "" "$kind: no process killed by a signal in the logs"
	[[ -n ${FAULT_KEEP-} ]] && cp -a "$dir" "$FAULT_KEEP.$kind"
	stop "$kind" "$dir"
done
