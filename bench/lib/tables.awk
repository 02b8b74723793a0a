# tables.awk - bench/ab.sh's summary.csv as Markdown tables: two overviews
# (req/s with/without; system calls per request) and one table per size.
#   awk -F, -v servers="..." -v anchors="..." -v sizes="..." -v rounds=N \
#       -v dur=SEC -v counter=perf -f tables.awk summary.csv

function cell(x, f) { return x == "" ? "-" : sprintf(f, x) }
function x(v) { return v == "" ? "-" : sprintf("%.2fx", v) }
function name(s) {
	if (s == "nginx-mem") return "nginx from memory (anchor)"
	if (s == "nginx-tuned") return "nginx tuned (anchor)"
	return s
}
function runs(k) { return V[k, "ok_runs"] "/" V[k, "runs"] }
function row(label, cf, k) {
	if (!((k, "runs") in V)) return
	if (V[k, "ok_runs"] == 0) {
		printf "| %s | %s | failed | | | | | | | | %s |\n", label, cf, runs(k)
		return
	}
	printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, cf,
		cell(V[k, "req_per_s"], "%.0f"), cell(V[k, "spread_pct"], "%.0f%%"),
		cell(V[k, "mb_per_s"], "%.1f"), cell(V[k, "mb_spread_pct"], "%.0f%%"), cell(V[k, "p50_ms"], "%.3f"),
		cell(V[k, "p99_ms"], "%.3f"), cell(V[k, "syscalls_per_req"], "%.2f"),
		cell(V[k, "cpu_s_per_10k"], "%.3f"), runs(k)
}
# against(LABEL, A, B): a row of ratios of the medians of keys A / B.
function against(label, a, b,   r, s) {
	if (V[a, "req_per_s"] == "" || V[b, "req_per_s"] == "") return
	r = V[a, "req_per_s"] / V[b, "req_per_s"]
	s = (V[a, "syscalls_per_req"] != "" && V[b, "syscalls_per_req"] > 0) ? \
		sprintf("%.2fx", V[a, "syscalls_per_req"] / V[b, "syscalls_per_req"]) : "-"
	printf "| %s | | %.2fx | | | | | | %s | | |\n", label, r, s
}

NR == 1 { for (i = 1; i <= NF; i++) col[i] = $i; next }
{
	k = $1 SUBSEP $2 SUBSEP $3
	for (i = 4; i <= NF; i++) V[k, col[i]] = $i
	bytes[$3] = $4
}
END {
	ns = split(servers, S, " "); na = split(anchors, A, " "); nz = split(sizes, Z, " ")

	print "## req/s with / without the library (medians)"
	print ""
	head = "| server |"; rule = "|---|"
	for (j = 1; j <= nz; j++) { head = head " " Z[j] " |"; rule = rule "---:|" }
	print head; print rule
	for (i = 1; i <= ns; i++) {
		line = "| " S[i] " |"
		for (j = 1; j <= nz; j++) line = line " " x(V[S[i], "ratio", Z[j], "req_per_s"]) " |"
		print line
	}
	print ""
	print "## System calls per request in the server, without -> with"
	print ""
	print head; print rule
	for (i = 1; i <= ns; i++) {
		line = "| " S[i] " |"
		for (j = 1; j <= nz; j++) {
			a = V[S[i], "without", Z[j], "syscalls_per_req"]; b = V[S[i], "with", Z[j], "syscalls_per_req"]
			line = line " " (a == "" || b == "" ? "-" : sprintf("%.1f -> %.1f", a, b)) " |"
		}
		print line
	}
	print ""

	for (j = 1; j <= nz; j++) {
		z = Z[j]
		if (z == "mix") printf "## mixed set (SPECweb99-like, 102 B to 900 KiB)\n\n"
		else printf "## %s (%d bytes)\n\n", z, bytes[z]
		print "| server | library | req/s | spread | MB/s | spread | p50 ms | p99 ms | syscalls/req | CPU s/10k req | runs |"
		print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= ns; i++) {
			s = S[i]
			row(s, "without", s SUBSEP "without" SUBSEP z)
			row(s, "with", s SUBSEP "with" SUBSEP z)
			k = s SUBSEP "ratio" SUBSEP z
			if ((k, "req_per_s") in V)
				printf "| **%s** | **with/without** | **%s** | | %s | | %s | %s | **%s** | %s | |\n", s,
					x(V[k, "req_per_s"]), x(V[k, "mb_per_s"]), x(V[k, "p50_ms"]), x(V[k, "p99_ms"]),
					x(V[k, "syscalls_per_req"]), x(V[k, "cpu_s_per_10k"])
		}
		for (i = 1; i <= na; i++)
			row(name(A[i]), "without", A[i] SUBSEP "without" SUBSEP z)
		for (i = 1; i <= na; i++)
			if (servers ~ /(^| )nginx( |$)/)
				against("nginx with / " name(A[i]), "nginx" SUBSEP "with" SUBSEP z, A[i] SUBSEP "without" SUBSEP z)
		print ""
	}
}
