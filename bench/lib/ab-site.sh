# bench/lib/ab-site.sh - the files bench/ab.sh serves (single sizes and a
# SPECweb99-like mixed set), the wrk scripts, and the bodies of nginx's
# memory anchor.

# The mixed set, modelled on SPECweb99's file set: four classes of nine
# files, class c holding files of 1..9 x (102 B, 1 KiB, 10 KiB, 100 KiB),
# requested 35%, 50%, 14% and 1% of the time (so 35% of requests are for
# files under 1 KiB), and within a class file i with SPECweb99's Zipf-like
# frequencies. Prints "path bytes per-mille" lines.
mix_files() {
	awk 'BEGIN {
		split("102 1024 10240 102400", unit, " ")
		split("35 50 14 1", cw, " ")
		split("3.9 5.9 8.8 17.7 35.3 11.8 7.1 5.0 4.4", fw, " ")
		for (c = 1; c <= 4; c++)
			for (i = 1; i <= 9; i++)
				printf "/mix/c%d_%d.bin %d %.2f\n", c - 1, i, i * unit[c], cw[c] * fw[i] / 10
	}'
}

# The wrk script for the mixed set: a fixed list of 1000 requests in the
# proportions above, in an order shuffled once with a fixed seed
# (Park-Miller), walked round-robin. The same list every run.
write_mix_lua() {
	{
		echo "-- SPECweb99-like mixed set: a fixed weighted list, walked in order."
		echo "local paths = {"
		mix_files | awk '
		{ n = int($3 + 0.5); for (k = 0; k < n; k++) list[m++] = $1 }
		END {
			x = 12345
			for (i = m - 1; i > 0; i--) {
				x = (x * 16807) % 2147483647
				j = x % (i + 1); t = list[i]; list[i] = list[j]; list[j] = t
			}
			for (i = 0; i < m; i++) printf "\t\"%s\",\n", list[i]
		}'
		echo "}"
		echo "local next_path = 0"
		echo "request = function()"
		echo "	next_path = next_path % #paths + 1"
		echo "	return wrk.format(\"GET\", paths[next_path])"
		echo "end"
		cat "$TMP/report.lua"
	} >"$TMP/mix.lua"
}

# alnum BYTES: that many random letters and digits (nothing nginx would
# read as a variable or a quote).
alnum() {
	LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c "$1"
}

# The files every server serves, under $TMP/site (hard-linked into each
# server's document root), and what the memory anchor returns for each
# path, under $TMP/mem.
make_site() {
	local s path bytes _w
	mkdir -p "$TMP/site/mix" "$TMP/mem/mix" "$TMP/raw" "$TMP/srv"
	for s in "${SIZE_LIST[@]}"; do
		[[ $s == mix ]] && continue
		head -c "${SIZE_BYTES[$s]}" /dev/urandom >"$TMP/site/$s.bin" || die "cannot write $TMP/site/$s.bin"
	done
	while read -r path bytes _w; do
		head -c "$bytes" /dev/urandom >"$TMP/site$path"
	done < <(mix_files)
	find "$TMP/site" -type d -exec chmod 0755 {} + && find "$TMP/site" -type f -exec chmod 0644 {} +

	MEM_BODY=$(alnum "$MEM_CHUNK")
	((${#MEM_BODY} == MEM_CHUNK)) || die "could not make the memory anchor's body"

	# wrk prints its human summary; this adds one exact, machine-readable line.
	cat >"$TMP/report.lua" <<'EOF'
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"AB-RESULT requests=%d bytes=%d duration_us=%d p50_us=%d p99_us=%d " ..
		"connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.bytes, summary.duration,
		latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.status, e.timeout))
end
EOF
	if ((PIPELINE > 1)); then
		cat >>"$TMP/report.lua" <<EOF
-- --pipeline $PIPELINE: that many requests in each write
init = function(args)
	req = string.rep(wrk.format(nil, wrk.path), $PIPELINE)
end
request = function() return req end
EOF
	fi
	write_mix_lua
}

# site_paths: every URL path of the site with its size, "path bytes".
site_paths() {
	local s
	for s in "${SIZE_LIST[@]}"; do
		[[ $s == mix ]] || echo "/$s.bin ${SIZE_BYTES[$s]}"
	done
	mix_files | awk '{ print $1, $2 }'
}

# mem_locations: nginx locations returning, for every path up to MEM_MAX
# bytes, a body of the same size built from $m (MEM_BODY, set once at
# server level: a constant, so no copy) repeated and a constant tail; and
# the expected bodies under $TMP/mem. Variables are written ${m}, ${t} so
# that no letter after them extends their name.
mem_locations() {
	local path bytes n tail i refs
	echo "		set \$m \"$MEM_BODY\";"
	while read -r path bytes; do
		((bytes <= MEM_MAX)) || continue
		n=$((bytes / MEM_CHUNK)) tail=$((bytes % MEM_CHUNK))
		refs=
		for ((i = 0; i < n; i++)); do refs+='${m}'; done
		printf '\t\tlocation = %s {\n\t\t\tset $t "%s";\n\t\t\treturn 200 "%s${t}";\n\t\t}\n' \
			"$path" "${MEM_BODY:0:tail}" "$refs"
		if [[ ! -f $TMP/mem$path ]]; then
			{
				for ((i = 0; i < n; i++)); do printf '%s' "$MEM_BODY"; done
				printf '%s' "${MEM_BODY:0:tail}"
			} >"$TMP/mem$path"
		fi
	done < <(site_paths)
}
