#!/bin/bash
# t4007-procs: processes and threads around a cache that is in use.
#
# DESIGN.md invariant 7.
# - nginx with "aio threads;" (sendfile then runs in its thread pool) and
#   sendfile on serves 1 KiB, 200 KiB and 4 MiB files to 8 concurrent
#   keep-alive connections: every body is the file's bytes and every
#   header set (but Date) is plain nginx's.
# - build/tests/spawner, with the library preloaded, caches three files,
#   then runs /bin/cat on each through posix_spawn and through vfork +
#   dup2 + execve: the child's output is the file, its exit status 0, and
#   `ls -l /proc/self/fd` in such a child shows none of the library's
#   descriptors (cached files, inotify). The parent then still reads the
#   right bytes and sees a file rewritten in place and one replaced by a
#   rename 50 ms later.
# - spawner forks 50 times while 4 threads open/fstat/read/close cached
#   files and look up missing names (misses hold the cache's lock): each
#   child reads cached files and checks their bytes, bounded by 5 s (a
#   child stuck on a lock held by a thread that did not follow it into the
#   child is a deadlock); none fails, none hangs. Without the library's
#   pthread_atfork handlers about 20 of the 50 children hang.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl cmp /bin/cat /bin/ls
tap_require_lib
spawner=$tap_build/tests/spawner
[[ -x $spawner ]] || bail_out "$spawner is not built (make test builds it)"

forks=50
clients=8          # concurrent curl runs, one keep-alive connection each
repeat=4           # each file this many times per connection
sizes=(1024 204800 4194304)

dir=$(tap_tmpdir)
work=$dir/work
mkdir -p "$work"

spawn_keys=(warm spawn_parent_after vfork_parent_after
	fresh_inplace fresh_rename fresh_untouched)
for how in spawn vfork; do
	for f in 0 1 2; do
		spawn_keys+=("${how}_cat_f${f}_bytes")
	done
	spawn_keys+=("${how}_ls_lines")
done
zero_keys=()
for how in spawn vfork; do
	for f in 0 1 2; do
		zero_keys+=("${how}_cat_f${f}_status")
	done
	zero_keys+=("${how}_ls_status" "${how}_leaked_fds")
done

plan $(( 5 + 2 * (${#spawn_keys[@]} + ${#zero_keys[@]}) + 2 * 6 + 1 ))

# --- nginx with thread pools ---------------------------------------------

if ! "$nginx_bin" -V 2>&1 | grep -q -- '--with-threads'; then
	skip "$nginx_bin was built without --with-threads (no aio threads)" 5
else
	port=$(tap_free_port)
	nginx_conf "$dir/ngx" "$port" '		aio threads;
		sendfile on;'
	names=()
	for size in "${sizes[@]}"; do
		head -c "$size" /dev/urandom >"$dir/ngx/www/f$size.bin"
		names+=("f$size.bin")
	done
	nginx_www_perms "$dir/ngx"

	# client RUN N: one curl run, one keep-alive connection, every file
	# $repeat times; bodies and headers in $work/RUN.N.I.{body,head}.
	client() {
		local run=$1 n=$2 cfg=$work/$1.$2.cfg i=0 r f
		: >"$cfg"
		for ((r = 0; r < repeat; r++)); do
			for f in "${names[@]}"; do
				# "next": options of one transfer end there; the
				# connection is kept for the next one.
				(( i > 0 )) && echo next >>"$cfg"
				printf 'url = "http://127.0.0.1:%s/%s"\noutput = "%s"\ndump-header = "%s"\nwrite-out = "%%{num_connects}\\n"\n' \
					"$port" "$f" "$work/$run.$n.$i.body" "$work/$run.$n.$i.head" >>"$cfg"
				i=$((i + 1))
			done
		done
		# one line per transfer: 1 for a new connection, 0 for a kept one
		curl -sS --max-time 30 -K "$cfg" >"$work/$run.$n.connects"
	}

	# check RUN: every response of RUN's clients is its file's bytes, and
	# its header (less Date) is the plain run's; prints what differs.
	# One sha256sum over all the files: a process per response is slow on
	# a loaded machine.
	check() {
		local run=$1 sum file i f
		local -A want
		sed -i '/^[Dd]ate:/d' "$work/$run".*.head
		while read -r sum file; do
			want[${file##*/}]=$sum
		done < <(cd "$dir/ngx/www" && sha256sum "${names[@]}")
		for ((i = 0; i < ${#names[@]}; i++)); do
			grep -q '^HTTP/1.1 200 OK' "$work/plain.0.$i.head" ||
				echo "plain: no 200 OK for /${names[i]}"
			want[h$i]=$(sha256sum <"$work/plain.0.$i.head")
			want[h$i]=${want[h$i]%% *}
		done
		while read -r sum file; do
			file=${file##*/}
			i=${file#*.*.}
			i=${i%%.*}
			f=${names[i % ${#names[@]}]}
			case $file in
			*.body) [[ $sum == "${want[$f]}" ]] ||
					echo "$run: $file: body of /$f differs" ;;
			*.head) [[ $sum == "${want[h$((i % ${#names[@]}))]}" ]] ||
					echo "$run: $file: header of /$f differs" ;;
			esac
		done < <(sha256sum "$work/$run".*.body "$work/$run".*.head)
		# one connection per client, every response there
		i=$(cat "$work/$run".*.connects | awk '{ n += $1 } END { print n + 0 }')
		(( i == clients )) || echo "$run: $i connections, not $clients"
		local bodies=("$work/$run".*.body)
		i=${#bodies[@]}
		(( i == clients * repeat * ${#names[@]} )) ||
			echo "$run: $i bodies, not $((clients * repeat * ${#names[@]}))"
	}

	run_clients() {
		local n pids=()
		for ((n = 0; n < clients; n++)); do
			client "$1" "$n" &
			pids+=($!)
		done
		for n in "${pids[@]}"; do
			wait "$n"
		done
	}

	nginx_start "$dir/ngx" || bail_out "plain nginx did not start"
	run_clients plain
	nginx_stop "$dir/ngx"
	is "$(check plain | head -n 20)" "" \
		"plain nginx, aio threads: $((clients * repeat * 3)) concurrent keep-alive responses are the files"

	nginx_start "$dir/ngx" with || bail_out "nginx with the library did not start"
	run_clients lib
	is "$(check lib | head -n 20)" "" \
		"with the library, aio threads: every body the file's, every header plain nginx's"
	if (( NGINX_PRELOADED )); then
		ok "the library is mapped in the worker" nginx_has_lib "$NGINX_WORKER_PID"
	else
		skip "TAP_NO_PRELOAD=1"
	fi
	tasks=("/proc/$NGINX_WORKER_PID/task"/*)
	threads=${#tasks[@]}
	ok "the worker runs a thread pool ($threads threads)" test "$threads" -gt 1
	is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')$(nginx_log_problems "$dir/ngx")" \
		"$NGINX_WORKER_PID " "the worker never crashed and the error log is clean"
	nginx_stop "$dir/ngx"
fi

# --- posix_spawn, vfork and fork beside threads ---------------------------

# run_spawner MODE LABEL ARGS...: run spawner MODE into $work/MODE.LABEL.
run_spawner() {
	local mode=$1 label=$2
	local -a env=(env -u LD_PRELOAD SENDCACHE_STATS=0)
	shift 2
	[[ $label == with ]] && env+=("LD_PRELOAD=$tap_preload")
	mkdir -p "$work/$mode.$label.d"
	timeout 120 "${env[@]}" "$spawner" "$mode" "$work/$mode.$label.d" "$@" \
		>"$work/$mode.$label" 2>"$work/$mode.$label.err"
	echo "rc $?" >>"$work/$mode.$label"
}

# value FILE KEY: KEY's value in spawner's output FILE.
value() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

for label in without with; do
	run_spawner spawn "$label"
	out=$work/spawn.$label
	for k in "${spawn_keys[@]}"; do
		is "$(value "$out" "$k")" 1 "$label the library: $k"
	done
	for k in "${zero_keys[@]}"; do
		is "$(value "$out" "$k")" 0 "$label the library: $k"
	done
	[[ -s $out.err ]] && diag "$(head -n 20 "$out.err")"
done
ok "the library's descriptors were there to leak ($(value "$work/spawn.with" parent_cached_fds) cached)" \
	test "$(value "$work/spawn.with" parent_cached_fds)" -gt 0

for label in without with; do
	run_spawner fork "$label" "$forks"
	out=$work/fork.$label
	note "$label: $(tr '\n' ' ' <"$out")"
	is "$(value "$out" forks)" "$forks" "$label the library: $forks forks beside 4 threads"
	is "$(value "$out" fork_failed)" 0 "$label the library: no child read wrong bytes"
	is "$(value "$out" fork_deadlocked)" 0 "$label the library: no child hung"
	is "$(value "$out" thread_bad)" 0 "$label the library: the threads read right bytes ($(value "$out" thread_reads) reads)"
	is "$(value "$out" parent_after)" 1 "$label the library: the parent still reads right bytes"
	is "$(value "$out" rc)" 0 "$label the library: spawner exits 0"
done
