# tests/servers/nginx.sh - nginx, Debian's configuration.
#
# Debian's shipped /etc/nginx/nginx.conf plus its default site, with every
# path inside DIR, serving DIR/www on 127.0.0.1:PORT with one worker.
# nginx daemonizes and writes DIR/nginx.pid; its master forks the worker
# that serves (as www-data when started as root). EXTRA: lines put inside
# the server block. A graceful stop is QUIT. Sourced by
# tests/tap/servers.sh, which documents these functions.

srv_define nginx
srv_nginx_bin=${NGINX:-/usr/sbin/nginx}
srv_nginx_user=www-data
srv_nginx_detaches=1
srv_nginx_children_serve=1
srv_nginx_stop_signals="QUIT TERM KILL"

srv_nginx_need() { echo "$srv_nginx_bin"; }
srv_nginx_version() { "$srv_nginx_bin" -v 2>&1; }
srv_nginx_pidfile() { echo "$1/nginx.pid"; }
srv_nginx_match() { echo "nginx: master process *$1/nginx.conf*"; }
srv_nginx_child_match() { echo "nginx: worker process*"; }

srv_nginx_cmd() {
	SRV_CMD=("$srv_nginx_bin" -p "$1/" -c "$1/nginx.conf" -e "$1/error.log")
}

# Error log lines at level crit or above ([crit], [alert], [emerg]).
srv_nginx_problems() { grep -E '\[(crit|alert|emerg)\]' "$1/error.log"; }

srv_nginx_conf() {
	local dir=$1 port=$2 extra=$3 user_line=
	# Debian's "user www-data;" only means something to a root master; a
	# non-root run keeps its own user and nginx would warn about the line.
	(( EUID == 0 )) && user_line='user www-data;'
	mkdir -p "$dir/tmp" || return 1
	chmod 0755 "$dir/tmp"
	cat >"$dir/nginx.conf" <<CONF
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
CONF
}
