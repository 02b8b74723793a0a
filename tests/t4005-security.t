#!/bin/bash
# t4005-security: the library never lets a server open what the kernel
# would refuse it, never lets another user at its stats segment, and never
# leaves a descriptor of its own in a program the server executes.
#
# DESIGN.md invariants 3 and 6, each compared with the same run without
# the library:
#   - credentials: build/tests/credcheck (run as root) caches files only
#     root may read, changes its credentials one way (setuid, setresuid,
#     setreuid, seteuid, initgroups, setfsuid, capset, a raw syscall) and
#     asks again (also with a second thread that keeps root's rights and
#     asks in between); the other way round, nobody is refused a group's file,
#     gets the group (setgroups, or setfsuid) and must be let in. Every
#     answer of open, stat, lstat, access and open(O_NOFOLLOW) must be the
#     kernel's; open(O_NOFOLLOW) of a symlink whose target is cached is
#     ELOOP.
#   - nginx "disable_symlinks on" and "if_not_owner" refuse symlinks (403)
#     after their targets were served by their real names, as without.
#   - the stats segment of a running nginx is 0600, root's, and the user
#     nobody can neither read nor write it; a symlink planted at its name
#     before the start is not followed (the library says so on stderr, the target
#     stays as it was, the server serves).
#   - lighttpd runs a CGI after the library cached files: the CGI's open
#     descriptors are the same as without the library, none of them a
#     cached file, the inotify descriptor or the stats segment.
# chmod 000 of a cached file is in tests/tap/fresh.sh (t3002 nginx, t3102
# lighttpd, t3202 Apache event and prefork): 403 50 ms later.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/servers.sh"

tap_require "$nginx_bin" curl sha256sum runuser setpriv
srv_require lighttpd
tap_require_lib
(( EUID == 0 )) || skip_all "credentials and other users need root"
credcheck=$tap_build/tests/credcheck
[[ -x $credcheck ]] || bail_out "$credcheck is not built (make test builds it)"

drops=(full initgroups setuid setresuid setreuid seteuid setfsuid capset syscall)
gains=(gain gain-fs)
threads=(thread-setfsuid thread-syscall)
plan $(( (${#drops[@]} + ${#gains[@]} + ${#threads[@]}) * 2 + 1 + 4 + 3 + 5 + 5 ))

dir=$(tap_tmpdir)
other_uid=4242          # owns the files only root's rights may read
group_gid=4243          # the group that nobody gets in the gain scenarios

# --- credentials -------------------------------------------------------------

cred=$dir/cred
mkdir -m 0755 "$cred"
(
	cd "$cred" || exit 1
	echo "$group_gid" >gid
	echo 600 >f600 && chmod 0600 f600 && chown "$other_uid:$other_uid" f600
	mkdir d700 && echo 700 >d700/f && chmod 0644 d700/f &&
		chown "$other_uid" d700 && chmod 0700 d700
	echo 640 >g640 && chown "$other_uid:$group_gid" g640 && chmod 0640 g640
	mkdir d750 && echo 750 >d750/f && chmod 0644 d750/f &&
		chown "$other_uid:$group_gid" d750 && chmod 0750 d750
	echo 644 >f644 && chmod 0644 f644 gid
	ln -s f644 link
) || bail_out "cannot make the files in $cred"

# credrun MODE SCENARIO: credcheck's answers and exit status.
credrun() {
	local -a env=(env -u LD_PRELOAD)
	[[ $1 == with ]] && env+=("LD_PRELOAD=$tap_preload" SENDCACHE_STATS=0)
	"${env[@]}" "$credcheck" "$cred" "$2" 2>"$dir/cred.$1.$2.err"
	echo "exit $?"
}

for s in "${drops[@]}" "${gains[@]}" "${threads[@]}"; do
	without=$(credrun without "$s")
	with=$(credrun with "$s")
	is "$with" "$without" "$s: every answer the same with the library"
	if [[ $s == gain* ]]; then
		want=$'nobody-again open g640: EACCES\nnobody-again stat d750/f: EACCES\ngrouped open g640: ok\ngrouped open d750/f: ok'
	elif [[ $s == thread-* ]]; then
		want=$'other-thread open f600: ok\nother-thread open d700/f: ok\ndropped open f600: EACCES\ndropped stat d700/f: EACCES'
	else
		want=$'root-again open f600: ok\nroot-again open d700/f: ok\ndropped open f600: EACCES\ndropped stat d700/f: EACCES'
	fi
	is "$(grep -Fx -f <(printf '%s\n' "$want") <<<"$with")" "$want" \
		"$s: with the library, what was cached is refused (or the refused let in)"
done
like "$(credrun with full)" "root-again nofollow link: ELOOP" \
	"open(O_NOFOLLOW) of a symlink to a cached file: ELOOP"

# --- nginx disable_symlinks --------------------------------------------------

stats_name=t4005-$$
shm=/dev/shm/sendcache.$stats_name
planted=/dev/shm/sendcache.$stats_name-planted
tap_at_exit rm -f "$shm" "$planted"

ng=$dir/nginx
port=$(tap_free_port)
nginx_conf "$ng" "$port" "
		location /plain/ { alias $ng/www/; }
		location /on/ { disable_symlinks on; }
		location /owner/ { disable_symlinks if_not_owner; }" ||
	bail_out "nginx_conf failed"
for d in on owner; do
	mkdir -p "$ng/www/$d/real"
	head -c 3000 /dev/urandom >"$ng/www/$d/a.bin"
	head -c 5000 /dev/urandom >"$ng/www/$d/real/b.bin"
	ln -s a.bin "$ng/www/$d/link.bin"
	ln -s real "$ng/www/$d/dirlink"
done
# if_not_owner: a link owned by another user than its target is refused.
ln -s a.bin "$ng/www/owner/other.bin"
chown -h nobody "$ng/www/owner/other.bin"
nginx_www_perms "$ng"

# With disable_symlinks nginx opens each component relative to the one
# before (openat, O_NOFOLLOW), which the kernel answers; /plain/ opens by
# full path, which the library caches: the targets and the links by their
# own names first, then every way through a symlink, twice.
sym_urls=(/plain/on/a.bin /plain/on/link.bin /plain/owner/a.bin
	  /plain/owner/other.bin /plain/on/dirlink/b.bin
	  /on/a.bin /on/real/b.bin /owner/a.bin /owner/real/b.bin
	  /on/link.bin /on/dirlink/b.bin /owner/link.bin /owner/other.bin
	  /owner/dirlink/b.bin)

# fetch_all URL...: "URL STATUS SHA" per request, each URL twice.
fetch_all() {
	local u code
	for u in "$@" "$@"; do
		code=$(curl -s --max-time 10 -o "$dir/body" -w '%{http_code}' \
			"http://127.0.0.1:$port$u")
		echo "$u $code $(sha256sum <"$dir/body" | cut -c1-16)"
	done
}

nginx_start "$ng" || bail_out "nginx did not start"
without=$(fetch_all "${sym_urls[@]}")
nginx_stop "$ng"
codes=$(awk '{print $1, $2}' <<<"$without" | head -n ${#sym_urls[@]})
is "$codes" "/plain/on/a.bin 200
/plain/on/link.bin 200
/plain/owner/a.bin 200
/plain/owner/other.bin 200
/plain/on/dirlink/b.bin 200
/on/a.bin 200
/on/real/b.bin 200
/owner/a.bin 200
/owner/real/b.bin 200
/on/link.bin 403
/on/dirlink/b.bin 404
/owner/link.bin 200
/owner/other.bin 403
/owner/dirlink/b.bin 200" "disable_symlinks without the library: links refused"

export SENDCACHE_STATS_NAME=$stats_name
nginx_start_with "$ng"
with=$(fetch_all "${sym_urls[@]}")
is "$with" "$without" "disable_symlinks with the library: same statuses and bodies"
ok "the files were served from the cache" \
	grep -q "$ng/www/on/a.bin" <(ls -l "/proc/$worker/fd/")

# --- the stats segment -------------------------------------------------------

# The running nginx's segment.
is "$(stat -c '%a %U %F' "$shm" 2>&1)" "600 root regular file" \
	"stats segment $shm: mode 0600, root's"
ok "nobody cannot read it" \
	runuser -u nobody -- sh -c "! cat '$shm' >/dev/null 2>&1"
ok "nobody cannot write it" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	sh -c "! { echo x >>'$shm'; } 2>/dev/null"
nginx_stop "$ng"

# A symlink planted at the segment's name by another user.
echo "precious, not a segment" >"$dir/target"
before=$(sha256sum <"$dir/target")
ln -s "$dir/target" "$planted"
chown -h nobody "$planted"
export SENDCACHE_STATS_NAME=$stats_name-planted
nginx_start_with "$ng"
like "$(cat "$ng/server.out")" "sendcache: no stats segment /sendcache.$stats_name-planted: File exists" \
	"a planted symlink: the library says it keeps its counters private"
is "$(curl -s --max-time 10 "http://127.0.0.1:$port/on/a.bin" | sha256sum)" \
	"$(sha256sum <"$ng/www/on/a.bin")" "the server serves"
nginx_stop "$ng"
is "$(sha256sum <"$dir/target")" "$before" "the symlink's target is unchanged"
is "$(readlink "$planted")" "$dir/target" "the symlink is left as it was"
unset SENDCACHE_STATS_NAME

# --- descriptors of a CGI ----------------------------------------------------

lt=$dir/lighttpd
port=$(tap_free_port)
srv_conf lighttpd "$lt" "$port" 'server.modules += ("mod_cgi")
cgi.assign = (".sh" => "/bin/sh")
static-file.exclude-extensions += (".sh")' || bail_out "srv_conf failed"
# The CGI lists the descriptors it was started with (ls opens one more,
# /proc/self/fd itself); without LD_PRELOAD, in case the server passed it.
# Its pid goes to cgi.pids: sh and env run with the library and exec into
# ls without it, whose exit leaves their segments to the next sweep (see
# sendcache(7)); the test removes them.
: >"$lt/cgi.pids" && chmod 0666 "$lt/cgi.pids"
printf '%s\n' 'printf "Content-Type: text/plain\r\n\r\n"' \
	"echo \$\$ >>'$lt/cgi.pids'" \
	'exec env -u LD_PRELOAD ls -l /proc/self/fd' >"$lt/www/fds.sh"
remove_cgi_segments() {
	local p
	while read -r p; do
		[[ $p =~ ^[0-9]+$ ]] && rm -f "/dev/shm/sendcache.sh-$p" "/dev/shm/sendcache.env-$p"
	done <"$lt/cgi.pids"
}
tap_at_exit remove_cgi_segments
for ((i = 0; i < 20; i++)); do
	head -c $(( i * 997 + 1 )) /dev/urandom >"$lt/www/s$i.bin"
done
chmod 0644 "$lt/www/"*

# warm: every static file, twice (the library caches them).
warm() {
	local i
	for ((i = 0; i < 20; i++)); do
		curl -s --max-time 10 -o /dev/null -o /dev/null \
			"http://127.0.0.1:$port/s$i.bin" "http://127.0.0.1:$port/s$i.bin"
	done
}

# cgi_fds: what the CGI says, "FD TARGET" per descriptor, numbers in
# brackets and pids dropped.
cgi_fds() {
	curl -s --max-time 10 "http://127.0.0.1:$port/fds.sh" |
		sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/\1 \2/p' |
		sed -e 's/\[[0-9]*\]/[]/' -e 's|^\([0-9]*\) /proc/[0-9]*/fd$|\1 /proc/N/fd|'
}

srv_start lighttpd "$lt" || bail_out "lighttpd did not start"
warm
without=$(cgi_fds)
srv_stop lighttpd "$lt"
like "$without" "1 pipe:\\[\\]" "the CGI lists its descriptors (without the library)"

srv_start lighttpd "$lt" with || bail_out "lighttpd with the library did not start"
srv_ok_lib lighttpd "$lt" "lighttpd"
pid=$(srv_serving_pids lighttpd "$lt" | head -n 1)
warm
ok "the library holds its inotify descriptor and cached files" \
	sh -c "ls -l /proc/$pid/fd | grep -q anon_inode:inotify &&
	       ls -l /proc/$pid/fd | grep -q '$lt/www/s'"
with=$(cgi_fds)
srv_stop lighttpd "$lt"
is "$with" "$without" "the CGI's descriptors are the same with the library"
unlike "$with" "$lt/www/|inotify|/dev/shm/sendcache" \
	"none is a cached file, the inotify descriptor or the stats segment"
