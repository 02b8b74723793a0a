# tests/tap/servers.sh - run a private web server on 127.0.0.1 for the
# server tests and the benchmarks.
#
# Source tap.sh first. One directory per server holds everything it reads
# or writes (configuration, document root DIR/www, pid file, logs), so
# nothing under /etc, /run or /var changes:
#
#     dir=$(tap_tmpdir); port=$(tap_free_port)
#     srv_conf lighttpd "$dir" "$port"      # writes the config, makes www/
#     echo hello >"$dir/www/index.html"
#     srv_start lighttpd "$dir" with || bail_out "lighttpd did not start"
#     ... requests to $(srv_url lighttpd "$port"); $SRV_PID is the main
#     process ...
#     srv_serving_pids lighttpd "$dir"      # the processes that answer
#     srv_stop lighttpd "$dir"              # also done at exit
#
# Each kind of server is one file, tests/servers/NAME.sh (srv_kinds lists
# them all). A file calls "srv_define KIND..." and defines, for each KIND
# with ID its name with "-" made "_", these functions and variables; where
# srv_ID_X is not defined, srv_FAMILY_X is used (FAMILY: the KIND up to
# its first "-"), so that nginx-tls is nginx but for its configuration:
#
#   srv_ID_need             print the commands it needs, one a line
#   srv_ID_conf DIR PORT EXTRA
#                           write its configuration for DIR/www on
#                           127.0.0.1:PORT; EXTRA is lines of its own
#                           configuration language
#   srv_ID_cmd DIR PORT     set the array SRV_CMD to the start command
#   srv_ID_match DIR        the command-line glob of its main process
#   srv_ID_problems DIR     print log lines that tell of a crash or error
#   srv_ID_child_match DIR  (optional) the glob of its children, if not
#                           the main process's
#   srv_ID_prestart DIR     (optional) run just before the start command
#   srv_ID_pidfile DIR      (with srv_ID_detaches=1) the pid file that a
#                           server that detaches writes
#   srv_ID_detaches=1       the start command returns once the server runs
#                           in the background (else it runs in the
#                           foreground, and its pid is the main process)
#   srv_ID_children_serve=1 its children answer requests (else the main
#                           process does)
#   srv_ID_stop_signals     the signals that stop it, each waited on in
#                           turn ("TERM KILL" unless set)
#   srv_ID_user             the user its serving processes run as when it
#                           is started as root (else root's own)
#   srv_ID_scheme           https for a server that speaks TLS
#   srv_ID_leaves_segment=1 it dies of its stop signal without running
#                           exit handlers, so srv_stop removes the stats
#                           segment the library could not
#   srv_ID_version          (optional) print its version, one line
# and, for the benchmarks (bench/lib/):
#   srv_ID_conns            the connections that keep it busy (16 unless
#                           set)
#   srv_ID_keepalive=0      it closes every connection
#   srv_ID_forks_per_connection=1
#                           a child per connection: the cache is filled in
#                           the parent (SENDCACHE_PREWARM)
#   srv_ID_ignores_sigchld=1
#                           its children's CPU time never reaches its
#                           cutime (the kernel reaps them): its CPU is
#                           counted with perf's task-clock
#
# "with" puts the library in the server's environment (LD_PRELOAD), along
# with whatever SENDCACHE_* variables the caller exported or put before
# the call; SENDCACHE_STATS_NAME, when unset, is one name per instance
# ($SRV_STATS_NAME). The LD_PRELOAD value is $tap_preload (tap.sh's:
# TAP_PRELOAD, else the library); TAP_NO_PRELOAD=1 starts without it.

srv_kinds=()

# srv_define KIND...: a server file's KINDs join srv_kinds.
srv_define() { srv_kinds+=("$@"); }

# How long start and stop may take, in 50 ms steps: the bounds only keep a
# broken server from hanging prove.
_srv_start_steps=200     # 10 s (Apache with 5 prefork children is slowest)
_srv_stop_steps=100      # 5 s after each signal but KILL
_srv_kill_steps=40       # 2 s after KILL

# _srv_fn KIND NAME: print the name of KIND's function NAME (its own, or
# its family's); nothing when neither is defined.
_srv_fn() {
	local id=${1//-/_} fam=${1%%-*}
	if declare -F "srv_${id}_$2" >/dev/null; then
		echo "srv_${id}_$2"
	elif declare -F "srv_${fam}_$2" >/dev/null; then
		echo "srv_${fam}_$2"
	fi
}

# srv_prop KIND NAME [DEFAULT]: print KIND's variable NAME (its own, or its
# family's), else DEFAULT.
srv_prop() {
	local id=${1//-/_} fam=${1%%-*}
	local own="srv_${id}_$2" family="srv_${fam}_$2"
	if [[ -n ${!own+x} ]]; then
		echo "${!own}"
	elif [[ -n ${!family+x} ]]; then
		echo "${!family}"
	else
		echo "${3-}"
	fi
}

# _srv_call KIND NAME ARG...: run KIND's function NAME; 0 when it has none.
_srv_call() {
	local fn
	fn=$(_srv_fn "$1" "$2")
	shift 2
	[[ -z $fn ]] || "$fn" "$@"
}

# _srv_check_kind KIND: succeeds for a known KIND, else a diagnostic.
_srv_check_kind() {
	local k
	for k in "${srv_kinds[@]}"; do
		[[ $k == "$1" ]] && return 0
	done
	diag "servers.sh: unknown server kind '$1' (one of: ${srv_kinds[*]})"
	return 1
}

# srv_require KIND...: the commands the KINDs need must exist (a skip, or
# a failure under CI; see tap_require).
srv_require() {
	local kind
	local -a need=()
	for kind in "$@"; do
		_srv_check_kind "$kind" || bail_out "srv_require: unknown server kind '$kind'"
		mapfile -t -O "${#need[@]}" need < <(_srv_call "$kind" need)
	done
	tap_require "${need[@]}"
}

# srv_bin KIND: the server's program (the first command it needs).
srv_bin() { _srv_call "$1" need | head -n 1; }

# srv_version KIND: the server's version, one line (nothing if unknown).
srv_version() { _srv_call "$1" version; }

# srv_user KIND: the user KIND's serving processes run as.
srv_user() {
	local user
	user=$(srv_prop "$1" user)
	(( EUID == 0 )) && [[ -n $user ]] && echo "$user" || id -un
}

# srv_url KIND PORT: the base URL of the server (no slash at the end).
srv_url() { echo "$(srv_prop "$1" scheme http)://127.0.0.1:$2"; }

# --- configuration ----------------------------------------------------------

# srv_conf KIND DIR PORT [EXTRA]: write the configuration of a KIND server
# that serves DIR/www on 127.0.0.1:PORT, with its logs and pid file in DIR.
# EXTRA goes where the kind's file says. Creates DIR/www (0755). Returns 1
# on a bad KIND or when the configuration could not be written.
srv_conf() {
	local kind=$1 dir=$2 port=$3 extra=${4-}
	_srv_check_kind "$kind" || return 1
	mkdir -p "$dir/www" || return 1
	chmod 0755 "$dir" "$dir/www"
	echo "$kind $port" >"$dir/.srv-conf"
	_srv_call "$kind" conf "$dir" "$port" "$extra"
}

# srv_port DIR: print the port srv_conf DIR gave the server.
srv_port() {
	local _kind port
	read -r _kind port <"$1/.srv-conf" 2>/dev/null || return 1
	echo "$port"
}

# --- processes ----------------------------------------------------------------

# _srv_glob_is PID GLOB: succeeds when PID is a live (not zombie) process
# whose command line matches GLOB.
_srv_glob_is() {
	local pid=$1 stat cmdline
	[[ $pid =~ ^[0-9]+$ && -n $2 ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	# field 3, after the parenthesised command name, is the state
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]] || return 1
	{ cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline"); } 2>/dev/null || return 1
	# shellcheck disable=SC2053 # a glob on purpose
	[[ $cmdline == $2 ]]
}

# srv_is_main PID KIND DIR: PID is the live main process of the KIND
# server of DIR.
srv_is_main() { _srv_glob_is "$1" "$(_srv_call "$2" match "$3")"; }

# _srv_is PID KIND DIR: succeeds when PID is a live process of the KIND
# server of DIR, main process or child. Guards every signal we send
# against a pid that was reused by an unrelated process.
_srv_is() {
	local glob
	srv_is_main "$@" && return 0
	glob=$(_srv_call "$2" child_match "$3")
	[[ -n $glob ]] && _srv_glob_is "$1" "$glob"
}

# _srv_children PID KIND DIR: print the pids of PID's live children that
# belong to the same server.
_srv_children() {
	local pid
	for pid in $(pgrep -P "$1"); do
		_srv_is "$pid" "$2" "$3" && echo "$pid"
	done
}

# srv_main_pid KIND DIR: the server's live main process: the one its pid
# file names (after nginx's binary upgrade, the new master), else the one
# srv_start started. Nothing when not running.
srv_main_pid() {
	local main
	_srv_pidfile_main "$1" "$2" && return 0
	main=$(cat "$2/.srv-pid" 2>/dev/null)
	srv_is_main "$main" "$1" "$2" && echo "$main"
	return 0
}

# srv_serving_pids KIND DIR: print the pids of the processes that answer
# requests: the children of a server whose children serve (nginx, Apache),
# else the main process (lighttpd, python; busybox's parent, which forks a
# child per connection that lives only as long as that connection).
# Nothing when not running.
srv_serving_pids() {
	local kind=$1 dir=$2 main
	main=$(srv_main_pid "$kind" "$dir")
	[[ -n $main ]] || return 0
	if [[ $(srv_prop "$kind" children_serve) == 1 ]]; then
		_srv_children "$main" "$kind" "$dir"
	else
		echo "$main"
	fi
}

# srv_has_lib PID: succeeds when the library is mapped into process PID.
srv_has_lib() {
	local lib
	lib=$(readlink -f "$tap_lib") || return 1
	grep -qF -- "$lib" "/proc/$1/maps" 2>/dev/null
}

# srv_all_have_lib PID...: succeeds when every PID (at least one) maps the
# library.
srv_all_have_lib() {
	local pid
	(( $# )) || return 1
	for pid in "$@"; do
		srv_has_lib "$pid" || return 1
	done
}

# srv_ok_lib KIND DIR LABEL: one test: the library is mapped in every
# serving process of the server srv_start started "with" (a skip when
# TAP_NO_PRELOAD=1 kept it out).
srv_ok_lib() {
	local pids
	if (( ! SRV_PRELOADED )); then
		skip "TAP_NO_PRELOAD=1"
		return 0
	fi
	pids=$(srv_serving_pids "$1" "$2" | tr '\n' ' ')
	# shellcheck disable=SC2086 # one argument per pid
	ok "$3: the library is mapped in ${pids% }" srv_all_have_lib $pids
}

# srv_still_serving KIND DIR PID...: succeeds when every PID still serves
# requests (Apache may have started more children, but none of these may
# have died); else prints what serves now.
srv_still_serving() {
	local kind=$1 dir=$2 now pid
	shift 2
	now=" $(srv_serving_pids "$kind" "$dir" | tr '\n' ' ')"
	for pid in "$@"; do
		[[ $now == *" $pid "* ]] || { echo "pid $pid is gone; now:$now"; return 1; }
	done
}

# srv_log_problems KIND DIR: print the lines of the server's logs that
# tell of a crash or an error (what the kind's file counts as one);
# nothing when the logs are clean.
srv_log_problems() {
	_srv_call "$1" problems "$2" 2>/dev/null
	return 0
}

# srv_logs_aside DIR TAG: rename the server's logs in DIR to NAME.TAG, so
# that the next run of the server starts with empty ones.
srv_logs_aside() {
	local f
	for f in error.log access.log server.out; do
		[[ -e $1/$f ]] && mv -f "$1/$f" "$1/$f.$2"
	done
	return 0
}

# srv_log DIR: print the tail of the server's logs, for diagnostics.
srv_log() {
	local f
	for f in "$1/server.out" "$1/error.log"; do
		[[ -s $f ]] && printf '%s:\n%s\n' "${f##*/}" "$(tail -n 8 "$f")"
	done
	return 0
}

# _srv_wait STEPS CMD...: run CMD every 50 ms until it succeeds, at most
# STEPS times.
_srv_wait() {
	local steps=$1
	shift
	while (( steps-- > 0 )); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# _srv_pidfile_main KIND DIR: print the pid in the kind's pid file when it
# is the server's live main process.
_srv_pidfile_main() {
	local pidfile main
	pidfile=$(_srv_call "$1" pidfile "$2")
	[[ -n $pidfile ]] && main=$(cat "$pidfile" 2>/dev/null) &&
		srv_is_main "$main" "$1" "$2" && echo "$main"
}

# _srv_launch KIND DIR ENV...: run the start command with ENV (an env(1)
# command line); set _srv_main to the main process's pid. Output goes to
# a file: a server must not hold prove's pipe open.
_srv_launch() {
	local kind=$1 dir=$2
	local -a SRV_CMD=()
	shift 2
	_srv_main=
	_srv_call "$kind" cmd "$dir" "$(srv_port "$dir")"
	if [[ $(srv_prop "$kind" detaches) == 1 ]]; then
		rm -f "$(_srv_call "$kind" pidfile "$dir")"
		if ! "$@" "${SRV_CMD[@]}" </dev/null >"$dir/server.out" 2>&1; then
			diag "srv_start: ${SRV_CMD[*]} failed:" "$(srv_log "$dir")"
			return 1
		fi
		_srv_wait "$_srv_start_steps" _srv_pidfile_main "$kind" "$dir" >/dev/null
		_srv_main=$(cat "$(_srv_call "$kind" pidfile "$dir")" 2>/dev/null)
	else
		# env execs the server: $! is the server's own pid
		"$@" "${SRV_CMD[@]}" </dev/null >"$dir/server.out" 2>&1 &
		_srv_main=$!
		disown "$_srv_main" 2>/dev/null
	fi
	return 0
}

# srv_start KIND DIR [with|without]: start the KIND server configured by
# srv_conf in DIR, with the library preloaded for "with". Waits until the
# port listens and a process serves, then sets SRV_PID (the main process),
# SRV_PRELOADED (1 or 0) and SRV_STATS_NAME (the stats instance with the
# library, else empty). Prints nothing on success; returns 1 with the
# reason as diagnostics. srv_stop runs at exit.
srv_start() {
	local kind=$1 dir=$2 mode=${3:-without} port main stats_name='' state pid
	local -a env=(env -u LD_PRELOAD)
	_srv_check_kind "$kind" || return 1
	port=$(srv_port "$dir")
	if [[ -z $port ]]; then
		diag "srv_start: $dir was not configured by srv_conf"
		return 1
	fi
	SRV_PRELOADED=0 SRV_PID=
	if [[ $mode == with && ${TAP_NO_PRELOAD-} != 1 ]]; then
		stats_name=${SENDCACHE_STATS_NAME-srv-$kind-$port-$$}
		env+=("LD_PRELOAD=$tap_preload"
			"SENDCACHE_STATS_NAME=$stats_name")
		SRV_PRELOADED=1
	fi
	SRV_STATS_NAME=$stats_name

	srv_stop "$kind" "$dir"
	if [[ ! -e $dir/.srv-registered ]]; then
		tap_at_exit srv_stop "$kind" "$dir"
		: >"$dir/.srv-registered"
	fi
	echo "$stats_name" >"$dir/.srv-stats-name"
	_srv_call "$kind" prestart "$dir"
	_srv_launch "$kind" "$dir" "${env[@]}" || return 1
	main=$_srv_main
	# (one that detaches: _srv_launch waited for its pid file)
	[[ $(srv_prop "$kind" detaches) == 1 ]] ||
		_srv_wait "$_srv_start_steps" srv_is_main "$main" "$kind" "$dir"
	if ! srv_is_main "$main" "$kind" "$dir"; then
		# What became of it: exited (a zombie, not reaped yet), gone,
		# or running as something else; and all it printed.
		state=$(cat "/proc/$main/stat" 2>/dev/null) && state="state ${state##*) }" ||
			state=gone
		diag "srv_start: $kind did not start (pid '$main': ${state%% [0-9]*}," \
			"cmdline '$({ tr '\0' ' ' <"/proc/$main/cmdline"; } 2>/dev/null)')" \
			"$(tail -n 20 "$dir/server.out" 2>/dev/null)"
		# One that starts after all must not outlive the test: our
		# own child only (a pid file's pid may be anyone's by now).
		[[ $(srv_prop "$kind" detaches) == 1 ]] || kill "$main" 2>/dev/null
		return 1
	fi
	echo "$main" >"$dir/.srv-pid"

	_srv_wait "$_srv_start_steps" _srv_up "$port" "$main" "$kind" "$dir"
	if ! tap_listening "$port"; then
		diag "srv_start: $kind (pid $main) does not listen on port $port" \
			"$(srv_log "$dir")"
		return 1
	fi
	if ! _srv_wait "$_srv_start_steps" _srv_serves "$kind" "$dir"; then
		diag "srv_start: $kind $main has no process that serves" "$(srv_log "$dir")"
		return 1
	fi
	for pid in $(srv_serving_pids "$kind" "$dir"); do
		echo "$pid $(_srv_start_time "$pid")"
	done >"$dir/.srv-serving"
	SRV_PID=$main
	return 0
}

_srv_serves() { [[ -n $(srv_serving_pids "$1" "$2") ]]; }

# _srv_up PORT MAIN KIND DIR: the port listens, or the main process is
# gone (no use waiting longer).
_srv_up() { tap_listening "$1" || ! srv_is_main "$2" "$3" "$4"; }

# _srv_start_time PID: when process PID started (field 22 of its stat),
# which tells it from a later process given the same pid.
_srv_start_time() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	awk '{ print $20 }' <<<"$st"
}

# _srv_recorded DIR: the serving processes srv_start recorded that still
# run: the same processes, not others given their pids since.
_srv_recorded() {
	local pid start
	[[ -f $1/.srv-serving ]] || return 0
	while read -r pid start; do
		[[ -n $start && $(_srv_start_time "$pid") == "$start" ]] && echo "$pid"
	done <"$1/.srv-serving"
	return 0
}

# srv_none_alive KIND DIR PID...: succeeds when none of the pids is a live
# process of the KIND server of DIR.
srv_none_alive() {
	local kind=$1 dir=$2 pid
	shift 2
	for pid in "$@"; do
		_srv_is "$pid" "$kind" "$dir" && return 1
	done
	return 0
}

# srv_stop KIND DIR: stop the server srv_start KIND DIR started, if it
# runs: each of its stop signals in turn to its main process, waiting a
# bound after each, and KILL to any of its processes still there (its
# children; a worker its main process left behind when it died), each by
# its own pid. Removes the instance's stats segment if the kind leaves it
# or a process had to be killed.
# Safe to call when nothing runs. Always returns 0.
srv_stop() {
	local kind=$1 dir=$2 main pid name sig steps killed=0
	local -a all=()
	main=$(srv_main_pid "$kind" "$dir")
	mapfile -t all < <(
		[[ -n $main ]] && { echo "$main"; _srv_children "$main" "$kind" "$dir"; }
		_srv_recorded "$dir")
	if [[ -n $main ]]; then
		for sig in $(srv_prop "$kind" stop_signals "TERM KILL"); do
			steps=$_srv_stop_steps
			if [[ $sig == KILL ]]; then
				steps=$_srv_kill_steps killed=1
				for pid in "${all[@]}"; do
					_srv_is "$pid" "$kind" "$dir" && kill -KILL "$pid" 2>/dev/null
				done
			else
				srv_is_main "$main" "$kind" "$dir" && kill "-$sig" "$main" 2>/dev/null
			fi
			_srv_wait "$steps" srv_none_alive "$kind" "$dir" "${all[@]}" && break
		done
	fi
	# A worker whose main process died before us.
	for pid in "${all[@]}"; do
		_srv_is "$pid" "$kind" "$dir" && kill -KILL "$pid" 2>/dev/null && killed=1
	done
	_srv_wait "$_srv_kill_steps" srv_none_alive "$kind" "$dir" "${all[@]}"
	rm -f "$dir/.srv-pid" "$dir/.srv-serving"
	name=$(cat "$dir/.srv-stats-name" 2>/dev/null)
	# No exit handler ran in a process killed outright.
	[[ -n $name ]] && { ((killed)) || [[ $(srv_prop "$kind" leaves_segment) == 1 ]]; } &&
		rm -f "/dev/shm/sendcache.$name"
	rm -f "$dir/.srv-stats-name"
	return 0
}

# Every server's file.
for _srv_file in "$(dirname "${BASH_SOURCE[0]}")"/../servers/*.sh; do
	# shellcheck source=/dev/null
	. "$_srv_file"
done
unset _srv_file
