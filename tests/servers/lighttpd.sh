# tests/servers/lighttpd.sh - Debian's lighttpd, as its package runs it.
#
# Debian's /etc/lighttpd/lighttpd.conf with every path inside DIR: the
# stock network backend, mime types from create-mime.conf.pl, in the
# foreground (-D, as Debian's unit runs it), dropping to www-data when
# started as root. One process serves. EXTRA: lighttpd configuration lines
# put at the end. Sourced by tests/tap/servers.sh, which documents the
# functions a server's file defines.

srv_define lighttpd
srv_lighttpd_bin=${LIGHTTPD:-/usr/sbin/lighttpd}
srv_lighttpd_user=www-data

srv_lighttpd_need() { echo "$srv_lighttpd_bin"; }
srv_lighttpd_version() { "$srv_lighttpd_bin" -v 2>/dev/null | head -n 1; }

srv_lighttpd_match() { echo "*lighttpd*-f $1/lighttpd.conf*"; }

srv_lighttpd_cmd() { SRV_CMD=("$srv_lighttpd_bin" -D -f "$1/lighttpd.conf"); }

# lighttpd opens its error log after dropping privileges (Debian's
# /var/log/lighttpd belongs to www-data).
srv_lighttpd_prestart() {
	: >>"$1/error.log"
	(( EUID == 0 )) && chown www-data:www-data "$1/error.log"
	return 0
}

# Anything in the error log but its start and stop notes.
srv_lighttpd_problems() {
	grep -vE '\) server (started|stopped)|graceful shutdown' "$1/error.log"
}

srv_lighttpd_conf() {
	local dir=$1 port=$2 extra=$3 user=
	(( EUID == 0 )) && user='server.username = "www-data"
server.groupname = "www-data"'
	mkdir -p "$dir/run/uploads"
	(( EUID == 0 )) && chown www-data:www-data "$dir/run/uploads"
	cat >"$dir/lighttpd.conf" <<CONF
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
CONF
}
