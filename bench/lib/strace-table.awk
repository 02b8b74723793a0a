# strace-table.awk - two `strace -c` summaries (without, then with the
# library) as a Markdown table of calls per request for each system call.
#   awk -v kind=nginx -v na=REQS -v nb=REQS -v size=1k -f strace-table.awk \
#       without.txt with.txt
# strace -c lines: % time, seconds, usecs/call, calls, [errors], syscall.

FNR == 1 { f++ }
$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ {
	name = $NF
	calls[f, name] = $4
	errs[f, name] = NF == 6 ? $5 : 0
	if (name != "total" && !(name in seen)) { seen[name] = 1; names[++n] = name }
}
function per(file, nm, reqs) { return calls[file, nm] / reqs }
END {
	printf "# Which calls: %s, %s file, per request\n\n", kind, size
	printf "`strace -f -c -p` on the server's processes (main and serving, and the children\n"
	printf "forked meanwhile) during one bounded `ab` run of\n"
	printf "%d (without) and %d (with the library) requests, 4 at a time, after a warm-up.\n", na, nb
	printf "Calls per request = calls / requests; failed calls (errors) are included.\n"
	if (calls[1, "futex"] + calls[2, "futex"] > 0)
		printf "A threaded server's futex calls multiply under strace (threads stopped at every\n" \
			"call wait for each other): the perf counts in results.md are undisturbed.\n"
	printf "\n"
	print "| syscall | without | with | with - without | errors/req without | errors/req with |"
	print "|---|---:|---:|---:|---:|---:|"
	# Most frequent first, by the "without" column, then by "with".
	for (i = 1; i <= n; i++) key[i] = per(1, names[i], na) * 1e6 + per(2, names[i], nb)
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && key[j - 1] < key[j]; j--) {
			t = key[j]; key[j] = key[j - 1]; key[j - 1] = t
			t = names[j]; names[j] = names[j - 1]; names[j - 1] = t
		}
	for (i = 1; i <= n; i++) {
		nm = names[i]; a = per(1, nm, na); b = per(2, nm, nb)
		printf "| %s | %.3f | %.3f | %+.3f | %.3f | %.3f |\n", nm, a, b, b - a,
			errs[1, nm] / na, errs[2, nm] / nb
	}
	a = per(1, "total", na); b = per(2, "total", nb)
	printf "| **total** | %.3f | %.3f | %+.3f (%.2fx) | %.3f | %.3f |\n", a, b, b - a, (a > 0 ? b / a : 0),
		errs[1, "total"] / na, errs[2, "total"] / nb
}
