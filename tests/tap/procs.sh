# tests/tap/procs.sh - what a process holds, read from /proc independently
# of the library's own gauges (the budget tests t4002, t4011).
#
#     proc_fds PID            descriptors open
#     proc_rss_kib PID        resident memory (VmRSS), KiB
#     proc_mapped PID ROOT    bytes of mappings of files under ROOT
#     proc_sampler PID ROOT OUT
#                             "fds rss_kib mapped" appended to OUT every
#                             0.2 s until PID exits or the sampler is killed

proc_fds() { local f=(/proc/"$1"/fd/*); echo "${#f[@]}"; }

proc_rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# /proc/PID/maps is read in pieces, not as one snapshot: while a process
# unmaps an evicted file and maps the next, one read can list both (seen
# once in CI: two pages over). The smaller of two reads in a row.
proc_mapped() {
	local a b
	a=$(_proc_mapped_once "$1" "$2")
	b=$(_proc_mapped_once "$1" "$2")
	echo $(( a < b ? a : b ))
}

_proc_mapped_once() {
	perl -ne 'BEGIN { $w = shift } $s += hex($2) - hex($1)
		if /^([0-9a-f]+)-([0-9a-f]+) (?:\S+ ){4}\s*(\S.*)$/ && index($3, $w) == 0;
		END { print $s + 0, "\n" }' "$2/" "/proc/$1/maps"
}

proc_sampler() {
	while [[ -d /proc/$1 ]]; do
		echo "$(proc_fds "$1") $(proc_rss_kib "$1") $(proc_mapped "$1" "$2")" >>"$3"
		sleep 0.2
	done
}
