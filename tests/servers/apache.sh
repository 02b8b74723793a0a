# tests/servers/apache.sh - Apache httpd, Debian's configuration, as two
# kinds: apache-event and apache-prefork (the MPM).
#
# Debian's apache2.conf and default site with the modules Debian enables,
# every path inside DIR; access log on, EnableSendfile left at its default
# (Off, as Debian ships it), and AllowOverride All from / down, so that
# every request probes .htaccess in every directory on the way. apache2 -k
# start detaches and writes DIR/apache2.pid; its children serve, as
# www-data when started as root. EXTRA: server-context lines (e.g.
# "EnableSendfile On", MPM settings). Sourced by tests/tap/servers.sh,
# which documents these functions.

srv_define apache-event apache-prefork
# What the two kinds share is defined once, as srv_apache_*.
srv_apache_bin=${APACHE2:-/usr/sbin/apache2}
srv_apache_user=www-data
srv_apache_detaches=1
srv_apache_children_serve=1

srv_apache_need() { echo "$srv_apache_bin"; }
srv_apache_version() { "$srv_apache_bin" -v 2>/dev/null | sed -n 's/^Server version: //p'; }
srv_apache_pidfile() { echo "$1/apache2.pid"; }
srv_apache_match() { echo "*apache2*-f $1/apache2.conf*"; }
srv_apache_cmd() { SRV_CMD=("$srv_apache_bin" -f "$1/apache2.conf" -k start); }

# Levels crit and above, and a child that died of a signal.
srv_apache_problems() {
	grep -E '\[[a-z_]*:(crit|alert|emerg)\]|exit signal' "$1/error.log"
}

srv_apache_event_conf() { _srv_apache_conf event "$@"; }
srv_apache_prefork_conf() { _srv_apache_conf prefork "$@"; }

_srv_apache_conf() {
	local mpm=$1 dir=$2 port=$3 extra=$4 user='' m mods=/etc/apache2/mods-available
	# Debian's envvars: User/Group www-data (meaningful for a root parent).
	(( EUID == 0 )) && user='User www-data
Group www-data'
	{
		cat <<CONF
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

CONF
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
		cat <<CONF

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
CONF
	} >"$dir/apache2.conf"
	mkdir -p "$dir/run"
}
