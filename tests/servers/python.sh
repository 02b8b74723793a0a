# tests/servers/python.sh - python3 -m http.server (HTTP/1.0, read/write).
#
# Debian's python3, not whatever "python3" is first in PATH: a version
# manager's shim (pyenv) is a shell script that took over 10 s to start
# the server on a loaded machine. One process serves; it dies of TERM
# without running exit handlers. EXTRA is ignored. Sourced by
# tests/tap/servers.sh, which documents these functions.

srv_define python
srv_python_bin=${PYTHON3:-/usr/bin/python3}
srv_python_leaves_segment=1
# For the benchmarks: it serves one request at a time over HTTP/1.0, so
# more than 2 connections only queue.
srv_python_keepalive=0
srv_python_conns=2

srv_python_need() { echo "$srv_python_bin"; }
srv_python_version() { "$srv_python_bin" --version 2>&1; }

srv_python_match() { echo "*http.server*--directory $1/www*"; }

srv_python_cmd() {
	SRV_CMD=("$srv_python_bin" -m http.server --bind 127.0.0.1 "$2"
		--directory "$1/www")
}

srv_python_conf() { :; }

# Anything on its stderr but the start line and the request log.
srv_python_problems() {
	grep -vE '^Serving HTTP on |^127\.0\.0\.1 - - \[' "$1/server.out"
}
