#!/bin/bash
# t4006-untouched-traffic: traffic the library must leave alone (DESIGN.md
# section 3.9) gets the same bytes with the library as without it.
#
# nginx, Debian's configuration (sendfile on, tcp_nopush on), serves files
# of 0 B, 1 KiB, 100 KiB and 2 MiB with GET, HEAD and a Range over:
#   a. TLS, HTTP/1.1 (a self-signed certificate made here);
#   b. TLS, HTTP/2 (ALPN), and HTTP/2 in clear text (prior knowledge) on
#      a TCP socket, where nginx writes frame headers and sendfiles the
#      data corked;
#   c. a proxy: one nginx fetches the files from another nginx over a
#      UNIX-domain socket (proxy_pass http://unix:...), the 2 MiB body
#      through a temporary file;
#   d. TLS with ssl_conf_command Options KTLS: kTLS where the kernel has
#      it (/proc/net/tls_stat must show that the kernel encrypted), the
#      failed setsockopt(TCP_ULP) and user-space TLS where it has not.
# Every response is fetched once from plain nginx (checked against the
# files) and twice with the library (the first fills the cache, the second
# hits it); status, headers but Date, HTTP version and the body's digest
# must equal the plain ones. The library's counters must show that nothing
# was held back, merged or corked on the TLS and UNIX-socket servers.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl openssl sha256sum
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"

sizes=(0 1024 102400 2097152)
kinds=(get head range)
ncases=$(( ${#sizes[@]} * ${#kinds[@]} ))
# Seconds a request may take: a response held back until a timeout fails.
max_time=5
# Library rounds: the first fills the cache, the second hits it.
rounds=2

# --- kTLS: a property of the kernel ---------------------------------------
#
# The kernel has kTLS when the "tls" upper-layer protocol is registered:
# /proc/net/tls_stat exists and "tls" is in tcp_available_ulp. nginx's
# worker cannot load the module itself (the autoload needs CAP_NET_ADMIN),
# so a root run tries modprobe first.
ktls=0
ktls_why=
ktls_probe() {
	local ulp=/proc/sys/net/ipv4/tcp_available_ulp tried='modprobe: not run (not root)'
	if [[ ! -e /proc/net/tls_stat ]] && (( EUID == 0 )); then
		if ! command -v modprobe >/dev/null 2>&1; then
			tried='modprobe: no such command'
		elif modprobe tls 2>/dev/null; then
			tried='modprobe tls: loaded'
		else
			tried='modprobe tls: failed'
		fi
	fi
	if [[ -e /proc/net/tls_stat ]] && grep -qw tls "$ulp" 2>/dev/null; then
		ktls=1
		return
	fi
	ktls_why="no kTLS in this kernel: /proc/net/tls_stat $([[ -e /proc/net/tls_stat ]] || echo 'absent'),"
	ktls_why+=" tcp_available_ulp '$(cat "$ulp" 2>/dev/null)', $tried"
	if [[ -r /proc/config.gz ]] && command -v zcat >/dev/null 2>&1; then
		ktls_why+=", $(zcat /proc/config.gz | grep -E '^(# )?CONFIG_TLS[= ]' | sed 's/^# //' | head -n 1)"
	fi
}
ktls_probe

# tls_tx: the kernel's count of TLS transmit contexts set up so far
# (software and offloaded).
tls_tx() {
	awk '$1 == "TlsTxSw" || $1 == "TlsTxDevice" { n += $2 } END { print n + 0 }' \
		/proc/net/tls_stat
}

# --- the servers ----------------------------------------------------------

cert_dir=$(tap_tmpdir)
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
	-keyout "$cert_dir/key.pem" -out "$cert_dir/cert.pem" >/dev/null 2>&1 ||
	bail_out "openssl could not make a self-signed certificate"
tls_conf="
		ssl_certificate $cert_dir/cert.pem;
		ssl_certificate_key $cert_dir/key.pem;"

# files DIR: the corpus in DIR/www, an hour old (stable Last-Modified).
files() {
	local size
	for size in "${sizes[@]}"; do
		head -c "$size" /dev/urandom >"$1/www/f$size.bin"
	done
	touch -d "@$(( $(date +%s) - 3600 ))" "$1"/www/*.bin
	nginx_www_perms "$1"
}

# A: TLS with HTTP/1.1 and HTTP/2, and clear-text HTTP/2.
adir=$(tap_tmpdir)
aport=$(tap_free_port) tls_port=$(tap_free_port) h2_port=$(tap_free_port) h2c_port=$(tap_free_port)
nginx_conf "$adir" "$aport" "
		listen 127.0.0.1:$tls_port ssl;
		listen 127.0.0.1:$h2_port ssl http2;
		listen 127.0.0.1:$h2c_port http2;$tls_conf"
files "$adir"

# U: the upstream, on a UNIX-domain socket; F: the proxy in front of it.
udir=$(tap_tmpdir)
uport=$(tap_free_port) usock=$udir/up.sock
nginx_conf "$udir" "$uport" "
		listen unix:$usock;"
files "$udir"
fdir=$(tap_tmpdir)
fport=$(tap_free_port)
nginx_conf "$fdir" "$fport" "
		location /up/ {
			proxy_pass http://unix:$usock:/;
		}"

# K: kTLS.
kdir=$(tap_tmpdir)
kport=$(tap_free_port) ktls_port=$(tap_free_port)
nginx_conf "$kdir" "$kport" "
		listen 127.0.0.1:$ktls_port ssl;$tls_conf
		ssl_conf_command Options KTLS;"
files "$kdir"

# --- requests -------------------------------------------------------------

empty_sha=$(sha256sum </dev/null) empty_sha=${empty_sha%% *}

# fetch KIND URL CURL-ARG...: one request on a new connection; prints the
# record the runs compare (curl's exit status, HTTP version, status line
# and headers but Date, body length and digest) and leaves the headers in
# $work/h and the body in $work/b.
fetch() {
	local kind=$1 url=$2 rc ver line sum
	local -a args=(-sk --max-time "$max_time" -D "$work/h" -w '%{http_version}')
	shift 2
	case $kind in
	get)   args+=(-o "$work/b") ;;
	head)  args+=(-o /dev/null --head) ;;
	range) args+=(-o "$work/b" -H 'Range: bytes=10-99') ;;
	esac
	rm -f "$work/h" "$work/b"
	ver=$(curl "${args[@]}" "$@" "$url")
	rc=$?
	touch "$work/h" "$work/b"
	echo "curl-exit: $rc http-version: $ver"
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ -z $line || ${line,,} == date:* ]] && continue
		echo "$line"
	done <"$work/h"
	sum=$(sha256sum "$work/b")
	echo "body: $(stat -c %s "$work/b") ${sum%% *}"
}

# summary VERSION: "vVERSION STATUS BODY-LENGTH BODY-SHA" of the last fetch.
summary() {
	local status sum
	read -r _ status _ <"$work/h"
	sum=$(sha256sum "$work/b")
	echo "v$1 $status $(stat -c %s "$work/b") ${sum%% *}"
}

# expected VERSION KIND FILE: the summary the plain server must give.
expected() {
	local v=$1 kind=$2 file=$3 size sum
	size=$(stat -c %s "$file")
	case $kind in
	get)   sum=$(sha256sum "$file"); echo "v$v 200 $size ${sum%% *}" ;;
	head)  echo "v$v 200 0 $empty_sha" ;;
	range) if (( size == 0 )); then
		       # nginx's 416 page: its length and digest are nginx's business
		       echo "v$v 416"
		       return
	       fi
	       sum=$(tail -c +11 "$file" | head -c 90 | sha256sum)
	       echo "v$v 206 90 ${sum%% *}" ;;
	esac
}

# run_cases MODE LABEL WWW VERSION URL-BASE CURL-ARG...: every case once.
# MODE plain checks each answer against the files and keeps the records in
# plain_rec; any other MODE checks each record against the kept one.
run_cases() {
	local mode=$1 label=$2 www=$3 v=$4 base=$5 size kind c=0 rec want got
	shift 5
	for size in "${sizes[@]}"; do
		for kind in "${kinds[@]}"; do
			rec=$(fetch "$kind" "$base/f$size.bin" "$@")
			if [[ $mode == plain ]]; then
				plain_rec["$label $c"]=$rec
				want=$(expected "$v" "$kind" "$www/f$size.bin")
				got=$(summary "$v")
				[[ $want == *\ 416 ]] && got=${got%% 416 *}\ 416
				is "$got" "$want" "$label, plain: $kind f$size.bin"
			else
				is "$rec" "${plain_rec["$label $c"]}" "$label, $mode: $kind f$size.bin"
			fi
			c=$((c + 1))
		done
	done
}

# counter NAME COUNTER: one counter of the instance NAME.
counter() {
	"$stat_cli" -1 -n "$1" 2>/dev/null | awk -v c="$2" '$1 == c { print $2 }'
}

# lib_is / lib_ok: is / ok on the library's counters; skipped when the
# "with library" runs go without it (TAP_NO_PRELOAD=1).
lib_is() {
	if [[ ${TAP_NO_PRELOAD-} == 1 ]]; then skip "TAP_NO_PRELOAD=1"; else is "$@"; fi
}
lib_ok() {
	if [[ ${TAP_NO_PRELOAD-} == 1 ]]; then skip "TAP_NO_PRELOAD=1"; else ok "$@"; fi
}

# untouched NAME: the counters that say the library held, merged or corked
# something, as "name=value ..." (all must be 0).
untouched() {
	local c out=
	for c in head_held merged_writev merged_bytes cork_kept flush_blocking piped; do
		out+="$c=$(counter "$1" "$c") "
	done
	echo "${out% }"
}
none='head_held=0 merged_writev=0 merged_bytes=0 cork_kept=0 flush_blocking=0 piped=0'

# check_alive DIR WORKER LABEL: the worker never crashed, the log is clean.
check_alive() {
	is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$2 " \
		"$3: the worker is still pid $2"
	is "$(nginx_log_problems "$1")" "" "$3: no [crit], [alert] or [emerg] in the error log"
}

work=$(tap_tmpdir)
https=https://127.0.0.1
# transports: label, document root, HTTP version, URL base, curl options
a_tls=("TLS HTTP/1.1" "$adir/www" 1.1 "$https:$tls_port" --http1.1)
b_h2=("TLS HTTP/2" "$adir/www" 2 "$https:$h2_port" --http2)
b_h2c=("clear HTTP/2" "$adir/www" 2 "http://127.0.0.1:$h2c_port" --http2-prior-knowledge)
c_unix=("proxy over UNIX socket" "$udir/www" 1.1 "http://127.0.0.1:$fport/up" --http1.1)
d_ktls=("TLS with Options KTLS" "$kdir/www" 1.1 "$https:$ktls_port" --http1.1)

# Per transport: the plain run and the library rounds. Then the library is
# mapped (A, U, F, K); A's, U's and K's counters; K's two tls_stat checks;
# A's, U's, F's and K's workers and logs.
plan $(( 5 * ncases * (1 + rounds) + 4 + 2 + 2 + 1 + 2 + 2 * 4 ))

# The plain run's record of each case: "LABEL N".
declare -A plain_rec=()

# --- a, b: TLS, HTTP/2 ------------------------------------------------------

name_a=t4006-tls-$$
nginx_start "$adir" || bail_out "plain nginx (TLS) did not start"
run_cases plain "${a_tls[@]}"
run_cases plain "${b_h2[@]}"
run_cases plain "${b_h2c[@]}"
nginx_stop "$adir"

SENDCACHE_STATS_NAME=$name_a nginx_start_with "$adir"
for ((r = 1; r <= rounds; r++)); do
	run_cases "library round $r" "${a_tls[@]}"
	run_cases "library round $r" "${b_h2[@]}"
done
lib_is "$(untouched "$name_a")" "$none" \
	"TLS: nothing held back, merged or corked"
lib_ok "TLS: the cache served the files' opens" test "$(counter "$name_a" open_hit)" -gt 0
# Clear-text HTTP/2 is TCP: the library may merge there; the bytes must match.
for ((r = 1; r <= rounds; r++)); do
	run_cases "library round $r" "${b_h2c[@]}"
done
note "clear HTTP/2 counters: $(untouched "$name_a")"
check_alive "$adir" "$worker" "TLS server"
nginx_stop "$adir"

# --- c: an upstream over a UNIX-domain socket -------------------------------

name_u=t4006-up-$$
nginx_start "$udir" || bail_out "plain nginx (upstream) did not start"
nginx_start "$fdir" || bail_out "plain nginx (proxy) did not start"
run_cases plain "${c_unix[@]}"
nginx_stop "$fdir"
nginx_stop "$udir"

SENDCACHE_STATS_NAME=$name_u nginx_start_with "$udir"
uworker=$worker umaster=$NGINX_MASTER_PID
SENDCACHE_STATS_NAME=t4006-proxy-$$ nginx_start_with "$fdir"
fworker=$worker fmaster=$NGINX_MASTER_PID
for ((r = 1; r <= rounds; r++)); do
	run_cases "library round $r" "${c_unix[@]}"
done
lib_is "$(untouched "$name_u")" "$none" "upstream on a UNIX socket: nothing held back, merged or corked"
lib_ok "upstream on a UNIX socket: its sendfile calls went to the kernel as they were" \
	test "$(counter "$name_u" sendfile_real)" -gt 0
NGINX_MASTER_PID=$fmaster check_alive "$fdir" "$fworker" "proxy"
NGINX_MASTER_PID=$umaster check_alive "$udir" "$uworker" "upstream"
nginx_stop "$fdir"
nginx_stop "$udir"

# --- d: kTLS --------------------------------------------------------------
#
# OpenSSL asks for kTLS (setsockopt TCP_ULP "tls") on every connection of
# this server; where the kernel has no kTLS the call fails and OpenSSL
# encrypts in user space. The bytes are compared either way; where the
# kernel has kTLS, /proc/net/tls_stat must show that it encrypted (nginx
# then sends files with SSL_sendfile, a sendfile on the kTLS socket).

(( ktls )) || diag "kTLS checks skipped: $ktls_why"
name_k=t4006-ktls-$$
nginx_start "$kdir" || bail_out "plain nginx (kTLS) did not start"
(( ktls )) && tx0=$(tls_tx)
run_cases plain "${d_ktls[@]}"
if (( ktls )); then
	tx1=$(tls_tx)
	ok "kTLS, plain: the kernel set up TLS transmit contexts ($tx0 -> $tx1)" test "$tx1" -gt "$tx0"
else
	skip "$ktls_why"
fi
nginx_stop "$kdir"

SENDCACHE_STATS_NAME=$name_k nginx_start_with "$kdir"
for ((r = 1; r <= rounds; r++)); do
	run_cases "library round $r" "${d_ktls[@]}"
done
if (( ktls )); then
	tx2=$(tls_tx)
	ok "kTLS, library: the kernel set up TLS transmit contexts ($tx1 -> $tx2)" test "$tx2" -gt "$tx1"
else
	skip "$ktls_why"
fi
lib_is "$(untouched "$name_k")" "$none" "TLS with Options KTLS: nothing held back, merged or corked"
note "TLS with Options KTLS: sendfile_real=$(counter "$name_k" sendfile_real)"
check_alive "$kdir" "$worker" "TLS with Options KTLS"
nginx_stop "$kdir"
