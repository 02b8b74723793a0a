#!/bin/bash
# t3202-apache-fresh: Apache with the library never serves a stale file and
# honours an .htaccess that appears, changes or goes after caching.
#
# DESIGN.md invariant 4, with tests/tap/fresh.sh's steps (edits, renames,
# deletes, chmod of the file and its directory, a re-pointed symlink),
# each request 50 ms after its change. Apache reads .htaccess in every
# directory from / down (AllowOverride All) at every request; the library
# remembers that they do not exist, so one created after caching (in the
# file's directory, by rename in the document root, or above the document
# root) must be honoured by the requests 50 ms later, and so must one
# edited in place or removed: "Require all denied" gives 403, "ForceType"
# changes the Content-Type. One round against plain Apache checks the
# expectations; then the event MPM (threads) and the prefork MPM (forked
# children) with the library, two rounds each.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/servers.sh"
. "$here/tap/fresh.sh"

tap_require curl sha256sum
srv_require apache-event apache-prefork
tap_require_lib

rounds=2
# Tests per htaccess_round, counted from the steps below.
ht_per_round=18

dir=$(tap_tmpdir)
port=$(tap_free_port)
fresh_init "$port" "$dir/www" "$dir/work"
fresh_unsearchable=403
www=$dir/www
mkdir -m 0755 "$www/h"

# ht_fetch PATH: "STATUS CONTENT-TYPE BODY-SHA" for a 200, "STATUS" else.
ht_fetch() {
	local out code type
	rm -f "$fresh_work/body"
	out=$(curl -s --max-time 10 -o "$fresh_work/body" \
		-w '%{http_code} %{content_type}' "http://127.0.0.1:$port$1")
	read -r code type <<<"$out"
	if [[ $code == 200 ]]; then
		echo "$code $type $(fresh_sha "$fresh_work/body")"
	else
		echo "$code"
	fi
}

# ht_after DESC PATH EXPECTED: wait the bound, then two requests.
ht_after() {
	sleep "$fresh_after"
	is "$(ht_fetch "$2")" "$3" "$1"
	is "$(ht_fetch "$2")" "$3" "$1 (again)"
}

# ht_write FILE LINE: write an .htaccess of one line, readable by Apache.
ht_write() {
	printf '%s\n' "$2" >"$1"
	chmod 0644 "$1"
}

# htaccess_round R LABEL: .htaccess files appear, change and go (18 tests).
htaccess_round() {
	local label=$2 f=$www/h/x.bin plain forced
	head -c $((1000 + $1 * 10)) /dev/urandom >"$f"
	chmod 0644 "$f"
	plain="200 application/octet-stream $(fresh_sha "$f")"
	forced="200 text/x-sendcache-test $(fresh_sha "$f")"
	ht_after "$label: /h/x.bin cached, no .htaccess" /h/x.bin "$plain"

	ht_write "$www/h/.htaccess" 'Require all denied'
	ht_after "$label: /h/.htaccess denying access created" /h/x.bin 403

	ht_write "$www/h/.htaccess" 'ForceType text/x-sendcache-test'
	ht_after "$label: /h/.htaccess edited in place to ForceType" /h/x.bin "$forced"

	rm -f "$www/h/.htaccess"
	ht_after "$label: /h/.htaccess removed" /h/x.bin "$plain"

	ht_write "$www/.htaccess.new" 'Require all denied'
	mv -f "$www/.htaccess.new" "$www/.htaccess"
	ht_after "$label: /.htaccess denying access renamed into the document root" \
		/h/x.bin 403

	rm -f "$www/.htaccess"
	ht_after "$label: /.htaccess removed" /h/x.bin "$plain"

	ht_write "$dir/.htaccess" 'ForceType text/x-sendcache-test'
	ht_after "$label: an .htaccess above the document root created" /h/x.bin "$forced"

	rm -f "$dir/.htaccess"
	ht_after "$label: the .htaccess above the document root removed" /h/x.bin "$plain"

	ht_write "$www/h/.htaccess" 'Require all denied'
	ht_after "$label: /h/.htaccess created again" /h/x.bin 403
	rm -f "$www/h/.htaccess"
}

# run KIND MODE ROUNDS LABEL: start, the rounds, survival checks, stop.
run() {
	local kind=$1 mode=$2 n=$3 label=$4 r pids
	srv_conf "$kind" "$dir" "$port"
	srv_start "$kind" "$dir" "$mode" || bail_out "$label did not start"
	pids=$(srv_serving_pids "$kind" "$dir" | tr '\n' ' ')
	for ((r = 1; r <= n; r++)); do
		fresh_round "$r" "$label, round $r"
		htaccess_round "$r" "$label, round $r"
	done
	ok "$label: the children that served ($pids) still run" \
		srv_still_serving "$kind" "$dir" $pids
	# AH00529 (crit): the .htaccess probe in /sub made unsearchable
	is "$(srv_log_problems "$kind" "$dir" | grep -v AH00529)" "" \
		"$label: no crash or error in the error log but the EACCES probes"
	srv_stop "$kind" "$dir"
	srv_logs_aside "$dir" "$kind-$mode"
}

per_round=$(( fresh_per_round + ht_per_round ))
plan $(( (1 + 2 * rounds) * per_round + 3 * 2 ))

run apache-event without 1 "plain Apache event"
run apache-event with "$rounds" "Apache event with library"
run apache-prefork with "$rounds" "Apache prefork with library"
