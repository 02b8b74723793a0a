# tests/tap/syscalls.sh - count a server's system calls during a burst of
# keep-alive requests, with strace -c attached to the serving processes.
#
# Source tap.sh and servers.sh first.
#
#     sc_count KIND DIR URL N OUT   # N keep-alive GETs of URL, counted
#     sc_calls OUT pread64          # calls of pread64 in that run
#
# strace attaches to every thread of every process srv_serving_pids names
# (-f also follows threads and children created during the run) before
# the first request, and detaches after the last response, so the counts
# are those N requests' work, plus whatever the server does on its own
# in that time (timers; few of the calls the tests look at).

sc_strace_bin=${STRACE:-strace}
# How long to wait for strace to attach or to print its summary, in 50 ms
# steps.
_sc_steps=100

# _sc_traced PID...: succeeds when every thread of every PID is traced.
_sc_traced() {
	local pid status
	for pid in "$@"; do
		for status in /proc/"$pid"/task/*/status; do
			grep -q '^TracerPid:[[:space:]]*[1-9]' "$status" 2>/dev/null || return 1
		done
	done
}

# sc_count KIND DIR URL N OUT: N GETs of URL (on one keep-alive connection
# where the server keeps it) with strace -c attached to the serving
# processes; the summary goes to OUT. Returns 1, with diagnostics, if
# strace did not attach, a response was not 200, or no summary came.
sc_count() {
	local kind=$1 dir=$2 url=$3 n=$4 out=$5 cfg=$5.curl i steps spid codes
	local -a pids args=()
	mapfile -t pids < <(srv_serving_pids "$kind" "$dir")
	if (( ${#pids[@]} == 0 )); then
		diag "sc_count: no serving process of $kind in $dir"
		return 1
	fi
	for i in "${pids[@]}"; do
		args+=(-p "$i")
	done
	: >"$cfg"
	for ((i = 0; i < n; i++)); do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$cfg"
	done
	rm -f "$out"
	"$sc_strace_bin" -f -qq -c -o "$out" "${args[@]}" 2>"$out.err" &
	spid=$!
	for ((steps = _sc_steps; steps > 0; steps--)); do
		_sc_traced "${pids[@]}" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	if ! _sc_traced "${pids[@]}"; then
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		diag "sc_count: strace did not attach to ${pids[*]}" "$(cat "$out.err")"
		return 1
	fi
	codes=$(curl -s --max-time 60 -K "$cfg" -w '%{http_code}\n' | sort | uniq -c |
		tr -s ' \n' '  ')
	codes=${codes# }
	codes=${codes% }
	# strace prints its summary when it detaches on SIGINT
	kill -INT "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	if [[ ! -s $out ]]; then
		diag "sc_count: strace left no summary" "$(cat "$out.err")"
		return 1
	fi
	if [[ $codes != "$n 200" ]]; then
		diag "sc_count: the responses were not $n times 200: $codes"
		return 1
	fi
}

# sc_calls OUT NAME...: the calls of the NAMEd system calls together in the
# strace -c summary OUT (0 for a call that does not appear).
sc_calls() {
	local out=$1
	shift
	awk -v names=" $* " '
		$1 ~ /^[0-9.]+$/ && index(names, " " $NF " ") {
			# columns: % time, seconds, usecs/call, calls, [errors,] name
			sum += $4
		}
		END { print sum + 0 }' "$out"
}

# sc_table OUT NAME...: "name=calls" for each NAME, for diagnostics.
sc_table() {
	local out=$1 name line=
	shift
	for name in "$@"; do
		line+="$name=$(sc_calls "$out" "$name") "
	done
	echo "${line% }"
}

# sc_per_request COUNT N: COUNT / N with two decimals.
sc_per_request() {
	printf '%d.%02d\n' $(( $1 / $2 )) $(( $1 * 100 / $2 % 100 ))
}

# sc_at_most OUT N LIMIT DESC NAME...: passes when the NAMEd calls
# together number at most LIMIT in the run of N requests summarised in
# OUT (a warm-up constant, not a rate); shows the counts either way.
sc_at_most() {
	local out=$1 n=$2 limit=$3 desc=$4 got
	shift 4
	got=$(sc_calls "$out" "$@")
	note "$desc: $got calls in $n requests ($(sc_per_request "$got" "$n") per request): $(sc_table "$out" "$@")"
	if (( got <= limit )); then
		pass "$desc"
		return 0
	fi
	fail "$desc"
	diag "    $got calls in $n requests, at most $limit allowed: $(sc_table "$out" "$@")"
	return 1
}

# sc_between OUT N LO HI DESC NAME...: passes when the NAMEd calls per
# request, in tenths, lie in [LO, HI] (e.g. 9 11: 0.9 to 1.1 a request).
sc_between() {
	local out=$1 n=$2 lo=$3 hi=$4 desc=$5 got
	shift 5
	got=$(sc_calls "$out" "$@")
	note "$desc: $got calls in $n requests ($(sc_per_request "$got" "$n") per request): $(sc_table "$out" "$@")"
	if (( got * 10 >= lo * n && got * 10 <= hi * n )); then
		pass "$desc"
		return 0
	fi
	fail "$desc"
	diag "    $(sc_per_request "$got" "$n") per request, not within $((lo / 10)).$((lo % 10)) to $((hi / 10)).$((hi % 10)): $(sc_table "$out" "$@")"
	return 1
}
