# bench/lib/ab-args.sh - bench/ab.sh's options and prerequisites.

usage() {
	cat <<EOF
Usage: bench/ab.sh [options]

A/B benchmark of static-file servers without and with LD_PRELOAD=\$SENDCACHE_LIB,
servers pinned to CPU $SERVER_CPU and wrk to CPU $CLIENT_CPU, with nginx anchors.

Options:
  --quick            1 round of 1 s runs (about 6 minutes for everything)
  --servers LIST     from $ALL_SERVERS (default: all)
  --sizes LIST       from $ALL_SIZES, or any NNk/NNm (default: all)
  --anchors LIST     from $ALL_ANCHORS, or none (default: both)
  --rounds N         rounds of A B per size (default 3; quick 1)
  --duration SEC     measured seconds per run (default 3; quick 1)
  --warmup SEC       warm-up seconds per run (default 1)
  --count SEC        seconds of the system-call counting run (default 1)
  --pipeline N       wrk sends N requests per write (HTTP/1.1 pipelining) for
                     the single-file sizes (default 1: none); for a server
                     so fast that one wrk thread, not the server, is the limit
  --time-limit SEC   start no run after SEC (default: estimate x 1.3 + 60 s,
                     at most 30 min when the estimate is under 29 min)
  --counter perf|strace  how to count system calls (default perf if usable)
  --no-strace        skip the per-server "which calls" breakdown
  --no-plots         skip gnuplot
  --no-stats         do not print sendcache-stat's table at the end
  --a-stats-off      "without" is the library with SENDCACHE_STATS=0, so the
                     ratio is the cost of the shared-memory counters
  --no-prewarm       busybox "with" is plain LD_PRELOAD, without
                     SENDCACHE_PREWARM of its document root
  --tag NAME         suffix of the results directory (quick: "quick")
  --out DIR          results directory (default bench/results/DATE-HOST[-TAG])
  -h, --help         this text

Exit status: 0 all went well; 1 usage or setup failure; 2 red flags (wrong
bytes, errors or a crash with the library, library not loaded, ...);
3 some runs failed or were skipped at the time limit.
EOF
}

parse_args() {
	local a
	while (($#)); do
		a=$1
		case $a in
		--*=*) set -- "${a%%=*}" "${a#*=}" "${@:2}"; continue ;;
		--quick) QUICK=1 ;;
		--no-strace) DO_STRACE=0 ;;
		--no-plots) DO_PLOTS=0 ;;
		--no-stats) SHOW_STATS=0 ;;
		--a-stats-off) A_STATS_OFF=1 ;;
		--no-prewarm) PREWARM=0 ;;
		-h | --help) usage; exit 0 ;;
		--servers | --sizes | --anchors | --rounds | --duration | --warmup | --count | \
			--time-limit | --counter | --tag | --out | --pipeline)
			(($# >= 2)) || die "$a needs a value"
			case $a in
			--servers) SERVERS=$2 ;;
			--sizes) SIZES=$2 ;;
			--anchors) ANCHORS=$2 ;;
			--rounds) ROUNDS=$2 ;;
			--duration) DURATION=$2 ;;
			--warmup) WARMUP=$2 ;;
			--count) COUNT_SECS=$2 ;;
			--pipeline) PIPELINE=$2 ;;
			--time-limit) TIME_LIMIT=$2 ;;
			--counter) COUNTER=$2 ;;
			--tag) TAG=$2 ;;
			--out) OUT=$2 ;;
			esac
			shift ;;
		*) usage >&2; die "unknown argument: $a" ;;
		esac
		shift
	done

	if ((QUICK)); then
		: "${ROUNDS:=1}" "${DURATION:=1}"
	else
		: "${ROUNDS:=3}" "${DURATION:=3}"
	fi
	: "${WARMUP:=1}" "${COUNT_SECS:=1}"
	local v
	for v in ROUNDS DURATION WARMUP COUNT_SECS PIPELINE; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive integer, got '${!v}'"
	done
	[[ -z $TIME_LIMIT || $TIME_LIMIT =~ ^[1-9][0-9]*$ ]] || die "--time-limit must be seconds"
	case $COUNTER in auto | perf | strace) ;; *) die "--counter must be perf or strace" ;; esac
	parse_lists
}

# parse_lists: SERVER_LIST, ANCHOR_LIST, SIZE_LIST and SIZE_BYTES from the
# comma-separated options.
parse_lists() {
	local s n
	local -a sizes
	IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
	((${#SERVER_LIST[@]})) || die "--servers is empty"
	for s in "${SERVER_LIST[@]}"; do
		[[ ,$ALL_SERVERS, == *,$s,* ]] || die "unknown server '$s' (known: $ALL_SERVERS)"
	done
	ANCHOR_LIST=()
	if [[ $ANCHORS != none ]]; then
		IFS=, read -r -a ANCHOR_LIST <<<"$ANCHORS"
		for s in "${ANCHOR_LIST[@]}"; do
			[[ ,$ALL_ANCHORS, == *,$s,* ]] || die "unknown anchor '$s' (known: $ALL_ANCHORS)"
		done
	fi

	SIZE_LIST=()
	declare -gA SIZE_BYTES=()
	IFS=, read -r -a sizes <<<"$SIZES"
	((${#sizes[@]})) || die "--sizes is empty"
	for s in "${sizes[@]}"; do
		s=${s,,}
		if [[ $s == mix ]]; then
			SIZE_BYTES[mix]=0
		elif [[ $s =~ ^([0-9]+)([km]?)$ ]]; then
			n=$((10#${BASH_REMATCH[1]}))
			case ${BASH_REMATCH[2]} in
			k) n=$((n << 10)) ;;
			m) n=$((n << 20)) ;;
			esac
			((n > 0)) || die "size '$s' is zero"
			SIZE_BYTES[$s]=$n
		else
			die "bad size '$s' (want e.g. 1k, 128k, 64m or mix)"
		fi
		SIZE_LIST+=("$s")
	done
}

check_prereqs() {
	local missing=() t
	for t in wrk taskset curl timeout awk ab; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((DO_PLOTS)) && ! command -v gnuplot >/dev/null 2>&1 && missing+=("gnuplot (gnuplot-nox)")
	((${#missing[@]} == 0)) || die "missing: ${missing[*]} (scripts/install-deps bench)"
	[[ -f $LIB && -r $LIB ]] || die "library not found: $LIB (run make, or set SENDCACHE_LIB)"
	LIB=$(readlink -f "$LIB")
	# What servers.sh preloads in its "with" starts.
	tap_lib=$LIB tap_preload=$LIB

	(($(nproc) >= 2)) || die "needs 2 CPUs (servers on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU)"
	taskset -c "$SERVER_CPU,$CLIENT_CPU" true 2>/dev/null ||
		die "cannot pin to CPUs $SERVER_CPU and $CLIENT_CPU (cpuset?)"
	OWN_CPUS=$(taskset -c -p $$ | sed 's/.*: //')

	local probe
	if [[ $COUNTER != strace ]]; then
		probe=$(perf stat -e raw_syscalls:sys_enter -x, -- true 2>&1 | awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }')
		if [[ $probe =~ ^[0-9]+$ ]] && ((probe > 0)); then
			COUNTER=perf
		elif [[ $COUNTER == perf ]]; then
			die "perf cannot count raw_syscalls:sys_enter here (perf_event_paranoid? tracefs?)"
		else
			note "perf cannot count raw_syscalls:sys_enter here; counting with strace -c -f"
			COUNTER=strace
		fi
	fi
	if [[ $COUNTER == strace || $DO_STRACE == 1 ]]; then
		command -v strace >/dev/null 2>&1 || die "missing: strace"
	fi
	PERF_CONTROL=0
	# Not a pipeline: under pipefail, perf's exit status for -h (129) wins.
	[[ $COUNTER == perf ]] && grep -q -- '--control' <(perf stat -h 2>&1) && PERF_CONTROL=1

	local s
	for s in "${SERVER_LIST[@]}"; do
		[[ -x $(srv_bin "$s") ]] || die "$s: $(srv_bin "$s") is not there (scripts/install-deps bench)"
	done
}
