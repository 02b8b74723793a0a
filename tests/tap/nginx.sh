# tests/tap/nginx.sh - the nginx tests' short names for servers.sh's nginx.
#
# Source tap.sh first; this sources servers.sh. nginx is a server like the
# others (tests/servers/nginx.sh); these names say less in the many tests
# that run only nginx:
#
#     dir=$(tap_tmpdir); port=$(tap_free_port)
#     nginx_conf "$dir" "$port"             # srv_conf nginx ...
#     echo hello >"$dir/www/index.html"
#     nginx_start "$dir" with || bail_out "nginx did not start"
#     ... requests; $NGINX_MASTER_PID and $NGINX_WORKER_PID are set ...
#     nginx_stop "$dir"                     # also done at exit

# shellcheck source=tests/tap/servers.sh
. "${BASH_SOURCE[0]%/*}/servers.sh"

nginx_bin=$srv_nginx_bin

# nginx_conf DIR PORT [EXTRA]: srv_conf nginx (EXTRA goes in the server
# block).
nginx_conf() { srv_conf nginx "$@"; }

# nginx_www_perms DIR: make everything under DIR/www readable by the
# workers (directories 0755, files 0644).
nginx_www_perms() {
	find "$1/www" -type d -exec chmod 0755 {} + &&
		find "$1/www" -type f -exec chmod 0644 {} +
}

# nginx_worker_pids MASTER: print the pids of MASTER's worker processes.
nginx_worker_pids() {
	local pid
	for pid in $(pgrep -P "$1"); do
		_nginx_worker_is "$pid" && echo "$pid"
	done
}

# _nginx_master_is PID DIR / _nginx_worker_is PID: ours, and still running.
_nginx_master_is() { srv_is_main "$1" nginx "$2"; }
_nginx_worker_is() { _srv_glob_is "$1" "$(srv_nginx_child_match)"; }

# nginx_start DIR [with]: srv_start nginx; also sets NGINX_MASTER_PID,
# NGINX_WORKER_PID and NGINX_PRELOADED.
nginx_start() {
	# shellcheck disable=SC2034 # NGINX_* are results for the caller
	NGINX_MASTER_PID='' NGINX_WORKER_PID='' NGINX_PRELOADED=0
	srv_start nginx "$1" "${2:-without}" || return 1
	# shellcheck disable=SC2034
	NGINX_MASTER_PID=$SRV_PID NGINX_PRELOADED=$SRV_PRELOADED
	# shellcheck disable=SC2034
	NGINX_WORKER_PID=$(srv_serving_pids nginx "$1" | head -n 1)
}

# nginx_stop DIR: srv_stop nginx.
nginx_stop() { srv_stop nginx "$1"; }

# nginx_has_lib PID: succeeds when the library is mapped into process PID.
nginx_has_lib() { srv_has_lib "$1"; }

# nginx_log_problems DIR: print the error log lines at level crit or above.
nginx_log_problems() { srv_log_problems nginx "$1"; }

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
