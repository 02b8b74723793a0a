# tests/tap/nginx.sh - run a private nginx on 127.0.0.1 for the server tests.
#
# Source tap.sh first. A test makes one directory per server; everything
# nginx reads or writes (configuration, document root, pid file, logs,
# temporary files) lives in it, so nothing under /etc, /run or /var changes:
#
#     dir=$(tap_tmpdir); port=$(tap_free_port)
#     nginx_conf "$dir" "$port"             # writes nginx.conf, makes www/
#     echo hello >"$dir/www/index.html"
#     nginx_start "$dir" with || bail_out "nginx did not start"
#     ... requests; $NGINX_MASTER_PID and $NGINX_WORKER_PID are set ...
#     nginx_stop "$dir"                     # also done at exit
#
# "with" puts the library in the master's environment (LD_PRELOAD); the
# workers are forked from it and inherit the mapping. TAP_PRELOAD replaces
# the LD_PRELOAD value (for example to put a sanitizer runtime first), and
# TAP_NO_PRELOAD=1 starts every server without it.

nginx_bin=${NGINX:-/usr/sbin/nginx}

# How long start and stop may take, in 50 ms steps: a healthy nginx needs
# a few milliseconds; the bound only keeps a broken one from hanging prove.
_nginx_start_steps=100   # 5 s
_nginx_quit_steps=100    # 5 s for a graceful stop, then TERM
_nginx_term_steps=40     # 2 s after TERM, then KILL

# nginx_conf DIR PORT: write DIR/nginx.conf, modelled on Debian's shipped
# /etc/nginx/nginx.conf plus its default site, serving DIR/www on
# 127.0.0.1:PORT with one worker. Creates DIR/www (0755) if needed.
nginx_conf() {
	local dir=$1 port=$2 extra=${3-} user_line=
	# Debian's "user www-data;" only means something to a root master; a
	# non-root run keeps its own user and nginx would warn about the line.
	(( EUID == 0 )) && user_line='user www-data;'
	mkdir -p "$dir/www" "$dir/tmp" || return 1
	chmod 0755 "$dir" "$dir/www" "$dir/tmp"
	cat >"$dir/nginx.conf" <<EOF
# Debian's nginx.conf and default site, with every path inside $dir.
$user_line
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
lock_file $dir/nginx.lock;
error_log $dir/error.log;

events {
	worker_connections 768;
}

http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;

	include /etc/nginx/mime.types;
	default_type application/octet-stream;

	access_log $dir/access.log;

	gzip on;

	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;

	server {
		listen 127.0.0.1:$port;
		server_name _;
		root $dir/www;
		index index.html;

		location / {
			try_files \$uri \$uri/ =404;
		}
$extra
	}
}
EOF
}

# nginx_www_perms DIR: make everything under DIR/www readable by the
# workers (directories 0755, files 0644).
nginx_www_perms() {
	find "$1/www" -type d -exec chmod 0755 {} + &&
		find "$1/www" -type f -exec chmod 0644 {} +
}

# nginx_port DIR: print the port DIR/nginx.conf listens on (plain or "ssl";
# the real-site benchmark's nginx-tls did not start when only plain was read).
nginx_port() {
	sed -n 's/^[[:space:]]*listen 127\.0\.0\.1:\([0-9][0-9]*\)[ ;].*/\1/p' \
		"$1/nginx.conf" | head -n 1
}

# _nginx_is PID PATTERN: succeeds when PID is a live (not zombie) process
# whose command line matches the glob PATTERN. Guards every signal we send
# against a pid that was reused by an unrelated process.
_nginx_is() {
	local pid=$1 pattern=$2 stat cmdline
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	# field 3, after the parenthesised command name, is the state
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]] || return 1
	cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	# shellcheck disable=SC2053 # PATTERN is a glob on purpose
	[[ $cmdline == $pattern ]]
}

# _nginx_master_is PID DIR / _nginx_worker_is PID: ours, and still running.
_nginx_master_is() { _nginx_is "$1" "nginx: master process *$2/nginx.conf*"; }
_nginx_worker_is() { _nginx_is "$1" "nginx: worker process*"; }

# nginx_worker_pids MASTER: print the pids of MASTER's worker processes.
nginx_worker_pids() {
	local pid
	for pid in $(pgrep -P "$1"); do
		_nginx_worker_is "$pid" && echo "$pid"
	done
}

# nginx_start DIR [with]: start nginx on DIR/nginx.conf, with the library
# preloaded when the second argument is "with". Other environment (for
# example SENDCACHE_MAX_FDS=64 nginx_start ...) reaches the master. Waits
# until the port listens and the worker runs, then sets NGINX_MASTER_PID,
# NGINX_WORKER_PID and NGINX_PRELOADED (1 or 0). Returns 1, with the
# reason as diagnostics, if nginx did not come up; nginx_stop runs at exit.
nginx_start() {
	local dir=$1 mode=${2-} port master='' worker='' steps
	local -a env=(env -u LD_PRELOAD)

	port=$(nginx_port "$dir")
	if [[ -z $port ]]; then
		diag "nginx_start: no 'listen 127.0.0.1:PORT' in $dir/nginx.conf"
		return 1
	fi
	# shellcheck disable=SC2034 # NGINX_* are results for the caller
	NGINX_PRELOADED=0
	if [[ $mode == with && ${TAP_NO_PRELOAD-} != 1 ]]; then
		env+=("LD_PRELOAD=$tap_preload")
		# shellcheck disable=SC2034
		NGINX_PRELOADED=1
	fi

	nginx_stop "$dir"
	rm -f "$dir/nginx.pid"
	if [[ ! -e $dir/.nginx-registered ]]; then
		tap_at_exit nginx_stop "$dir"
		: >"$dir/.nginx-registered"
	fi

	# stdout and stderr go to a file: the daemon must not inherit the pipe
	# to prove, or prove would wait for it to close.
	if ! "${env[@]}" "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" \
		-e "$dir/error.log" </dev/null >"$dir/nginx.out" 2>&1; then
		diag "nginx_start: $nginx_bin failed:" "$(cat "$dir/nginx.out")" \
			"$(tail -n 5 "$dir/error.log" 2>/dev/null)"
		return 1
	fi

	for ((steps = _nginx_start_steps; steps > 0; steps--)); do
		master=$(cat "$dir/nginx.pid" 2>/dev/null)
		_nginx_master_is "$master" "$dir" && break
		sleep 0.05
	done
	if ! _nginx_master_is "$master" "$dir"; then
		diag "nginx_start: no master process (pid file: '$master')" \
			"$(tail -n 5 "$dir/error.log" 2>/dev/null)"
		return 1
	fi
	echo "$master" >"$dir/.nginx-master"

	if ! tap_wait_port "$port"; then
		diag "nginx_start: nothing listens on port $port" \
			"$(tail -n 5 "$dir/error.log" 2>/dev/null)"
		return 1
	fi

	for ((steps = _nginx_start_steps; steps > 0; steps--)); do
		worker=$(nginx_worker_pids "$master" | head -n 1)
		[[ -n $worker ]] && break
		sleep 0.05
	done
	if [[ -z $worker ]]; then
		diag "nginx_start: master $master has no worker" \
			"$(tail -n 5 "$dir/error.log" 2>/dev/null)"
		return 1
	fi
	echo "$worker" >"$dir/.nginx-worker"

	# shellcheck disable=SC2034
	NGINX_MASTER_PID=$master
	# shellcheck disable=SC2034
	NGINX_WORKER_PID=$worker
	return 0
}

# _nginx_wait_gone STEPS PID...: wait up to STEPS x 50 ms until none of
# the given pids is a live nginx process. Returns 1 on timeout.
_nginx_wait_gone() {
	local steps=$1 pid alive
	shift
	while (( steps-- > 0 )); do
		alive=
		for pid in "$@"; do
			_nginx_is "$pid" "nginx: *" && alive=1
		done
		[[ -z $alive ]] && return 0
		sleep 0.05
	done
	return 1
}

# nginx_stop DIR: stop the nginx started by nginx_start DIR, if it runs:
# QUIT (graceful), then TERM, then KILL, each to the master's pid only and
# bounded in time. A worker left behind by a master that died is killed by
# its own recorded pid. Safe to call when nothing runs. Always returns 0.
nginx_stop() {
	local dir=$1 master worker
	master=$(cat "$dir/nginx.pid" 2>/dev/null)
	_nginx_master_is "$master" "$dir" ||
		master=$(cat "$dir/.nginx-master" 2>/dev/null)
	worker=$(cat "$dir/.nginx-worker" 2>/dev/null)

	if _nginx_master_is "$master" "$dir"; then
		kill -QUIT "$master" 2>/dev/null
		if ! _nginx_wait_gone "$_nginx_quit_steps" "$master" "$worker"; then
			_nginx_master_is "$master" "$dir" && kill -TERM "$master" 2>/dev/null
			if ! _nginx_wait_gone "$_nginx_term_steps" "$master" "$worker"; then
				_nginx_master_is "$master" "$dir" && kill -KILL "$master" 2>/dev/null
			fi
		fi
	fi
	if _nginx_worker_is "$worker"; then
		kill -KILL "$worker" 2>/dev/null
		_nginx_wait_gone "$_nginx_term_steps" "$worker"
	fi
	rm -f "$dir/.nginx-master" "$dir/.nginx-worker"
	return 0
}

# nginx_has_lib PID: succeeds when the library is mapped into process PID.
nginx_has_lib() {
	local lib
	lib=$(readlink -f "$tap_lib") || return 1
	grep -qF -- "$lib" "/proc/$1/maps" 2>/dev/null
}

# nginx_log_problems DIR: print the error log lines at level crit or above
# ([crit], [alert], [emerg]); nothing when the log is clean.
nginx_log_problems() {
	grep -E '\[(crit|alert|emerg)\]' "$1/error.log" 2>/dev/null
	return 0
}

# nginx_start_with DIR: nginx_start DIR with the library, bailing out if it
# does not start; sets $worker and asserts (one test, or a skip under
# TAP_NO_PRELOAD=1) that the library is mapped in the worker.
nginx_start_with() {
	nginx_start "$1" with || bail_out "nginx with the library did not start"
	worker=$NGINX_WORKER_PID
	if (( NGINX_PRELOADED )); then
		ok "the library is mapped in the worker" nginx_has_lib "$worker"
	else
		skip "TAP_NO_PRELOAD=1"
	fi
}
