#!/bin/bash
# t3006-servers-fuse: lighttpd and Apache event serving a FUSE mount
# (bindfs) whose files change behind it, through the directory it mirrors:
# t3004's case for the other servers. Each runs tests/tap/fresh.sh's
# steps once plain, which checks the expectations, and once with the
# library: every request 50 ms after a change is answered as without it,
# and the mount's files go to the kernel (open_pass_fs).

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/servers.sh"
. "$here/tap/fresh.sh"

tap_require curl sha256sum bindfs fusermount
srv_require lighttpd apache-event
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"
[[ -c /dev/fuse ]] || bail_out "no /dev/fuse: FUSE cannot be mounted here"

# run KIND LABEL EXTRA-CONF: plain, then with the library, on a new mount.
run() {
	local kind=$1 label=$2 extra=$3 dir port name hits pass_fs
	dir=$(tap_tmpdir)
	port=$(tap_free_port)
	srv_conf "$kind" "$dir" "$port" "$extra"
	fresh_init "$port" "$dir/backing" "$dir/work"
	fresh_unsearchable=403
	[[ $kind == lighttpd ]] && fresh_unreadable=served
	# As t3004: the workers read the mount, the kernel checks permissions,
	# nothing cached by FUSE itself.
	bindfs -o allow_other,default_permissions,attr_timeout=0,entry_timeout=0 \
		"$dir/backing" "$dir/www" || bail_out "bindfs could not mount $dir/www"
	tap_at_exit fusermount -u -z "$dir/www"

	srv_start "$kind" "$dir" without || bail_out "plain $label did not start"
	fresh_round 1 "plain $label"
	srv_stop "$kind" "$dir"
	srv_logs_aside "$dir" plain

	name=t3006-$kind-$$
	tap_at_exit rm -f "/dev/shm/sendcache.$name"
	SENDCACHE_STATS_NAME=$name srv_start "$kind" "$dir" with ||
		bail_out "$label with the library did not start"
	fresh_round 1 "$label with the library"
	# The counters, before the stop folds and removes them.
	hits=$("$stat_cli" -1 -n "$name" 2>/dev/null | awk '$1 == "open_hit" { print $2 }')
	pass_fs=$("$stat_cli" -1 -n "$name" 2>/dev/null | awk '$1 == "open_pass_fs" { print $2 }')
	# (Apache's other opens, of local files, may be cache hits.)
	if (( ${pass_fs:-0} > 0 )); then
		pass "$label: opens of the mount went to the kernel (open_pass_fs $pass_fs; open_hit $hits)"
	else
		fail "$label: opens of the mount went to the kernel (open_pass_fs '$pass_fs', open_hit '$hits')"
	fi
	srv_stop "$kind" "$dir"
	fusermount -u -z "$dir/www"
}

plan $(( 2 * (2 * fresh_per_round + 1) ))

# lighttpd's own stat cache would keep a changed file for a second (as in
# t3102).
run lighttpd lighttpd 'server.stat-cache-engine = "disable"'
run apache-event "Apache event" ""
