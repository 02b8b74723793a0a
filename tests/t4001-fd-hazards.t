#!/bin/bash
# t4001-fd-hazards: descriptors closed or replaced behind the library's back
# never make a server send another file's bytes.
#
# DESIGN.md invariant 6. build/tests/fdserver serves files the way nginx
# does and, after every third response, closes or replaces the descriptors
# it did not open itself (the library's): close_range, closefrom, dup2 of
# /dev/null onto them, syscall(SYS_close), and syscall(SYS_close) with the
# numbers opened again at once. Hundreds of keep-alive requests for files
# of many sizes (merged writev and sendfile paths) must each come back with
# the file's own bytes (cmp), as they do without the library; the
# server must survive; every hazard must have hit descriptors of ours; and
# the library must have noticed (fd_lost) and kept serving from its cache.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"

tap_require curl sha256sum
tap_require_lib
server=$tap_build/tests/fdserver
[[ -x $server ]] || bail_out "$server is not built (make test builds it)"

nfiles=40
passes=2           # rounds over the files per client run
repeat=3           # requests in a row for each file: a miss, then hits
clients=3          # curl runs, each one keep-alive connection
every=3            # a hazard after every third response: hits in between

dir=$(tap_tmpdir)
www=$dir/www
work=$dir/work
mkdir -p "$www" "$work"
files=()
for ((i = 0; i < nfiles; i++)); do
	# 1 B to about 300 KiB: both sides of the 128 KiB merge limit.
	size=$(( (i * i * 193 + 1) % 300000 + 1 ))
	head -c "$size" /dev/urandom >"$www/f$i.bin"
	files+=("f$i.bin")
done

# start_server MODE: fdserver on a fresh port, with the library if MODE
# is "with". Sets port and pid.
start_server() {
	local -a env=(env -u LD_PRELOAD)
	port=$(tap_free_port)
	[[ $1 == with ]] && env+=("LD_PRELOAD=$tap_preload"
		"SENDCACHE_STATS=0" "SENDCACHE_STATS_FILE=$work/stats")
	"${env[@]}" "$server" "$port" "$www" "$every" 2>"$work/server.$1.err" &
	pid=$!
	tap_at_exit kill "$pid"
	tap_wait_port "$port" || bail_out "fdserver did not listen on $port"
}

# stop_server: TERM, and wait for it (its exit writes the counters).
stop_server() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	server_rc=$?
}

# client N: one curl run, one connection, every file $passes x $repeat
# times in an order of its own; prints each request whose body is wrong.
client() {
	local n=$1 cfg=$work/c$1.cfg i f r x order=()
	: >"$cfg"
	for ((p = 0; p < passes; p++)); do
		for ((i = 0; i < nfiles; i++)); do
			x=$(( (i * 7 + p * 13 + n * 5) % nfiles ))
			for ((r = 0; r < repeat; r++)); do
				order+=("$x")
			done
		done
	done
	for ((i = 0; i < ${#order[@]}; i++)); do
		printf 'url = "http://127.0.0.1:%s/%s"\noutput = "%s/r%d.%d"\n' \
			"$port" "${files[order[i]]}" "$work" "$n" "$i" >>"$cfg"
	done
	i=0
	while read -r code; do
		f=${files[order[i]]}
		if [[ $code != 200 ]] || ! cmp -s "$work/r$n.$i" "$www/$f"; then
			echo "/$f ($code, request $i of client $n)"
		fi
		rm -f "$work/r$n.$i"
		i=$((i + 1))
	done < <(curl -s --max-time 60 -K "$cfg" -w '%{http_code}\n')
	(( i == ${#order[@]} )) || echo "client $n: only $i of ${#order[@]} responses"
}

all_clients() {
	local n
	for ((n = 0; n < clients; n++)); do
		client "$n"
	done
}

total=$(( nfiles * passes * repeat * clients ))
plan 8

start_server without
is "$(all_clients)" "" "without the library: $total responses, each the file's bytes"
stop_server

start_server with
bad=$(all_clients)
is "$bad" "" "with the library: $total responses, each the file's bytes"
[[ -n $bad ]] && diag "$(head -n 20 "$work/server.with.err")"
ok "the server is still running" kill -0 "$pid"
stop_server
is "$server_rc" 0 "and exits normally"

# Every kind of hazard hit descriptors the server had not opened.
missed=$(awk '/hazard/ && $NF == "descriptors" && $(NF - 2) == 0 { print $3 }' \
	"$work/server.with.err")
kinds=$(grep -c 'hazard .* hit [1-9][0-9]* foreign' "$work/server.with.err")
is "$kinds${missed:+ (missed: $missed)}" 5 "each of the 5 hazards hit descriptors of the library"
note "$(cat "$work/server.with.err")"

lost=$(awk '$1 == "fd_lost" { print $2 }' "$work/stats")
hits=$(awk '$1 == "open_hit" { print $2 }' "$work/stats")
ok "the library noticed descriptors lost behind its back (fd_lost=$lost)" \
	test "${lost:-0}" -gt 0
ok "and served from its cache after them (open_hit=$hits)" \
	test "${hits:-0}" -gt $(( total / 4 ))
is "$(grep -c 'sendfile' "$work/server.with.err")" 0 "no sendfile failed in the server"
