#!/bin/bash
# t3004-nginx-fuse: nginx serving a FUSE mount (bindfs) whose files change
# behind it, through the directory it mirrors, as on NFS or SMB shared by
# several hosts. inotify on the mount hears of none of these changes; the
# library must not cache such files at all, and every request that starts
# 50 ms after a change gets the new bytes, as without the library.
#
# The steps are tests/tap/fresh.sh's, made in the backing directory.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/fresh.sh"

tap_require "$nginx_bin" curl sha256sum bindfs fusermount
tap_require_lib
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"
[[ -c /dev/fuse ]] || bail_out "no /dev/fuse: FUSE cannot be mounted here"

rounds=2

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
fresh_init "$port" "$dir/backing" "$dir/work"
# The workers (www-data) read the mount: allow_other; and the kernel checks
# permissions as on a local filesystem: default_permissions, on attributes
# it asks for each time (no attribute or entry cache: what nginx alone
# sees 50 ms after a change is the change).
bindfs -o allow_other,default_permissions,attr_timeout=0,entry_timeout=0 "$dir/backing" "$dir/www" ||
	bail_out "bindfs could not mount $dir/backing on $dir/www"
tap_at_exit fusermount -u -z "$dir/www"

plan $(( rounds * fresh_per_round + 6 ))
like "$(stat -f -c %T "$dir/www")" "^fuse" "the document root is a FUSE mount"

name=t3004-$$
export SENDCACHE_STATS_NAME=$name
tap_at_exit rm -f "/dev/shm/sendcache.$name"
nginx_start_with "$dir"

for ((r = 1; r <= rounds; r++)); do
	fresh_round "$r"
done

# counter NAME: the instance's counter NAME.
counter() {
	"$stat_cli" -1 -n "$name" 2>/dev/null |
		awk -v c="$1" '$1 == c { print $2 }'
}
pass_fs=$(counter open_pass_fs)
if (( ${pass_fs:-0} > 0 )); then
	pass "opens of the mount went to the kernel (open_pass_fs $pass_fs)"
else
	fail "opens of the mount went to the kernel (open_pass_fs '$pass_fs')"
fi
is "$(counter open_hit)" 0 "none was answered from the cache (open_hit 0)"
is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker (it never crashed)"
is "$(grep -E '\[(alert|emerg)\]' "$dir/error.log")" "" \
	"no [alert] or [emerg] in the error log"
nginx_stop "$dir"
