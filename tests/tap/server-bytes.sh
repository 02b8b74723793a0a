# tests/tap/server-bytes.sh - the "same bytes" run for one server kind:
# the compare.sh cases against the plain server, then against the server
# with the library, started and stopped with servers.sh.
#
# Source tap.sh first; this sources servers.sh and compare.sh. Then:
#
#     srv_conf lighttpd "$dir" "$port"
#     cmp_init "$port" "$dir/www" "$dir/work"; cmp_gzip=0; cmp_make_corpus
#     plan $(( $(sb_plain_count) + $(sb_with_count 3) ))
#     sb_plain lighttpd "$dir" lighttpd
#     sb_with lighttpd "$dir" 3 lighttpd

# shellcheck source=tests/tap/servers.sh
. "${BASH_SOURCE[0]%/*}/servers.sh"
# shellcheck source=tests/tap/compare.sh
. "${BASH_SOURCE[0]%/*}/compare.sh"

# sb_plain_count: the tests sb_plain makes.
sb_plain_count() {
	echo $(( cmp_ncases + 2 + cmp_pipeline ))
}

# sb_with_count ROUNDS: the tests sb_with ... ROUNDS makes.
sb_with_count() {
	echo $(( 1 + cmp_ncases * $1 + 2 + cmp_pipeline * 2 * $1 + 2 ))
}

# sb_plain KIND DIR LABEL: the plain server answers every case as the
# files say and keeps its answers for sb_with; keep-alive and, where the
# server supports it, pipelining. Bails out if the server does not start.
sb_plain() {
	local kind=$1 dir=$2 label=$3
	srv_start "$kind" "$dir" without || bail_out "plain $label did not start"
	cmp_plain "plain $label"
	cmp_keepalive "plain $label"
	(( cmp_pipeline )) && cmp_pipeline "plain $label" plain
	srv_stop "$kind" "$dir"
	srv_logs_aside "$dir" plain
}

# sb_with KIND DIR ROUNDS LABEL: the server with the library, ROUNDS times
# every case (the first round fills the cache, the others hit it), each
# answer equal to the plain server's but volatile headers; keep-alive;
# ROUNDS times the pipelined stream, equal to the plain one; then the
# serving processes must still run (none crashed) and the logs be clean.
sb_with() {
	local kind=$1 dir=$2 rounds=$3 label=$4 r pids
	srv_start "$kind" "$dir" with || bail_out "$label with the library did not start"
	pids=$(srv_serving_pids "$kind" "$dir" | tr '\n' ' ')
	srv_ok_lib "$kind" "$dir" "$label with library"
	for ((r = 1; r <= rounds; r++)); do
		cmp_again "$label with library, round $r"
	done
	cmp_keepalive "$label with library"
	for ((r = 1; cmp_pipeline && r <= rounds; r++)); do
		cmp_pipeline_same "$label with library, round $r" "lib$r"
	done
	# shellcheck disable=SC2086 # one argument per pid
	ok "$label with library: the serving processes $pids still run (none crashed)" \
		srv_still_serving "$kind" "$dir" $pids
	is "$(srv_log_problems "$kind" "$dir")" "" \
		"$label with library: no crash or error in the logs"
	srv_stop "$kind" "$dir"
	srv_logs_aside "$dir" "with"
}
