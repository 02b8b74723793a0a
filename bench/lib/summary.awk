# summary.awk - medians of bench/ab.sh's rounds.csv, and the ratios with /
# without the library, as summary.csv.
#   awk -F, -v order="SERVER..." -v sizes="SIZE..." -f summary.awk rounds.csv
# Runs whose status is not "ok" count in "runs" but give no figures. A
# ratio row (config "ratio") is with/without of the medians.

# median(LIST): the median of the space-separated numbers in LIST ("" when
# empty); sets LO and HI to the smallest and largest.
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) { LO = HI = ""; return "" }
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	LO = a[1]; HI = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function ratio(x, y) { return (x != "" && y != "" && y > 0) ? sprintf("%.3f", x / y) : "" }
function fmt(x, f) { return x == "" ? "" : sprintf(f, x) }

NR == 1 { next }
{
	k = $1 SUBSEP $2 SUBSEP $3
	runs[k]++; bytes[$3] = $4
	if ($6 != "ok") next
	ok[k]++
	rps[k] = rps[k] " " $9; mbs[k] = mbs[k] " " $10
	p50[k] = p50[k] " " $11; p99[k] = p99[k] " " $12
	if ($16 != "NA" && $16 != "") cpu[k] = cpu[k] " " $16
	if ($20 != "NA" && $20 != "") spr[k] = spr[k] " " $20
}
END {
	print "server,config,size,size_bytes,runs,ok_runs,req_per_s,req_per_s_min,req_per_s_max,spread_pct,mb_per_s,mb_spread_pct,p50_ms,p99_ms,syscalls_per_req,cpu_s_per_10k"
	ns = split(order, S, " "); nz = split(sizes, Z, " ")
	for (i = 1; i <= ns; i++) {
		for (j = 1; j <= nz; j++) {
			for (c = 1; c <= 2; c++) {
				cf = c == 1 ? "without" : "with"
				k = S[i] SUBSEP cf SUBSEP Z[j]
				if (!(k in runs)) continue
				m_rps = median(rps[k]); lo = LO; hi = HI
				m_mbs = median(mbs[k])
				mb_spread = (m_mbs != "" && m_mbs > 0) ? sprintf("%.1f", 100 * (HI - LO) / m_mbs) : ""
				m_p50 = median(p50[k]); m_p99 = median(p99[k])
				m_spr = median(spr[k]); m_cpu = median(cpu[k])
				spread = (m_rps != "" && m_rps > 0) ? sprintf("%.1f", 100 * (hi - lo) / m_rps) : ""
				printf "%s,%s,%s,%s,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", S[i], cf, Z[j], bytes[Z[j]],
					runs[k], ok[k], fmt(m_rps, "%.1f"), fmt(lo, "%.1f"), fmt(hi, "%.1f"), spread,
					fmt(m_mbs, "%.2f"), mb_spread, fmt(m_p50, "%.3f"), fmt(m_p99, "%.3f"),
					fmt(m_spr, "%.3f"), fmt(m_cpu, "%.3f")
				M[cf, "rps"] = m_rps; M[cf, "mbs"] = m_mbs; M[cf, "p50"] = m_p50
				M[cf, "p99"] = m_p99; M[cf, "spr"] = m_spr; M[cf, "cpu"] = m_cpu
				have[cf] = 1
			}
			if (have["without"] && have["with"])
				printf "%s,ratio,%s,%s,,,%s,,,,%s,,%s,%s,%s,%s\n", S[i], Z[j], bytes[Z[j]],
					ratio(M["with", "rps"], M["without", "rps"]), ratio(M["with", "mbs"], M["without", "mbs"]),
					ratio(M["with", "p50"], M["without", "p50"]), ratio(M["with", "p99"], M["without", "p99"]),
					ratio(M["with", "spr"], M["without", "spr"]), ratio(M["with", "cpu"], M["without", "cpu"])
			delete have; delete M
		}
	}
}
