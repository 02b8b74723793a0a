#!/bin/bash
# t3002-nginx-fresh: nginx with the library never serves a stale file.
#
# DESIGN.md invariant 4: a change to a file, or to the path leading to it,
# is seen by every request that starts 50 ms or more after the change.
# Each file is first requested twice so that the library has it cached;
# then it is edited in place (same size, larger, smaller), replaced by
# rename, deleted and recreated, made unreadable and readable again; its
# directory is renamed away and back, made unsearchable, and replaced by
# another directory; a symlink to it is re-pointed. After each change the
# test waits exactly the freshness bound and requests the path twice (the
# first answer refills the cache, the second comes from it). Every step
# is repeated for a few rounds, each with new contents.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl sha256sum
tap_require_lib

# The freshness bound of DESIGN.md invariant 4.
fresh_after=0.05
rounds=3
# Tests per round, counted from the steps below: the file 18, the
# subdirectory 14, the symlink 4.
per_round=36

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
www=$dir/www
work=$dir/work
mkdir -p "$work" "$www/sub"

# sha FILE: the hex SHA-256 of FILE.
sha() {
	local sum
	sum=$(sha256sum "$1") || return 1
	echo "${sum%% *}"
}

# new_content SIZE: a fresh random file of SIZE bytes in $work; prints
# its path. Every change writes bytes no earlier round has served.
new_content() {
	local f
	f=$(mktemp "$work/c.XXXXXX") || return 1
	head -c "$1" /dev/urandom >"$f"
	chmod 0644 "$f"
	echo "$f"
}

# served FILE: what a fresh request must answer while FILE is the file.
served() {
	echo "200 $(sha "$1")"
}

# fetch PATH: "STATUS BODY-SHA" for a 200, just "STATUS" otherwise.
fetch() {
	local code
	rm -f "$work/body"
	code=$(curl -s --max-time 10 -o "$work/body" -w '%{http_code}' \
		"http://127.0.0.1:$port$1")
	if [[ $code == 200 ]]; then
		echo "$code $(sha "$work/body")"
	else
		echo "$code"
	fi
}

# twice DESC PATH EXPECTED: request PATH twice in a row; both must answer
# EXPECTED (two tests).
twice() {
	is "$(fetch "$2")" "$3" "$1"
	is "$(fetch "$2")" "$3" "$1 (again)"
}

# after_change DESC PATH EXPECTED: wait the freshness bound after a change,
# then twice.
after_change() {
	sleep "$fresh_after"
	twice "$@"
}

# --- a file at the top of the document root (18 tests a round) -----------

head -c 3000 /dev/urandom >"$www/a.bin"

file_round() {
	local r=$1 f=$www/a.bin c
	twice "round $r: /a.bin cached" /a.bin "$(served "$f")"

	c=$(new_content "$(stat -c %s "$f")")
	dd if="$c" of="$f" conv=notrunc status=none
	after_change "round $r: /a.bin edited in place, same size" /a.bin "$(served "$f")"

	c=$(new_content $((5000 + r * 1000)))
	cat "$c" >"$f"
	after_change "round $r: /a.bin rewritten in place, larger" /a.bin "$(served "$f")"

	c=$(new_content $((1000 + r * 100)))
	cat "$c" >"$f"
	after_change "round $r: /a.bin rewritten in place, smaller" /a.bin "$(served "$f")"

	c=$(new_content 3000)
	cp "$c" "$www/.a.bin.new"
	mv -f "$www/.a.bin.new" "$f"
	after_change "round $r: /a.bin replaced by rename" /a.bin "$(served "$f")"

	rm -f "$f"
	after_change "round $r: /a.bin deleted" /a.bin 404

	c=$(new_content 2500)
	cp "$c" "$f"
	after_change "round $r: /a.bin recreated" /a.bin "$(served "$f")"

	chmod 000 "$f"
	after_change "round $r: /a.bin made unreadable" /a.bin 403

	chmod 0644 "$f"
	after_change "round $r: /a.bin readable again" /a.bin "$(served "$f")"
}

# --- a file in a subdirectory (14 tests a round) --------------------------

head -c 2000 /dev/urandom >"$www/sub/b.bin"

subdir_round() {
	local r=$1 f=$www/sub/b.bin c
	twice "round $r: /sub/b.bin cached" /sub/b.bin "$(served "$f")"

	mv "$www/sub" "$www/sub.away"
	after_change "round $r: /sub renamed away" /sub/b.bin 404

	mv "$www/sub.away" "$www/sub"
	after_change "round $r: /sub renamed back" /sub/b.bin "$(served "$f")"

	# nginx's try_files cannot stat through the directory and falls
	# through to =404 (logging the EACCES at level crit).
	chmod 000 "$www/sub"
	after_change "round $r: /sub made unsearchable" /sub/b.bin 404

	chmod 0755 "$www/sub"
	after_change "round $r: /sub searchable again" /sub/b.bin "$(served "$f")"

	mv "$www/sub" "$www/sub.old"
	mkdir -m 0755 "$www/sub"
	c=$(new_content 2000)
	cp "$c" "$www/sub/b.bin"
	after_change "round $r: /sub replaced by another directory" /sub/b.bin \
		"$(served "$f")"

	rm -rf "$www/sub"
	mv "$www/sub.old" "$www/sub"
	after_change "round $r: the first /sub restored" /sub/b.bin "$(served "$f")"
}

# --- a symlink (4 tests a round) ------------------------------------------

head -c 1500 /dev/urandom >"$www/target1.bin"
head -c 1500 /dev/urandom >"$www/target2.bin"
ln -s target1.bin "$www/link.bin"

symlink_round() {
	local r=$1 now next
	now=$(readlink "$www/link.bin")
	next=target1.bin
	[[ $now == target1.bin ]] && next=target2.bin
	twice "round $r: /link.bin -> $now cached" /link.bin "$(served "$www/$now")"

	# rename a new link over the old one: the path never stops resolving
	ln -s "$next" "$www/.link.new"
	mv -T "$www/.link.new" "$www/link.bin"
	after_change "round $r: /link.bin re-pointed to $next" /link.bin \
		"$(served "$www/$next")"
}

nginx_www_perms "$dir"
plan $(( rounds * per_round + 3 ))

nginx_start_with "$dir"

for ((r = 1; r <= rounds; r++)); do
	file_round "$r"
	subdir_round "$r"
	symlink_round "$r"
done

is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker (it never crashed)"
is "$(grep -E '\[(alert|emerg)\]' "$dir/error.log")" "" \
	"no [alert] or [emerg] in the error log"
nginx_stop "$dir"
