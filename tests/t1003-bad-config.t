#!/bin/bash
# t1003-bad-config: nginx started with bad SENDCACHE_* values still serves,
# with the library on, and says so in exactly one line per bad value.
#
# DESIGN.md invariant 2 (fail open): a bad configuration must not keep a
# server from running; each bad value costs one stderr line naming the
# variable, and its default is used. First every variable at once is given
# a value of one kind (garbage, negative, huge, empty, several lines), then
# each variable alone a garbage value. Each time nginx must serve every
# file byte for byte, the library must have answered opens from its cache
# (its counters, dumped at exit through SENDCACHE_STATS_FILE), and the
# master's stderr plus the error log must hold exactly one "sendcache:"
# line for each variable given, each naming it.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl cmp
tap_require_lib

# Every variable of src/config_def.h and its kind, but the counters file
# this test reads the counters from.
[[ -x $tap_build/gen-docs ]] || bail_out "build/gen-docs missing (run make test)"
vars=()
while read -r name kind; do
	case $kind in
	BOOL) vars+=("$name:bool") ;;
	COUNT | SIZE | MS) vars+=("$name:num") ;;
	NAME) vars+=("$name:name") ;;
	DIRS) vars+=("$name:dirs") ;;
	PATH) [[ $name == SENDCACHE_STATS_FILE ]] || vars+=("$name:path") ;;
	*) bail_out "$name: a kind this test does not know: $kind" ;;
	esac
done < <("$tap_build/gen-docs" vars)
kinds=(garbage negative huge empty lines)

# bad_value KIND TYPE: a value of KIND that a variable of TYPE rejects.
bad_value() {
	case $1:$2 in
	garbage:dirs | garbage:path) echo "not/absolute" ;;
	garbage:*) echo "garbage!" ;;
	negative:name | negative:dirs | negative:path) echo "-1/x" ;;
	negative:*) echo "-1" ;;
	huge:name) printf 'n%.0s' {1..200} ;;
	huge:dirs | huge:path) printf '/%.0s' {1..2000} ;;
	huge:*) echo "99999999999999999999999999999999" ;;
	empty:*) echo "" ;;
	lines:*) printf '1\nsendcache: forged line' ;;
	esac
}

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
work=$dir/work
mkdir -p "$work"
sizes=(10 1000 70000 300000)
for s in "${sizes[@]}"; do
	head -c "$s" /dev/urandom >"$dir/www/f$s.bin"
done
nginx_www_perms "$dir"

# serves_all: every file comes back with its own bytes; prints the bad ones.
serves_all() {
	local s
	for s in "${sizes[@]}" "${sizes[@]}"; do
		if ! curl -fs --max-time 10 -o "$work/body" \
			"http://127.0.0.1:$port/f$s.bin" ||
			! cmp -s "$work/body" "$dir/www/f$s.bin"; then
			echo "/f$s.bin"
		fi
	done
}

# run_with NAME=VALUE...: start nginx with the library and these variables,
# fetch every file twice, stop it. Sets got to "served=OK|<bad files>
# hits=0|1 lines=<count per variable, in order> other=<other lines>".
run_with() {
	local a name served hits lines='' total other
	: >"$work/stats"
	chmod 0666 "$work/stats"
	: >"$dir/error.log"
	local -x SENDCACHE_STATS_FILE=$work/stats
	for a in "$@"; do
		local -x "$a"
	done
	if ! nginx_start "$dir" with; then
		got="nginx did not start"
		return
	fi
	served=$(serves_all)
	nginx_stop "$dir"
	hits=$(awk '$1 == "open_hit" { n += $2 } END { print n + 0 }' "$work/stats")
	cat "$dir/server.out" "$dir/error.log" >"$work/out"
	total=$(grep -c 'sendcache:' "$work/out")
	for a in "$@"; do
		name=${a%%=*}
		lines+="$(grep -c "sendcache: $name=" "$work/out") "
	done
	other=$(( total - $(grep -c 'sendcache: SENDCACHE_[A-Z_]*=' "$work/out") ))
	got="served=${served:-OK} hits=$(( hits > 0 ? 1 : 0 )) lines=${lines% } other=$other"
}

plan $(( ${#kinds[@]} + ${#vars[@]} + 1 ))

ok "nginx starts with the library" nginx_start "$dir" with
nginx_stop "$dir"

ones=''
for v in "${vars[@]}"; do ones+="1 "; done
for kind in "${kinds[@]}"; do
	assign=()
	for v in "${vars[@]}"; do
		assign+=("${v%%:*}=$(bad_value "$kind" "${v#*:}")")
	done
	run_with "${assign[@]}"
	is "$got" "served=OK hits=1 lines=${ones% } other=0" \
		"every variable $kind: nginx serves from the cache, one line each"
	[[ $got == *"other=0" ]] || diag "$(grep sendcache: "$work/out")"
done

for v in "${vars[@]}"; do
	name=${v%%:*}
	run_with "$name=$(bad_value garbage "${v#*:}")"
	is "$got" "served=OK hits=1 lines=1 other=0" \
		"$name garbage: nginx serves from the cache, one line"
done
