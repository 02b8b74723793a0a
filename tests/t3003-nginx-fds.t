#!/bin/bash
# t3003-nginx-fds: the library's descriptors stay within their budget.
#
# DESIGN.md invariant 8: persistent fds stay under a configured budget,
# with LRU eviction. nginx runs with the library and SENDCACHE_MAX_FDS=64;
# ten thousand keep-alive requests go to a handful of hot files and to
# three times more distinct files than the budget allows, so the cache has
# to evict. Afterwards the worker may hold at most the budget more fds
# than it did before the first request, must be the same process (no
# crash), must still serve every file's bytes, and must not have logged
# anything at level crit or above.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" ab curl sha256sum
tap_require_lib

# The library's fd budget, given to nginx in its environment.
budget=64
# Hot files get most of the load, cold ones one short burst each; together
# exactly $total requests, and more cold files than the budget.
hot_sizes=(100 1000 4096 10000 65536 100000 262144 1048576)
hot_requests=1000
cold_files=200
cold_requests=10
total=$(( ${#hot_sizes[@]} * hot_requests + cold_files * cold_requests ))

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
www=$dir/www
work=$dir/work
mkdir -p "$work" "$www/cold"

files=()
for size in "${hot_sizes[@]}"; do
	head -c "$size" /dev/urandom >"$www/hot$size.bin"
	files+=("hot$size.bin")
done
for ((i = 0; i < cold_files; i++)); do
	head -c $((100 + i * 10)) /dev/urandom >"$www/cold/c$i.bin"
	files+=("cold/c$i.bin")
done
nginx_www_perms "$dir"

# fd_count PID: how many descriptors PID has open.
fd_count() {
	local fds=(/proc/"$1"/fd/*)
	echo "${#fds[@]}"
}

# ab_run N CONCURRENCY PATH: N keep-alive requests with ab; adds its
# complete, failed and non-2xx counts to the totals.
complete=0 failed=0 non2xx=0
ab_run() {
	local out c f n
	out=$(ab -q -k -s 10 -n "$1" -c "$2" "http://127.0.0.1:$port/$3" 2>&1)
	c=$(sed -n 's/^Complete requests: *\([0-9]*\).*/\1/p' <<<"$out")
	f=$(sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p' <<<"$out")
	n=$(sed -n 's/^Non-2xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
	complete=$((complete + ${c:-0}))
	failed=$((failed + ${f:-0}))
	non2xx=$((non2xx + ${n:-0}))
	if [[ -z $c || ${f:-0} != 0 || ${n:-0} != 0 ]]; then
		diag "ab on /$3:" "$(grep -E 'requests|responses|errors|Length|^ab:|apr_' <<<"$out")"
	fi
}

# all_files_right: fetch every file on one keep-alive connection; prints
# the ones whose status or bytes are wrong.
all_files_right() {
	local cfg=$work/all.cfg i code
	: >"$cfg"
	for ((i = 0; i < ${#files[@]}; i++)); do
		printf 'url = "http://127.0.0.1:%s/%s"\noutput = "%s/%d"\n' \
			"$port" "${files[i]}" "$work" "$i" >>"$cfg"
	done
	i=0
	while read -r code; do
		if [[ $code != 200 ]] ||
			! cmp -s "$work/$i" "$www/${files[i]}"; then
			echo "/${files[i]} ($code)"
		fi
		i=$((i + 1))
	done < <(curl -s --max-time 60 -K "$cfg" -w '%{http_code}\n')
	(( i == ${#files[@]} )) || echo "only $i of ${#files[@]} responses"
}

plan 6

SENDCACHE_MAX_FDS=$budget nginx_start_with "$dir"

before=$(fd_count "$worker")

for size in "${hot_sizes[@]}"; do
	ab_run "$hot_requests" 4 "hot$size.bin"
done
for ((i = 0; i < cold_files; i++)); do
	ab_run "$cold_requests" 2 "cold/c$i.bin"
done
is "$complete $failed $non2xx" "$total 0 0" \
	"$total requests: all complete, none failed, none other than 2xx"

# The worker closes a client's connection a moment after ab has gone;
# give it up to 2 s before counting against the budget.
for ((steps = 40; steps > 0; steps--)); do
	after=$(fd_count "$worker")
	(( after <= before + budget )) && break
	sleep 0.05
done
note "worker fds: $before before the requests, $after after (budget $budget)"
ok "the worker holds at most $budget fds more than before ($before -> $after)" \
	test "$after" -le $((before + budget))

is "$(all_files_right)" "" "every one of the ${#files[@]} files still has the right bytes"

is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker (it never crashed)"
is "$(nginx_log_problems "$dir")" "" "no [crit], [alert] or [emerg] in the error log"
nginx_stop "$dir"
