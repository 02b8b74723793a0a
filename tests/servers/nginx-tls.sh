# tests/servers/nginx-tls.sh - nginx over HTTPS: tests/servers/nginx.sh's
# server with its listener made TLS (HTTP/1.1, TLS 1.2 and 1.3 as Debian's
# nginx.conf allows them) and a certificate made for DIR: an ECDSA P-256
# key, as a server would have today. Everything else is nginx's (the
# functions this file does not define fall back to srv_nginx_*).

srv_define nginx-tls
srv_nginx_tls_scheme=https

srv_nginx_tls_need() { echo "$srv_nginx_bin"; echo openssl; }

srv_nginx_tls_conf() {
	local dir=$1 port=$2
	srv_nginx_conf "$@" || return 1
	if [[ ! -s $dir/tls.crt ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 2 -subj /CN=127.0.0.1 -keyout "$dir/tls.key" \
			-out "$dir/tls.crt" >/dev/null 2>&1 ||
			{ echo "openssl could not make a certificate" >&2; return 1; }
		chmod 0644 "$dir/tls.key"
	fi
	sed -i "s|^\(\s*\)listen 127.0.0.1:$port;|\1listen 127.0.0.1:$port ssl;\n\1ssl_certificate $dir/tls.crt;\n\1ssl_certificate_key $dir/tls.key;\n\1ssl_protocols TLSv1.2 TLSv1.3;|" \
		"$dir/nginx.conf"
	grep -q "listen 127.0.0.1:$port ssl;" "$dir/nginx.conf"
}
