# bench/lib/site-row.awk - one row of the real-site benchmark's rounds.csv
# (SITE_CSV in bench/site.sh) from a run's figures, given as -v variables
# by site_row: sb and sa are stat_values before and after the measured
# run, io is io_delta's "major-faults disk-bytes".
BEGIN {
	split(sb, b, " "); split(sa, a, " "); split(io, id, " ")
	for (i = 1; i <= 5; i++) dlt[i] = a[i] - b[i]
	opens = dlt[1] + dlt[2] + dlt[3] + dlt[4]
	hit = (config == "with" && opens > 0) ? sprintf("%.3f", dlt[1] / opens) : ""
	secs = d / 1e6
	printf "%s,%s,%s,%d,ok,%d,%.3f,%.1f,%.2f,%d,%.3f,%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%.3f,%.2f,%s\n",
		server, config, stream, round, r, secs, r / secs, p99 / 1000, err,
		(r > 0 ? cpu / r * 10000 : 0), creq,
		(sc != "NA" && creq > 0) ? sprintf("%.2f", sc / creq) : "NA",
		hit, (config == "with" ? dlt[1] : ""), (config == "with" ? dlt[2] : ""),
		(config == "with" ? dlt[3] : ""), (config == "with" ? dlt[5] : ""),
		(config == "with" ? a[6] : ""), (config == "with" ? a[7] : ""),
		(config == "with" ? a[8] : ""), rss, (config == "with" ? w : ""),
		(r > 0 ? id[1] / r : 0), (r > 0 ? id[2] / 1024 / r : 0), note
}
