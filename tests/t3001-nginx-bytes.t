#!/bin/bash
# t3001-nginx-bytes: nginx puts the same bytes on the wire with the library.
#
# Files whose sizes straddle the page, 64 KiB and large-file boundaries are
# requested with GET, HEAD, byte ranges and a conditional GET, first from
# plain nginx and then three times from nginx with the library: the first
# round fills the cache, the later ones are served from it. Every response
# (status line, headers but Date, body digest) must equal the plain one.
# A hundred keep-alive requests on one connection and eight pipelined
# requests in one write check that nothing held back or merged by the
# library leaks from one response into the next.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" curl perl sha256sum gzip cmp
tap_require_lib

# Rounds with the library: the first fills the cache, the rest hit it.
rounds=3
# Requests on the single keep-alive connection.
keepalive_requests=100

sizes=(0 1 100 4095 4096 4097 65535 65536 65537 1048576 16777216)

dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
www=$dir/www
work=$dir/work
mkdir -p "$work"

# --- the files ------------------------------------------------------------

for size in "${sizes[@]}"; do
	head -c "$size" /dev/urandom >"$www/f$size.bin"
done
{
	echo '<!DOCTYPE html>'
	echo '<html><head><title>sendcache t3001</title></head><body>'
	for ((i = 0; i < 200; i++)); do
		echo "<p>line $i of a page long enough for gzip to shrink it</p>"
	done
	echo '</body></html>'
} >"$www/index.html"
nginx_www_perms "$dir"

# sha FILE: the hex SHA-256 of FILE ("-": standard input).
sha() {
	local sum
	sum=$(sha256sum "$1") || return 1
	echo "${sum%% *}"
}

empty_sha=$(sha /dev/null)

# last_modified FILE: FILE's mtime the way nginx writes Last-Modified.
last_modified() {
	LC_ALL=C date -u -d "@$(stat -c %Y "$1")" '+%a, %d %b %Y %H:%M:%S GMT'
}

# --- the requests ---------------------------------------------------------
#
# A case is KIND and PATH. KIND picks the request headers and the
# expected status and body: get, head, range (bytes=10-99), suffix
# (bytes=-5), ims (If-Modified-Since: its Last-Modified), gzip
# (Accept-Encoding: gzip) and missing.

case_kind=()
case_path=()
add_case() {
	case_kind+=("$1")
	case_path+=("$2")
}

for name in index.html "${sizes[@]/#/f}"; do
	[[ $name == f* ]] && name=$name.bin
	size=$(stat -c %s "$www/$name")
	add_case get "/$name"
	add_case head "/$name"
	(( size >= 100 )) && add_case range "/$name"
	(( size >= 5 )) && add_case suffix "/$name"
	add_case ims "/$name"
done
add_case gzip /index.html
add_case get /
add_case missing /missing.bin
ncases=${#case_kind[@]}

# expected_summary KIND PATH: "STATUS CONTENT-LENGTH BODY-SHA" that plain
# nginx must answer, computed from the file itself ("-": no such header).
expected_summary() {
	local kind=$1 file=$www${2%/}
	[[ $2 == / ]] && file=$www/index.html
	case $kind in
	get)     echo "200 $(stat -c %s "$file") $(sha "$file")" ;;
	head)    echo "200 $(stat -c %s "$file") $empty_sha" ;;
	range)   echo "206 90 $(tail -c +11 "$file" | head -c 90 | sha -)" ;;
	suffix)  echo "206 5 $(tail -c 5 "$file" | sha -)" ;;
	ims)     echo "304 - $empty_sha" ;;
	gzip)    echo "200 - $(sha "$file")" ;;
	missing) echo "404" ;;
	esac
}

# fetch KIND PATH: one request with curl on a new connection. Leaves the
# headers in $work/h and the body in $work/b and prints the record that
# the runs compare: curl's exit status, the status line and headers
# without Date, and the body's length and digest.
fetch() {
	local kind=$1 path=$2 rc line
	local -a args=(-s --max-time 30 -D "$work/h" -o "$work/b")
	case $kind in
	head)   args=(-s --max-time 30 -D "$work/h" -o /dev/null --head) ;;
	range)  args+=(-H 'Range: bytes=10-99') ;;
	suffix) args+=(-H 'Range: bytes=-5') ;;
	ims)    args+=(-H "If-Modified-Since: $(last_modified "$www$path")") ;;
	gzip)   args+=(-H 'Accept-Encoding: gzip') ;;
	esac
	# curl leaves the output file alone when there is no body (304)
	rm -f "$work/h" "$work/b"
	curl "${args[@]}" "http://127.0.0.1:$port$path"
	rc=$?
	touch "$work/h" "$work/b"
	echo "curl-exit: $rc"
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ -z $line || ${line,,} == date:* ]] && continue
		echo "$line"
	done <"$work/h"
	echo "body: $(stat -c %s "$work/b") $(sha "$work/b")"
}

# summary KIND: "STATUS CONTENT-LENGTH BODY-SHA" of the last fetch, the
# body decompressed when it came gzip-encoded; just the status for 404s.
summary() {
	local kind=$1 status len=- gzipped='' line body_sha
	IFS=' ' read -r _ status _ <"$work/h"
	while IFS= read -r line; do
		line=${line%$'\r'}
		case ${line,,} in
		content-length:*)         len=${line#*: } ;;
		content-encoding:\ gzip)  gzipped=1 ;;
		esac
	done <"$work/h"
	if [[ $kind == missing ]]; then
		echo "$status"
		return
	fi
	if [[ -n $gzipped ]]; then
		body_sha=$(gzip -dc <"$work/b" | sha -)
	else
		body_sha=$(sha "$work/b")
	fi
	echo "$status $len $body_sha"
}

# --- keep-alive: many requests, one connection ----------------------------

ka_files=(index.html)
for size in "${sizes[@]}"; do
	(( size <= 1048576 )) && ka_files+=("f$size.bin")
done

# keepalive LABEL: $keepalive_requests GETs in one curl run, which reuses
# its connection; checks that it connected once and that every body is
# the file's.
keepalive() {
	local label=$1 cfg=$work/ka.cfg out=$work/ka i f connects=0 n code
	local bad=()
	rm -rf "$out" && mkdir -p "$out"
	: >"$cfg"
	for ((i = 0; i < keepalive_requests; i++)); do
		f=${ka_files[i % ${#ka_files[@]}]}
		printf 'url = "http://127.0.0.1:%s/%s"\noutput = "%s/%d"\n' \
			"$port" "$f" "$out" "$i" >>"$cfg"
	done
	i=0
	while read -r n code; do
		connects=$((connects + n))
		f=${ka_files[i % ${#ka_files[@]}]}
		if [[ $code != 200 || $(sha "$out/$i") != "${file_sha[$f]}" ]]; then
			bad+=("#$i /$f ($code)")
		fi
		i=$((i + 1))
	done < <(curl -s --max-time 60 -K "$cfg" -w '%{num_connects} %{http_code}\n')
	is "$connects" 1 "$label: $keepalive_requests keep-alive requests used one connection"
	is "$i ${bad[*]}" "$keepalive_requests " "$label: every keep-alive response is 200 with the file's bytes"
}

declare -A file_sha
for f in "${ka_files[@]}"; do
	file_sha[$f]=$(sha "$www/$f")
done

# --- pipelining: eight requests in one write ------------------------------

pipe_req=(
	"GET /f1.bin"
	"HEAD /f4096.bin"
	"GET /f100.bin"
	"GET /f4097.bin|Range: bytes=10-99"
	"GET /missing.bin"
	"GET /f65537.bin"
	"GET /f4095.bin|If-Modified-Since: $(last_modified "$www/f4095.bin")"
	"GET /f1048576.bin"
)

# Reads responses to the requests in $2 (all sent in one write) until as
# many as METHOD arguments are complete, then waits briefly for stray
# bytes. Writes the raw stream to RAW and the stream without the Date
# header lines to NORM; prints "STATUS CONTENT-LENGTH BODY-SHA" per
# response, and a note for a missing response or bytes past the last one.
# shellcheck disable=SC2016 # Perl source, not shell
pipeline_pl='
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Digest::SHA qw(sha256_hex);

my ($port, $reqfile, $raw, $norm, @methods) = @ARGV;
open my $in, "<:raw", $reqfile or die "$reqfile: $!\n";
my $req = do { local $/; <$in> };
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
	Proto => "tcp") or die "connect: $!\n";
binmode $s;
syswrite($s, $req) == length $req or die "short write\n";

my $sel = IO::Select->new($s);
my $buf = "";          # every byte received
my $pos = 0;           # where the first incomplete response starts
my $normbuf = "";      # the complete responses without Date
my @out;               # one record per complete response
my $eof = 0;
my $deadline = time + 30;

# One complete response at $pos, or nothing when more bytes are needed.
sub take {
	my $end = index($buf, "\r\n\r\n", $pos);
	return 0 if $end < 0;
	my $head = substr($buf, $pos, $end + 4 - $pos);
	my ($status) = $head =~ m{^HTTP/\d\.\d (\d{3})};
	my ($len) = $head =~ m{\r\ncontent-length: *(\d+)\r\n}i;
	my $method = $methods[@out];
	my $bodylen = ($method eq "HEAD" || $status == 304) ? 0 : ($len // 0);
	return 0 if length($buf) < $end + 4 + $bodylen;
	my $body = substr($buf, $end + 4, $bodylen);
	(my $nohead = $head) =~ s/\r\nDate: [^\r]*//i;
	$normbuf .= $nohead . $body;
	push @out, sprintf("%s %s %s", $status, $len // "-", sha256_hex($body));
	$pos = $end + 4 + $bodylen;
	return 1;
}

sub readmore {
	my ($wait) = @_;
	return 0 unless $sel->can_read($wait);
	my $n = sysread($s, $buf, 65536, length $buf);
	$eof = 1 unless $n;
	return $n;
}

while (@out < @methods && !$eof && time < $deadline) {
	take() or readmore(1);
}
1 while @out < @methods && take();
1 while !$eof && readmore(0.3);             # anything after the last one?

open my $r, ">:raw", $raw or die;
print $r $buf;
open my $n, ">:raw", $norm or die;
print $n $normbuf, substr($buf, $pos);
print "$_\n" for @out;
print "missing responses: ", scalar(@out), " of ", scalar(@methods), "\n"
	if @out < @methods;
print "bytes after the last response: ", length($buf) - $pos, "\n"
	if length($buf) > $pos;
'

pipe_methods=()
: >"$work/pipe.req"
for r in "${pipe_req[@]}"; do
	line=${r%%|*}
	pipe_methods+=("${line%% *}")
	printf '%s HTTP/1.1\r\nHost: 127.0.0.1\r\n' "$line" >>"$work/pipe.req"
	[[ $r == *'|'* ]] && printf '%s\r\n' "${r#*|}" >>"$work/pipe.req"
	printf '\r\n' >>"$work/pipe.req"
done

# The expected records as one anchored regex: the 404 page's length and
# digest are nginx's business, the rest follows from the files.
pipe_expect='^'
for r in "${pipe_req[@]}"; do
	line=${r%%|*}
	path=${line#* }
	case $r in
	HEAD*)             e="200 $(stat -c %s "$www$path") $empty_sha" ;;
	*missing*)         e='404 [0-9]+ [0-9a-f]{64}' ;;
	*Range:*)          e="206 90 $(tail -c +11 "$www$path" | head -c 90 | sha -)" ;;
	*If-Modified*)     e="304 - $empty_sha" ;;
	*)                 e="200 $(stat -c %s "$www$path") $(sha "$www$path")" ;;
	esac
	pipe_expect+="$e"$'\n'
done
pipe_expect="${pipe_expect%$'\n'}\$"

# pipeline LABEL TAG: send the pipelined requests, check each response;
# leaves $work/pipe.TAG.raw and $work/pipe.TAG.norm.
pipeline() {
	local got
	got=$(perl -e "$pipeline_pl" "$port" "$work/pipe.req" \
		"$work/pipe.$2.raw" "$work/pipe.$2.norm" "${pipe_methods[@]}" 2>&1)
	like "$got" "$pipe_expect" "$1: 8 pipelined requests in one write get the right responses"
}

# same_file A B DESC: passes when the files are byte for byte equal.
same_file() {
	if cmp -s "$1" "$2"; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "$(cmp "$1" "$2" 2>&1)" "sizes: $(stat -c %s "$1") vs $(stat -c %s "$2")"
	return 1
}

# Each case once plain and $rounds times with the library; two keep-alive
# tests per server; the pipeline once plain and twice per round with the
# library; and three checks of the worker.
plan $(( ncases * (1 + rounds) + 2 * 2 + 1 + 2 * rounds + 3 ))

# --- without the library ----------------------------------------------------

nginx_start "$dir" || bail_out "plain nginx did not start"
base=()
for ((c = 0; c < ncases; c++)); do
	base[c]=$(fetch "${case_kind[c]}" "${case_path[c]}")
	is "$(summary "${case_kind[c]}")" \
		"$(expected_summary "${case_kind[c]}" "${case_path[c]}")" \
		"plain nginx: ${case_kind[c]} ${case_path[c]}"
done
keepalive "plain nginx"
pipeline "plain nginx" plain
nginx_stop "$dir"
mv "$dir/error.log" "$dir/error.log.plain"
mv "$dir/access.log" "$dir/access.log.plain"

# --- with the library -----------------------------------------------------

nginx_start_with "$dir"

for ((r = 1; r <= rounds; r++)); do
	for ((c = 0; c < ncases; c++)); do
		is "$(fetch "${case_kind[c]}" "${case_path[c]}")" "${base[c]}" \
			"with library, round $r: ${case_kind[c]} ${case_path[c]}"
	done
done
keepalive "with library"
for ((r = 1; r <= rounds; r++)); do
	pipeline "with library, round $r" "lib$r"
	same_file "$work/pipe.lib$r.norm" "$work/pipe.plain.norm" \
		"with library, round $r: pipelined byte stream equals plain nginx's but Date"
done

is "$(nginx_worker_pids "$NGINX_MASTER_PID" | tr '\n' ' ')" "$worker " \
	"the worker is still pid $worker (it never crashed)"
is "$(nginx_log_problems "$dir")" "" "no [crit], [alert] or [emerg] in the error log"
nginx_stop "$dir"
