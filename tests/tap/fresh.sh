# tests/tap/fresh.sh - the freshness steps the server "fresh" tests share.
#
# Source tap.sh first. DESIGN.md invariant 4: a change to a file, or to
# the path leading to it, is seen by every request that starts 50 ms or
# more after the change. Each file is first requested twice so that the
# library has it cached; then it is edited in place (same size, larger,
# smaller), replaced by rename, deleted and recreated, made unreadable and
# readable again; its directory is renamed away and back, made
# unsearchable, and replaced by another directory; a symlink to it is
# re-pointed. After each change the test waits exactly the freshness
# bound and requests the path twice (the first answer refills the cache,
# the second comes from it). Every change writes bytes no earlier step
# has served.
#
#     fresh_init "$port" "$dir/www" "$dir/work"   # makes the files
#     fresh_unsearchable=403                      # what the server answers
#     plan $(( rounds * fresh_per_round ))
#     ... start the server ...
#     for ((r = 1; r <= rounds; r++)); do fresh_round "$r"; done
#
# The round functions take the round's number R (it varies the sizes) and
# start each description with $fresh_label.
#
# What the server answers (set after fresh_init):
#   fresh_unreadable    for a file made mode 000: a status, or "served"
#                       when the server keeps the descriptor it opened
#                       and serves the file anyway (lighttpd)
#   fresh_unsearchable  for a file in a directory made mode 000

# The freshness bound of DESIGN.md invariant 4.
fresh_after=0.05
# Tests per fresh_round: the file 18, the subdirectory 14, the symlink 4.
fresh_per_round=36

# fresh_init PORT WWW WORK: the server's port, document root and a scratch
# directory (created); writes /a.bin, /sub/b.bin, /target1.bin,
# /target2.bin and /link.bin -> target1.bin, all readable by everyone.
fresh_init() {
	fresh_port=$1
	fresh_www=$2
	fresh_work=$3
	fresh_unreadable=403
	fresh_unsearchable=404
	mkdir -p "$fresh_work" "$fresh_www/sub"
	head -c 3000 /dev/urandom >"$fresh_www/a.bin"
	head -c 2000 /dev/urandom >"$fresh_www/sub/b.bin"
	head -c 1500 /dev/urandom >"$fresh_www/target1.bin"
	head -c 1500 /dev/urandom >"$fresh_www/target2.bin"
	ln -sfn target1.bin "$fresh_www/link.bin"
	find "$fresh_www" -type d -exec chmod 0755 {} +
	find "$fresh_www" -type f -exec chmod 0644 {} +
}

# fresh_sha FILE: the hex SHA-256 of FILE.
fresh_sha() {
	local sum
	sum=$(sha256sum "$1") || return 1
	echo "${sum%% *}"
}

# fresh_new_content SIZE: a fresh random file of SIZE bytes in the scratch
# directory; prints its path.
fresh_new_content() {
	local f
	f=$(mktemp "$fresh_work/c.XXXXXX") || return 1
	head -c "$1" /dev/urandom >"$f"
	chmod 0644 "$f"
	echo "$f"
}

# fresh_served FILE: what a fresh request must answer while FILE is the file.
fresh_served() {
	echo "200 $(fresh_sha "$1")"
}

# fresh_fetch PATH: "STATUS BODY-SHA" for a 200, just "STATUS" otherwise.
fresh_fetch() {
	local code
	rm -f "$fresh_work/body"
	code=$(curl -s --max-time 10 -o "$fresh_work/body" -w '%{http_code}' \
		"http://127.0.0.1:$fresh_port$1")
	if [[ $code == 200 ]]; then
		echo "$code $(fresh_sha "$fresh_work/body")"
	else
		echo "$code"
	fi
}

# fresh_twice DESC PATH EXPECTED: request PATH twice in a row; both must
# answer EXPECTED (two tests).
fresh_twice() {
	is "$(fresh_fetch "$2")" "$3" "$1"
	is "$(fresh_fetch "$2")" "$3" "$1 (again)"
}

# fresh_after_change DESC PATH EXPECTED: wait the freshness bound after a
# change, then fresh_twice.
fresh_after_change() {
	sleep "$fresh_after"
	fresh_twice "$@"
}

# fresh_file_round R: the file at the top of the document root (18 tests).
fresh_file_round() {
	local r=$1 f=$fresh_www/a.bin c unreadable=$fresh_unreadable
	fresh_twice "$fresh_label: /a.bin cached" /a.bin "$(fresh_served "$f")"

	c=$(fresh_new_content "$(stat -c %s "$f")")
	dd if="$c" of="$f" conv=notrunc status=none
	fresh_after_change "$fresh_label: /a.bin edited in place, same size" /a.bin "$(fresh_served "$f")"

	c=$(fresh_new_content $((5000 + r * 1000)))
	cat "$c" >"$f"
	fresh_after_change "$fresh_label: /a.bin rewritten in place, larger" /a.bin "$(fresh_served "$f")"

	c=$(fresh_new_content $((1000 + r * 100)))
	cat "$c" >"$f"
	fresh_after_change "$fresh_label: /a.bin rewritten in place, smaller" /a.bin "$(fresh_served "$f")"

	c=$(fresh_new_content 3000)
	cp "$c" "$fresh_www/.a.bin.new"
	mv -f "$fresh_www/.a.bin.new" "$f"
	fresh_after_change "$fresh_label: /a.bin replaced by rename" /a.bin "$(fresh_served "$f")"

	rm -f "$f"
	fresh_after_change "$fresh_label: /a.bin deleted" /a.bin 404

	c=$(fresh_new_content 2500)
	cp "$c" "$f"
	fresh_after_change "$fresh_label: /a.bin recreated" /a.bin "$(fresh_served "$f")"

	chmod 000 "$f"
	[[ $unreadable == served ]] && unreadable=$(fresh_served "$f")
	fresh_after_change "$fresh_label: /a.bin made unreadable" /a.bin "$unreadable"

	chmod 0644 "$f"
	fresh_after_change "$fresh_label: /a.bin readable again" /a.bin "$(fresh_served "$f")"
}

# fresh_subdir_round R: a file in a subdirectory (14 tests).
fresh_subdir_round() {
	local r=$1 f=$fresh_www/sub/b.bin c w=$fresh_www
	fresh_twice "$fresh_label: /sub/b.bin cached" /sub/b.bin "$(fresh_served "$f")"

	mv "$w/sub" "$w/sub.away"
	fresh_after_change "$fresh_label: /sub renamed away" /sub/b.bin 404

	mv "$w/sub.away" "$w/sub"
	fresh_after_change "$fresh_label: /sub renamed back" /sub/b.bin "$(fresh_served "$f")"

	chmod 000 "$w/sub"
	fresh_after_change "$fresh_label: /sub made unsearchable" /sub/b.bin "$fresh_unsearchable"

	chmod 0755 "$w/sub"
	fresh_after_change "$fresh_label: /sub searchable again" /sub/b.bin "$(fresh_served "$f")"

	mv "$w/sub" "$w/sub.old"
	mkdir -m 0755 "$w/sub"
	c=$(fresh_new_content 2000)
	cp "$c" "$w/sub/b.bin"
	fresh_after_change "$fresh_label: /sub replaced by another directory" /sub/b.bin \
		"$(fresh_served "$f")"

	rm -rf "$w/sub"
	mv "$w/sub.old" "$w/sub"
	fresh_after_change "$fresh_label: the first /sub restored" /sub/b.bin "$(fresh_served "$f")"
}

# fresh_symlink_round R: a symlink re-pointed (4 tests).
fresh_symlink_round() {
	local r=$1 now next w=$fresh_www
	now=$(readlink "$w/link.bin")
	next=target1.bin
	[[ $now == target1.bin ]] && next=target2.bin
	fresh_twice "$fresh_label: /link.bin -> $now cached" /link.bin "$(fresh_served "$w/$now")"

	# rename a new link over the old one: the path never stops resolving
	ln -s "$next" "$w/.link.new"
	mv -T "$w/.link.new" "$w/link.bin"
	fresh_after_change "$fresh_label: /link.bin re-pointed to $next" /link.bin \
		"$(fresh_served "$w/$next")"
}

# fresh_round R [LABEL]: the three, fresh_per_round tests. R is a number
# (it varies the sizes); LABEL starts each description ("round R").
fresh_round() {
	fresh_label=${2:-round $1}
	fresh_file_round "$1"
	fresh_subdir_round "$1"
	fresh_symlink_round "$1"
}
