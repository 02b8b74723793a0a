# tests/servers/busybox.sh - busybox httpd: one child per connection.
#
# busybox httpd -f (foreground); the parent accepts and forks a child that
# serves one connection and exits, so the parent is the process that
# stays. EXTRA: httpd.conf lines. It dies of TERM without running exit
# handlers, so the library's stats segment is left for srv_stop to remove.
# Sourced by tests/tap/servers.sh, which documents these functions.

srv_define busybox
srv_busybox_bin=${BUSYBOX:-/bin/busybox}
srv_busybox_leaves_segment=1
# For the benchmarks: it forks a child per connection (the library's
# cache is filled in the parent with SENDCACHE_PREWARM); it ignores
# SIGCHLD, so the kernel reaps its children and their CPU time never
# reaches its cutime; it closes every connection, and more than 4 of them
# only queue.
srv_busybox_forks_per_connection=1
srv_busybox_ignores_sigchld=1
srv_busybox_keepalive=0
srv_busybox_conns=4

srv_busybox_need() { echo "$srv_busybox_bin"; }
# (busybox alone prints its usage and exits 1)
srv_busybox_version() { { "$srv_busybox_bin" 2>/dev/null || :; } | head -n 1; }

srv_busybox_match() { echo "*httpd*-h $1/www*"; }

srv_busybox_cmd() {
	SRV_CMD=("$srv_busybox_bin" httpd -f -p "127.0.0.1:$2" -h "$1/www"
		-c "$1/httpd.conf")
}

srv_busybox_conf() { printf '# busybox httpd.conf\n%s\n' "$3" >"$1/httpd.conf"; }

# Anything it printed.
srv_busybox_problems() { cat "$1/server.out"; }
