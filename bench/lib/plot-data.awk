# plot-data.awk - gnuplot data from bench/ab.sh's summary.csv.
#   -v server=S -v sizes="..."        one line per size: index, size, req/s
#                                     without, with, nginx from memory, tuned
#   -v ratio=1 -v servers="..." -v sizes="..."
#                                     one line per size: index, size, then
#                                     req/s with/without for each server
# Missing figures are NaN (gnuplot leaves a gap).

function v(k) { return (k in R && R[k] != "") ? R[k] : "NaN" }
NR == 1 { next }
{ R[$1, $2, $3] = $7 }   # req/s, or its ratio on "ratio" rows
END {
	nz = split(sizes, Z, " ")
	for (j = 1; j <= nz; j++) {
		# The mixed set is no size: a blank line keeps it off the size line.
		if (Z[j] == "mix" && j > 1) print ""
		if (ratio) {
			line = (j - 1) " " Z[j]
			ns = split(servers, S, " ")
			for (i = 1; i <= ns; i++) line = line " " v(S[i] SUBSEP "ratio" SUBSEP Z[j])
			print line
		} else {
			print j - 1, Z[j], v(server SUBSEP "without" SUBSEP Z[j]), v(server SUBSEP "with" SUBSEP Z[j]),
				v("nginx-mem" SUBSEP "without" SUBSEP Z[j]), v("nginx-tuned" SUBSEP "without" SUBSEP Z[j])
		}
	}
}
