#!/usr/bin/env bash
# t6006-deb: the Debian package, built, checked, installed, used, removed;
# and the container recipe's files, laid out without Docker.
#
# - make deb builds build/sendcache_VERSION_ARCH.deb with Debian's tools
#   (debian/, dpkg-buildpackage); lintian reports no error and no warning.
# - dpkg -i installs it; nginx started through the installed sendcache-run
#   serves a 1 KiB file at about 3 system calls a request (strace -c of the
#   worker, against 8 or more without); sendcache-stat reads its counters
#   and sendcache-ctl purges its cache.
# - dpkg --purge leaves none of the package's files behind.
# - examples/Dockerfile's steps: the package's files unpacked into a
#   scratch root (dpkg -x, as the image's dpkg -i lays them out), nginx
#   started with the Dockerfile's own ENV lines through a shell that execs
#   it (the image's entrypoint): the library is loaded, counts in /dev/shm,
#   and the scratch root's sendcache-stat reads it.
#
# Needs root (dpkg -i) and a machine where sendcache is not installed as a
# package: the test would replace it (skipped then, a failure under CI).

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/syscalls.sh"

tap_require dpkg-buildpackage dh lintian dpkg-deb strace curl ab "$nginx_bin"
(( EUID == 0 )) || skip_all "dpkg -i needs root"
if dpkg -s sendcache >/dev/null 2>&1; then
	msg="the sendcache package is installed here: this test would replace it"
	[[ -n ${CI-} ]] && bail_out "$msg"
	skip_all "$msg"
fi

plan 14
dir=$(tap_tmpdir)
requests=4000

# quiet OUT CMD...: CMD with its output in OUT (for ok).
quiet() { local out=$1; shift; "$@" >"$out" 2>&1; }

# per_request DIR WORKER: system calls of WORKER per request over ab's
# $requests keep-alive requests, 8 at a time, of $url (strace -c -f, as
# perf counts them in bench/ab.sh: several requests per epoll_wait).
per_request() {
	local out=$1/strace.$2 spid steps total
	strace -f -qq -c -o "$out" -p "$2" 2>/dev/null &
	spid=$!
	for ((steps = 100; steps > 0; steps--)); do
		_sc_traced "$2" && break
		sleep 0.05
	done
	ab -q -k -n "$requests" -c 8 "$url" >"$out.ab" 2>&1
	sleep 0.2
	kill -INT "$spid"
	wait "$spid"
	grep -q "^Complete requests: *$requests\$" "$out.ab" || { echo NA; return; }
	total=$(awk '$NF == "total" { print $4 }' "$out")
	sc_per_request "${total:-0}" "$requests"
}

# Built from the files git tracks, in build/deb/; by a make of its own (not
# one that inherits make check's variables: SANITIZE=... would package a
# sanitizer build).
ok "make deb builds the package" quiet "$dir/make.out" \
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$tap_top" deb ||
	diag "$(tail -n 20 "$dir/make.out")"
deb=$(tail -n 1 "$dir/make.out")
[[ $deb == build/sendcache_*.deb && -f $tap_top/$deb ]] ||
	bail_out "no package in build/: $(tail -n 5 "$dir/make.out")"
deb=$tap_top/$deb
# (lintian leaves a cache file in TMPDIR: the test's own directory)
mkdir -p "$dir/tmp"
is "$(TMPDIR=$dir/tmp lintian --tag-display-limit 0 "$deb" 2>&1 | grep -E '^[EW]: ')" "" \
	"lintian: no error, no warning"

tap_at_exit dpkg --purge sendcache
ok "dpkg -i installs it" quiet "$dir/dpkg.out" dpkg -i "$deb" ||
	diag "$(cat "$dir/dpkg.out")"
mapfile -t files < <(dpkg -L sendcache | while read -r f; do [[ -f $f ]] && echo "$f"; done)
libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/sendcache
for f in "$libdir/libsendcache.so" /usr/bin/sendcache-run /usr/bin/sendcache-stat \
	/usr/bin/sendcache-ctl /usr/share/man/man1/sendcache-ctl.1.gz /usr/share/man/man7/sendcache.7.gz /usr/share/doc/sendcache/examples/nginx-sendcache.conf; do
	[[ " ${files[*]} " == *" $f "* ]] || missing+=" $f"
done
is "${missing-}" "" "it holds the library, the commands, the manual pages, the systemd example"

# nginx through the installed sendcache-run (it daemonizes: checked, left
# running; stopped like any nginx of the tests).
port=$(tap_free_port)
nginx_conf "$dir/ng" "$port"
head -c 1024 /dev/urandom >"$dir/ng/www/f1k.bin"
nginx_www_perms "$dir/ng"
tap_at_exit nginx_stop "$dir/ng"
name=t6006-$$
tap_at_exit rm -f "/dev/shm/sendcache.$name"
like "$(/usr/bin/sendcache-run --stats-name "$name" -- "$nginx_bin" -p "$dir/ng/" \
		-c "$dir/ng/nginx.conf" -e "$dir/ng/error.log" 2>&1)" \
	"has sendcache loaded" "the installed sendcache-run starts nginx with the library"
url=http://127.0.0.1:$port/f1k.bin
tap_wait_port "$port"
curl -s -o /dev/null "$url" -o /dev/null "$url"
with=$(per_request "$dir" "$(srv_serving_pids nginx "$dir/ng")")
like "$(/usr/bin/sendcache-stat -1 -n "$name")" "open_hit +[1-9]" \
	"the installed sendcache-stat reads its counters"
like "$(/usr/bin/sendcache-ctl -n "$name" purge)" "^$name: purge of everything, generation 2$" \
	"the installed sendcache-ctl purges it"
nginx_stop "$dir/ng"
nginx_start "$dir/ng" without || bail_out "nginx did not start"
without=$(per_request "$dir" "$NGINX_WORKER_PID")
nginx_stop "$dir/ng"
ok "about 3 system calls a request through the package: $with, against $without without it" \
	awk -v w="$with" -v o="$without" 'BEGIN { exit !(w >= 2 && w <= 3.5 && o >= 8) }'

ok "dpkg --purge removes it" quiet "$dir/purge.out" dpkg --purge sendcache ||
	diag "$(cat "$dir/purge.out")"
left=()
for f in "${files[@]}"; do
	[[ -e $f ]] && left+=("$f")
done
[[ -d $libdir ]] && left+=("$libdir/")
is "${left[*]}" "" "no file of the package is left (${#files[@]} removed)"

# The container recipe: the files laid out as the image's dpkg -i lays
# them out, nginx started as the image starts it, with the Dockerfile's
# ENV.
docker=$tap_top/examples/Dockerfile
root=$dir/root
dpkg-deb -x "$deb" "$root"
env=()
while read -r line; do
	env+=("$line")
done < <(sed -n 's/^ENV \([A-Z_]*\)=\(.*\)$/\1=\2/p' "$docker")
preload=
for e in "${env[@]}"; do [[ $e == LD_PRELOAD=* ]] && preload=${e#LD_PRELOAD=}; done
# (the Dockerfile names amd64's directory; its comment, arm64's)
preload=${preload/x86_64-linux-gnu/$(dpkg-architecture -qDEB_HOST_MULTIARCH)}
ok "the Dockerfile's LD_PRELOAD ($preload) is a file of the package" \
	test -f "$root$preload"
like "$(grep -c '^COPY sendcache_.*\.deb\|^RUN dpkg -i' "$docker")" '^2$' \
	"the Dockerfile copies the package in and installs it with dpkg -i"
port=$(tap_free_port)
nginx_conf "$dir/ct" "$port"
echo "from the image" >"$dir/ct/www/index.html"
nginx_www_perms "$dir/ct"
sed -i 's/^daemon on;/daemon off;/' "$dir/ct/nginx.conf"
cname=$(printf '%s\n' "${env[@]}" | sed -n 's/^SENDCACHE_STATS_NAME=//p')-$$
tap_at_exit rm -f "/dev/shm/sendcache.$cname"
env -i PATH=/usr/sbin:/usr/bin:/bin "${env[@]/#LD_PRELOAD=*/LD_PRELOAD=$root$preload}" \
	SENDCACHE_STATS_NAME="$cname" \
	sh -c 'exec "$0" -p "$1/" -c "$1/nginx.conf" -e "$1/error.log"' "$nginx_bin" "$dir/ct" \
	</dev/null >"$dir/ct/server.out" 2>&1 &
ct=$!
stop_ct() { [[ -n $ct ]] && kill "$ct" 2>/dev/null; }
tap_at_exit stop_ct
tap_wait_port "$port"
is "$(curl -s --max-time 10 "http://127.0.0.1:$port/")" "from the image" \
	"nginx started as the image starts it serves"
like "$("$root/usr/bin/sendcache-stat" -1 -n "$cname" 2>&1)" "processes: 2 live" \
	"its master and worker count in /dev/shm, read by the unpacked sendcache-stat"
kill -QUIT "$ct"
wait "$ct"
ct=
