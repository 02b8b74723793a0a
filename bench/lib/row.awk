# bench/lib/row.awk - one row of rounds.csv from a run's figures, given as
# -v variables by bench/lib/ab-run.sh's run_row (see CSV_HEADER there).
function served(req, bytes) {
	# Whole responses: bytes over one response, which counts those cut
	# off when wrk stopped; for the mixed set, wrk's count.
	if (mix || resp <= 0) return req
	return bytes / resp
}
BEGIN {
	secs = d / 1e6
	sv = served(r, b); csv = served(cr, cb)
	cpu10k = cpu == "NA" ? "NA" : sprintf("%.3f", sv > 0 ? cpu * 10000 / sv : 0)
	split(bb, x, " "); split(ba, y, " ")
	st = y[1] - x[1]; ct = y[3] - x[3]
	sbusy = st > 0 ? 100 * (st - (y[2] - x[2])) / st : 0
	cbusy = ct > 0 ? 100 * (ct - (y[4] - x[4])) / ct : 0
	per = sc == "NA" || csv <= 0 ? "NA" : sprintf("%.3f", sc / csv)
	# req/s counts whole responses sent, not those wrk saw complete:
	# 16 connections fetching 64 MiB each may complete none in 1 s.
	printf "%s,%s,%s,%d,%d,ok,%d,%.3f,%.1f,%.2f,%.3f,%.3f,%d,%.1f,%s,%s,%d,%.1f,%s,%s,%s,%d,1,%.0f,%.0f,%d,\n",
		server, config, size, sbytes, round, r, secs, sv / secs, b / secs / 1e6,
		p50 / 1000, p99 / 1000, err, sv, cpu, cpu10k,
		cr, csv, sc, per, counter, lib, sbusy, cbusy, conns
}
