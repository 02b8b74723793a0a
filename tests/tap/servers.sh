# tests/tap/servers.sh - run a private lighttpd, Apache, busybox httpd or
# python3 http.server on 127.0.0.1 for the server tests and benchmarks.
#
# Source tap.sh first. One directory per server holds everything it reads
# or writes (configuration, document root DIR/www, pid file, logs), so
# nothing under /etc, /run or /var changes:
#
#     dir=$(tap_tmpdir); port=$(tap_free_port)
#     srv_conf lighttpd "$dir" "$port"      # writes the config, makes www/
#     echo hello >"$dir/www/index.html"
#     srv_start lighttpd "$dir" with || bail_out "lighttpd did not start"
#     ... requests; $SRV_PID is the main process ...
#     srv_serving_pids lighttpd "$dir"      # the processes that answer
#     srv_stop lighttpd "$dir"              # also done at exit
#
# KIND is one of (see srv_kinds):
#   lighttpd        Debian's lighttpd.conf: stock network backend, mime
#                   types from create-mime.conf.pl; runs in the foreground
#                   (-D, as Debian's unit does) and drops to www-data.
#   apache-event    Debian's apache2.conf and default site with the modules
#   apache-prefork  Debian enables, mpm_event or mpm_prefork with Debian's
#                   settings, access log on, EnableSendfile left at its
#                   default (Off, as Debian ships it), and AllowOverride All
#                   from / down, so that every request probes .htaccess in
#                   every directory on the way. Children run as www-data.
#   busybox         busybox httpd -f, one child per connection.
#   python          python3 -m http.server (HTTP/1.0, read/write).
#
# "with" puts the library in the server's environment (LD_PRELOAD), along
# with whatever SENDCACHE_* variables the caller exported or put before
# the call; SENDCACHE_STATS_NAME defaults to one name per instance
# ($SRV_STATS_NAME) so that srv_stop can remove its segment. TAP_PRELOAD
# replaces the LD_PRELOAD value; TAP_NO_PRELOAD=1 starts without it.

# The kinds srv_conf knows.
srv_kinds=(lighttpd apache-event apache-prefork busybox python)

srv_lighttpd_bin=${LIGHTTPD:-/usr/sbin/lighttpd}
srv_apache_bin=${APACHE2:-/usr/sbin/apache2}
srv_busybox_bin=${BUSYBOX:-/bin/busybox}
# Debian's python3, not whatever "python3" is first in PATH: a version
# manager's shim (pyenv) is a shell script that took over 10 s to start
# the server on a loaded machine.
srv_python_bin=${PYTHON3:-/usr/bin/python3}

# How long start and stop may take, in 50 ms steps: the bounds only keep a
# broken server from hanging prove.
_srv_start_steps=200     # 10 s (Apache with 5 prefork children is slowest)
_srv_term_steps=100      # 5 s after TERM, then KILL
_srv_kill_steps=40       # 2 s after KILL

# srv_require KIND...: the commands the KINDs need must exist (a skip, or
# a failure under CI; see tap_require).
srv_require() {
	local kind
	for kind in "$@"; do
		case $kind in
		lighttpd)  tap_require "$srv_lighttpd_bin" ;;
		apache-*)  tap_require "$srv_apache_bin" ;;
		busybox)   tap_require "$srv_busybox_bin" ;;
		python)    tap_require "$srv_python_bin" ;;
		*)         bail_out "srv_require: unknown server kind '$kind'" ;;
		esac
	done
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

# --- configuration ----------------------------------------------------------

# srv_conf KIND DIR PORT [EXTRA]: write the configuration of a KIND server
# that serves DIR/www on 127.0.0.1:PORT, with its logs and pid file in DIR.
# EXTRA, lines of the server's own configuration language, goes at the end
# of the main configuration (Apache: server context, e.g. "EnableSendfile
# On" or MPM settings; lighttpd: anything; busybox: httpd.conf lines;
# python: ignored). Creates DIR/www (0755). Returns 1 on a bad KIND.
srv_conf() {
	local kind=$1 dir=$2 port=$3 extra=${4-}
	_srv_check_kind "$kind" || return 1
	mkdir -p "$dir/www" "$dir/run" || return 1
	chmod 0755 "$dir" "$dir/www"
	echo "$kind $port" >"$dir/.srv-conf"
	case $kind in
	lighttpd)  _srv_conf_lighttpd "$dir" "$port" "$extra" ;;
	apache-*)  _srv_conf_apache "${kind#apache-}" "$dir" "$port" "$extra" ;;
	busybox)   printf '# busybox httpd.conf\n%s\n' "$extra" >"$dir/httpd.conf" ;;
	python)    : ;;
	esac
}

_srv_conf_lighttpd() {
	local dir=$1 port=$2 extra=$3 user=
	# Debian's lighttpd drops to www-data; a non-root run keeps its user.
	(( EUID == 0 )) && user='server.username = "www-data"
server.groupname = "www-data"'
	mkdir -p "$dir/run/uploads"
	(( EUID == 0 )) && chown www-data:www-data "$dir/run/uploads"
	cat >"$dir/lighttpd.conf" <<EOF
# Debian's /etc/lighttpd/lighttpd.conf with every path inside $dir.
server.modules = (
	"mod_indexfile",
	"mod_access",
	"mod_alias",
	"mod_redirect",
)

server.document-root        = "$dir/www"
server.upload-dirs          = ( "$dir/run/uploads" )
server.errorlog             = "$dir/error.log"
server.pid-file             = "$dir/lighttpd.pid"
$user
server.bind                 = "127.0.0.1"
server.port                 = $port

server.feature-flags       += ("server.h2proto" => "enable")
server.feature-flags       += ("server.h2c"     => "enable")
server.feature-flags       += ("server.graceful-shutdown-timeout" => 5)

server.http-parseopts = (
  "header-strict"           => "enable",
  "host-strict"             => "enable",
  "host-normalize"          => "enable",
  "url-normalize-unreserved"=> "enable",
  "url-normalize-required"  => "enable",
  "url-ctrls-reject"        => "enable",
  "url-path-2f-decode"      => "enable",
  "url-path-dotseg-remove"  => "enable",
)

index-file.names            = ( "index.php", "index.html" )
url.access-deny             = ( "~", ".inc" )
static-file.exclude-extensions = ( ".php", ".pl", ".fcgi" )

include_shell "/usr/share/lighttpd/create-mime.conf.pl"

server.modules += (
	"mod_dirlisting",
	"mod_staticfile",
)
$extra
EOF
}

_srv_conf_apache() {
	local mpm=$1 dir=$2 port=$3 extra=$4 user='' m mods=/etc/apache2/mods-available
	# Debian's envvars: User/Group www-data (meaningful for a root parent).
	(( EUID == 0 )) && user='User www-data
Group www-data'
	{
		cat <<EOF
# Debian's apache2.conf, its enabled modules and default site, with every
# path inside $dir.
ServerRoot /etc/apache2
DefaultRuntimeDir $dir/run
PidFile $dir/apache2.pid
Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
$user
HostnameLookups Off
ErrorLog $dir/error.log
LogLevel warn
ServerName 127.0.0.1

EOF
		# Debian's mods-enabled after a fresh install, in its order.
		for m in access_compat alias auth_basic authn_core authn_file \
			authz_core authz_host authz_user autoindex deflate dir env \
			filter mime "mpm_$mpm" negotiation reqtimeout setenvif status; do
			echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
		done
		for m in alias autoindex deflate dir mime "mpm_$mpm" negotiation \
			reqtimeout setenvif status; do
			echo "Include $mods/$m.conf"
		done
		cat <<EOF

Listen 127.0.0.1:$port

# Debian has AllowOverride None here; All makes Apache look for .htaccess
# in every directory from / down to the file, as a site that uses them
# does (and as Apache did by default before 2.3.9).
<Directory />
	Options FollowSymLinks
	AllowOverride All
	Require all denied
</Directory>

<Directory $dir/www/>
	Options Indexes FollowSymLinks
	AllowOverride All
	Require all granted
</Directory>

AccessFileName .htaccess
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>

LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" vhost_combined
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%h %l %u %t \"%r\" %>s %O" common

Include /etc/apache2/conf-available/security.conf

<VirtualHost *:$port>
	ServerAdmin webmaster@localhost
	DocumentRoot $dir/www
	ErrorLog $dir/error.log
	CustomLog $dir/access.log combined
</VirtualHost>

$extra
EOF
	} >"$dir/apache2.conf"
}

# srv_port DIR: print the port srv_conf DIR gave the server.
srv_port() {
	local _kind port
	read -r _kind port <"$1/.srv-conf" 2>/dev/null || return 1
	echo "$port"
}

# --- processes ----------------------------------------------------------------

# _srv_pattern KIND DIR: the command-line glob of every process of the
# KIND server of DIR (main process and children alike).
_srv_pattern() {
	case $1 in
	lighttpd)  echo "*lighttpd*-f $2/lighttpd.conf*" ;;
	apache-*)  echo "*apache2*-f $2/apache2.conf*" ;;
	busybox)   echo "*httpd*-h $2/www*" ;;
	python)    echo "*http.server*--directory $2/www*" ;;
	esac
}

# _srv_is PID KIND DIR: succeeds when PID is a live (not zombie) process of
# the KIND server of DIR. Guards every signal we send against a pid that
# was reused by an unrelated process.
_srv_is() {
	local pid=$1 stat cmdline pattern
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	# field 3, after the parenthesised command name, is the state
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]] || return 1
	{ cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline"); } 2>/dev/null || return 1
	pattern=$(_srv_pattern "$2" "$3")
	# shellcheck disable=SC2053 # a glob on purpose
	[[ $cmdline == $pattern ]]
}

# _srv_children PID KIND DIR: print the pids of PID's live children that
# belong to the same server.
_srv_children() {
	local pid
	for pid in $(pgrep -P "$1"); do
		_srv_is "$pid" "$2" "$3" && echo "$pid"
	done
}

# srv_serving_pids KIND DIR: print the pids of the processes that answer
# requests: Apache's children (event and prefork); the one process of
# lighttpd and python; busybox's parent (it forks a child per connection,
# which lives only as long as that connection). Nothing when not running.
srv_serving_pids() {
	local kind=$1 dir=$2 main
	main=$(cat "$dir/.srv-pid" 2>/dev/null)
	_srv_is "$main" "$kind" "$dir" || return 0
	case $kind in
	apache-*) _srv_children "$main" "$kind" "$dir" ;;
	*)        echo "$main" ;;
	esac
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
# tell of a crash or an error; nothing when the logs are clean. Apache:
# levels crit and above, and a child that died of a signal; lighttpd:
# anything but its start and stop notes; busybox and python: anything on
# their stderr but python's start line and request log.
srv_log_problems() {
	local kind=$1 dir=$2
	case $kind in
	apache-*) grep -E '\[[a-z_]*:(crit|alert|emerg)\]|exit signal' "$dir/error.log" ;;
	lighttpd) grep -vE '\) server (started|stopped)|graceful shutdown' "$dir/error.log" ;;
	busybox)  cat "$dir/server.out" ;;
	python)   grep -vE '^Serving HTTP on |^127\.0\.0\.1 - - \[' "$dir/server.out" ;;
	esac 2>/dev/null
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

# srv_start KIND DIR [with|without]: start the KIND server configured by
# srv_conf in DIR, with the library preloaded for "with". Waits until the
# port listens (and, for Apache, a child runs), then sets SRV_PID (the
# main process), SRV_PRELOADED (1 or 0) and SRV_STATS_NAME (the stats
# instance with the library, else empty). Prints nothing on success;
# returns 1 with the reason as diagnostics. srv_stop runs at exit.
srv_start() {
	local kind=$1 dir=$2 mode=${3:-without} port main='' steps
	local -a env=(env -u LD_PRELOAD) cmd
	local stats_name=
	_srv_check_kind "$kind" || return 1
	port=$(srv_port "$dir")
	if [[ -z $port ]]; then
		diag "srv_start: $dir was not configured by srv_conf"
		return 1
	fi
	SRV_PRELOADED=0
	if [[ $mode == with && ${TAP_NO_PRELOAD-} != 1 ]]; then
		stats_name=${SENDCACHE_STATS_NAME:-srv-$kind-$port-$$}
		env+=("LD_PRELOAD=${TAP_PRELOAD:-$tap_lib}"
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
	rm -f "$dir/apache2.pid" "$dir/lighttpd.pid" "$dir/.srv-pid"
	if [[ $kind == lighttpd ]]; then
		# lighttpd opens its error log after dropping privileges
		# (Debian's /var/log/lighttpd belongs to www-data).
		: >>"$dir/error.log"
		(( EUID == 0 )) && chown www-data:www-data "$dir/error.log"
	fi

	case $kind in
	lighttpd) cmd=("$srv_lighttpd_bin" -D -f "$dir/lighttpd.conf") ;;
	apache-*) cmd=("$srv_apache_bin" -f "$dir/apache2.conf" -k start) ;;
	busybox)  cmd=("$srv_busybox_bin" httpd -f -p "127.0.0.1:$port"
			-h "$dir/www" -c "$dir/httpd.conf") ;;
	python)   cmd=("$srv_python_bin" -m http.server --bind 127.0.0.1
			"$port" --directory "$dir/www") ;;
	esac

	# Output goes to a file: a server must not hold prove's pipe open.
	if [[ $kind == apache-* ]]; then
		# apache2 -k start detaches and writes its pid file
		if ! "${env[@]}" "${cmd[@]}" </dev/null >"$dir/server.out" 2>&1; then
			diag "srv_start: ${cmd[*]} failed:" "$(srv_log "$dir")"
			return 1
		fi
		for ((steps = _srv_start_steps; steps > 0; steps--)); do
			main=$(cat "$dir/apache2.pid" 2>/dev/null)
			_srv_is "$main" "$kind" "$dir" && break
			sleep 0.05
		done
	else
		# env execs the server: $! is the server's own pid
		"${env[@]}" "${cmd[@]}" </dev/null >"$dir/server.out" 2>&1 &
		main=$!
		disown "$main" 2>/dev/null
		for ((steps = _srv_start_steps; steps > 0; steps--)); do
			_srv_is "$main" "$kind" "$dir" && break
			sleep 0.05
		done
	fi
	if ! _srv_is "$main" "$kind" "$dir"; then
		# What became of it: exited (a zombie, not reaped yet), gone,
		# or running as something else; and all it printed.
		local state
		state=$(cat "/proc/$main/stat" 2>/dev/null) && state="state ${state##*) }" ||
			state=gone
		diag "srv_start: $kind did not start (pid '$main': ${state%% [0-9]*}," \
			"cmdline '$({ tr '\0' ' ' <"/proc/$main/cmdline"; } 2>/dev/null)')" \
			"$(tail -n 20 "$dir/server.out" 2>/dev/null)"
		# One that starts after all must not outlive the test.
		kill "$main" 2>/dev/null
		return 1
	fi
	echo "$main" >"$dir/.srv-pid"

	for ((steps = _srv_start_steps; steps > 0; steps--)); do
		tap_listening "$port" && break
		_srv_is "$main" "$kind" "$dir" || break
		sleep 0.05
	done
	if ! tap_listening "$port"; then
		diag "srv_start: $kind (pid $main) does not listen on port $port" \
			"$(srv_log "$dir")"
		return 1
	fi
	if [[ $kind == apache-* ]]; then
		for ((steps = _srv_start_steps; steps > 0; steps--)); do
			[[ -n $(srv_serving_pids "$kind" "$dir") ]] && break
			sleep 0.05
		done
		if [[ -z $(srv_serving_pids "$kind" "$dir") ]]; then
			diag "srv_start: Apache $main has no child" "$(srv_log "$dir")"
			return 1
		fi
	fi
	SRV_PID=$main
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

# _srv_wait_gone STEPS KIND DIR PID...: wait up to STEPS x 50 ms until no
# given pid is a live process of the server. Returns 1 on timeout.
_srv_wait_gone() {
	local steps=$1
	shift
	while (( steps-- > 0 )); do
		srv_none_alive "$@" && return 0
		sleep 0.05
	done
	return 1
}

# srv_stop KIND DIR: stop the server srv_start KIND DIR started, if it
# runs: TERM to its main process, KILL after a bound, and KILL to any of
# its children (Apache's, a busybox connection's) still there, each by its
# own pid. Removes the instance's stats segment if the server left it
# (busybox dies of TERM without running exit handlers). Safe to call when
# nothing runs. Always returns 0.
srv_stop() {
	local kind=$1 dir=$2 main pid name
	local -a all=()
	main=$(cat "$dir/.srv-pid" 2>/dev/null)
	if _srv_is "$main" "$kind" "$dir"; then
		mapfile -t all < <(echo "$main"; _srv_children "$main" "$kind" "$dir")
		kill -TERM "$main" 2>/dev/null
		if ! _srv_wait_gone "$_srv_term_steps" "$kind" "$dir" "${all[@]}"; then
			for pid in "${all[@]}"; do
				_srv_is "$pid" "$kind" "$dir" && kill -KILL "$pid" 2>/dev/null
			done
			_srv_wait_gone "$_srv_kill_steps" "$kind" "$dir" "${all[@]}"
		fi
	fi
	rm -f "$dir/.srv-pid"
	name=$(cat "$dir/.srv-stats-name" 2>/dev/null)
	[[ -n $name ]] && rm -f "/dev/shm/sendcache.$name"
	rm -f "$dir/.srv-stats-name"
	return 0
}
