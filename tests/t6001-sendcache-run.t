#!/usr/bin/env bash
# t6001-sendcache-run: the wrapper refuses what LD_PRELOAD cannot reach,
# turns options into SENDCACHE_* variables, and confirms in /proc/PID/maps
# that every process of a daemonizing (nginx) and a foreground (busybox
# httpd) server loaded the library.
. "$(dirname "$0")/tap/tap.sh"
. "$(dirname "$0")/tap/nginx.sh"
tap_require_lib
# sendcache-run puts its library first in LD_PRELOAD; a sanitizer build
# needs the sanitizer's runtime before it (tests/tap/tap.sh, TAP_PRELOAD).
if [[ $tap_preload != "$tap_lib" ]]; then
	skip_all "sendcache-run cannot put TAP_PRELOAD's sanitizer runtime first"
fi
plan 18
tap_require gcc nginx curl busybox perl taskset
run=$tap_top/scripts/sendcache-run
dir=$(tap_tmpdir)

# expect_refusal DESC REGEX CMD...: exit status 2 and a message matching.
expect_refusal() {
	local desc=$1 re=$2 out rc
	shift 2
	out=$("$run" "$@" 2>&1)
	rc=$?
	is "$rc" 2 "$desc: refused"
	like "$out" "$re" "$desc: says why"
}

echo 'int main(void) { return 0; }' | gcc -static -x c - -o "$dir/static" 2>/dev/null
expect_refusal "a static binary" "statically linked" -- "$dir/static"
echo 'const char id[] = "\xff Go buildinf:"; int main(void) { return id[0] == 0; }' |
	gcc -x c - -o "$dir/gobin"
expect_refusal "a Go program" "Go program" -- "$dir/gobin"
cp /bin/true "$dir/suid"
chown nobody "$dir/suid" && chmod u+s "$dir/suid"
expect_refusal "a binary setuid to another user" "setuid nobody" -- "$dir/suid"
expect_refusal "an unknown option" "unknown option '--bogus'" --bogus -- true

# A daemonizing server: nginx with Debian's defaults.
port=$(tap_free_port)
nginx_conf "$dir/ng" "$port"
head -c 5000 /dev/urandom >"$dir/ng/www/f.bin"
nginx_www_perms "$dir/ng"
: >"$dir/stats" && chmod 0666 "$dir/stats"
tap_at_exit nginx_stop "$dir/ng"
# On one CPU the daemonizing parent exits before its child first runs: the
# child must still start from the parent's gauges.
out=$(taskset -c 0 "$run" --lib "$tap_lib" --stats-file "$dir/stats" --max-fds 64 --stats-name "t6001-$$" -- \
	/usr/sbin/nginx -p "$dir/ng" -c "$dir/ng/nginx.conf" 2>&1 </dev/null)
is "$?" 0 "nginx started under sendcache-run"
loaded=$(grep -c 'has sendcache loaded' <<<"$out")
is "$loaded" 2 "master and worker both have the library (/proc/PID/maps)"
for i in 1 2 3; do curl -fs -o /dev/null "http://127.0.0.1:$port/f.bin"; done
got=$(curl -fs "http://127.0.0.1:$port/f.bin" | sha256sum)
is "$got" "$(sha256sum <"$dir/ng/www/f.bin")" "and serves the right bytes"
like "$("$tap_build/sendcache-stat" -1 -n "t6001-$$")" "processes: 2 live" \
	"the daemonized master and its worker count in the --stats-name segment"
entries=$("$tap_build/sendcache-stat" -1 -n "t6001-$$" | awk '$1 == "entries" { print $2 }')
ok "the entries gauge summed over master and worker is sane: $entries" \
	test "${#entries}" -le 3 -a "${entries:-0}" -ge 1
nginx_stop "$dir/ng"
hits=$(awk '$1 == "open_hit" { s += $2 } END { print s + 0 }' "$dir/stats")
ok "options reached the library: the worker counted $hits hits in --stats-file" test "$hits" -ge 3

# A foreground server: busybox httpd -f stays sendcache-run's child.
port=$(tap_free_port)
mkdir -p "$dir/bb" && echo hello >"$dir/bb/index.html"
# busybox dies of SIGTERM without exit handlers: remove its segment here.
tap_at_exit rm -f "/dev/shm/sendcache.t6001bb-$$"
"$run" --lib "$tap_lib" --stats-name "t6001bb-$$" -- busybox httpd -f -p "127.0.0.1:$port" -h "$dir/bb" 2>"$dir/bb.err" &
wrapper=$!
tap_at_exit kill "$wrapper"
tap_wait_port "$port"
# sendcache-run reports after its settle time; on a loaded machine later.
for _ in $(seq 100); do grep -q "has sendcache loaded" "$dir/bb.err" && break; sleep 0.1; done
like "$(cat "$dir/bb.err")" "has sendcache loaded" "busybox httpd in the foreground has the library"
is "$(curl -fs "http://127.0.0.1:$port/index.html")" "hello" "and serves"
kill -TERM "$wrapper"
for _ in $(seq 50); do kill -0 "$wrapper" 2>/dev/null || break; sleep 0.1; done
ok "TERM ends sendcache-run" bash -c "! kill -0 $wrapper 2>/dev/null"
ok "and the server it passed TERM on to" bash -c "! grep -qi ':$(printf %04X "$port") .* 0A ' /proc/net/tcp"
