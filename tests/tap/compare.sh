# tests/tap/compare.sh - same bytes with and without the library: the
# corpus, requests and comparisons the server "bytes" tests share.
#
# Source tap.sh first. A test names the server's port, document root and
# a scratch directory, says what the server supports, makes the corpus,
# then runs every case against the plain server (checked against the
# files themselves) and against the server with the library (checked
# against the plain answers):
#
#     cmp_init "$port" "$dir/www" "$dir/work"
#     cmp_range=0                   # e.g. a server that ignores Range
#     cmp_make_corpus               # files, index.html, the case list
#     plan $(( cmp_ncases * 2 + ... ))
#     ... start the plain server ...
#     cmp_plain "plain lighttpd"    # cmp_ncases tests, remembers answers
#     cmp_keepalive "plain lighttpd"
#     cmp_pipeline "plain lighttpd" plain
#     ... restart it with the library ...
#     cmp_again "with library, round 1"   # cmp_ncases tests
#
# What a server supports (1 yes, 0 no; set after cmp_init):
#   cmp_range      byte ranges bytes=A-B (else the whole file, 200)
#   cmp_suffix     suffix ranges bytes=-N (else the whole file, 200)
#   cmp_head_len0  Content-Length: 0 in the answer to a HEAD of an empty
#                  file (else no Content-Length)
#   cmp_ims        If-Modified-Since (else the whole file, 200)
#   cmp_gzip       gzip of index.html on Accept-Encoding: gzip
#   cmp_keepalive  persistent connections (else one connection a request)
#   cmp_pipeline   pipelined requests (else cmp_pipeline is not to be used)
# cmp_volatile is an extended regex of header names that change from run
# to run and are left out of every comparison (default: Date).

# Seconds a single request may take: a 16 MiB body on loopback needs far
# less, and a response held back until the server's keep-alive timeout
# (5 s for Apache and lighttpd) must fail rather than pass late.
cmp_max_time=3
# Seconds for the whole keep-alive run.
cmp_keepalive_max_time=20

# sizes straddle the page, 64 KiB and large-file boundaries
cmp_sizes=(0 1 100 4095 4096 4097 65535 65536 65537 1048576 16777216)
# requests on the single keep-alive connection
cmp_keepalive_requests=100

# cmp_init PORT WWW WORK: the server's port, its document root and a
# scratch directory (created); resets what the server supports to all.
cmp_init() {
	cmp_port=$1
	cmp_www=$2
	cmp_work=$3
	mkdir -p "$cmp_work"
	cmp_range=1
	cmp_suffix=1
	cmp_head_len0=1
	cmp_ims=1
	cmp_gzip=1
	cmp_keepalive=1
	cmp_pipeline=1
	cmp_volatile='date'
	cmp_empty_sha=$(cmp_sha /dev/null)
}

# cmp_sha FILE: the hex SHA-256 of FILE ("-": standard input).
cmp_sha() {
	local sum
	sum=$(sha256sum "$1") || return 1
	echo "${sum%% *}"
}

# cmp_last_modified FILE: FILE's mtime as an HTTP date (Last-Modified).
cmp_last_modified() {
	LC_ALL=C date -u -d "@$(stat -c %Y "$1")" '+%a, %d %b %Y %H:%M:%S GMT'
}

# --- the corpus and the cases -----------------------------------------------
#
# A case is KIND and PATH. KIND picks the request headers and the
# expected status and body: get, head, range (bytes=10-99), suffix
# (bytes=-5), ims (If-Modified-Since: its Last-Modified), gzip
# (Accept-Encoding: gzip) and missing.

# cmp_make_corpus: one random file per size (f<size>.bin) and an HTML
# page that compresses well, all readable by everyone; then the cases
# (cmp_case_kind, cmp_case_path, cmp_ncases) and the keep-alive files.
cmp_make_corpus() {
	local size name i
	for size in "${cmp_sizes[@]}"; do
		head -c "$size" /dev/urandom >"$cmp_www/f$size.bin"
	done
	{
		echo '<!DOCTYPE html>'
		echo '<html><head><title>sendcache bytes test</title></head><body>'
		for ((i = 0; i < 200; i++)); do
			echo "<p>line $i of a page long enough for gzip to shrink it</p>"
		done
		echo '</body></html>'
	} >"$cmp_www/index.html"
	find "$cmp_www" -type d -exec chmod 0755 {} +
	find "$cmp_www" -type f -exec chmod 0644 {} +
	# An hour old: Apache makes the ETag of a file modified within the
	# last second weak, which would differ between the runs.
	find "$cmp_www" -type f -exec touch -d "@$(( $(date +%s) - 3600 ))" {} +

	cmp_case_kind=()
	cmp_case_path=()
	for name in index.html "${cmp_sizes[@]/#/f}"; do
		[[ $name == f* ]] && name=$name.bin
		size=$(stat -c %s "$cmp_www/$name")
		_cmp_add_case get "/$name"
		_cmp_add_case head "/$name"
		(( size >= 100 )) && _cmp_add_case range "/$name"
		(( size >= 5 )) && _cmp_add_case suffix "/$name"
		_cmp_add_case ims "/$name"
	done
	_cmp_add_case gzip /index.html
	_cmp_add_case get /
	_cmp_add_case missing /missing.bin
	cmp_ncases=${#cmp_case_kind[@]}

	cmp_ka_files=(index.html)
	for size in "${cmp_sizes[@]}"; do
		(( size <= 1048576 )) && cmp_ka_files+=("f$size.bin")
	done
	declare -gA cmp_file_sha=()
	for name in "${cmp_ka_files[@]}"; do
		cmp_file_sha[$name]=$(cmp_sha "$cmp_www/$name")
	done
	_cmp_pipeline_prepare
}

_cmp_add_case() {
	cmp_case_kind+=("$1")
	cmp_case_path+=("$2")
}

# cmp_expected_summary KIND PATH: "STATUS CONTENT-LENGTH BODY-SHA" that the
# plain server must answer, computed from the file itself ("-": no such
# header) and what the server supports.
cmp_expected_summary() {
	local kind=$1 file=$cmp_www${2%/} whole='' len
	[[ $2 == / ]] && file=$cmp_www/index.html
	[[ $kind != missing ]] && whole="200 $(stat -c %s "$file") $(cmp_sha "$file")"
	case $kind in
	get)     echo "$whole" ;;
	head)    len=$(stat -c %s "$file")
		 (( len == 0 && ! cmp_head_len0 )) && len=-
		 echo "200 $len $cmp_empty_sha" ;;
	range)   (( cmp_range )) || { echo "$whole"; return; }
		 echo "206 90 $(tail -c +11 "$file" | head -c 90 | cmp_sha -)" ;;
	suffix)  (( cmp_suffix )) || { echo "$whole"; return; }
		 echo "206 5 $(tail -c 5 "$file" | cmp_sha -)" ;;
	ims)     (( cmp_ims )) || { echo "$whole"; return; }
		 echo "304 - $cmp_empty_sha" ;;
	gzip)    (( cmp_gzip )) || { echo "$whole"; return; }
		 echo "200 - $(cmp_sha "$file")" ;;
	missing) echo "404" ;;
	esac
}

# cmp_fetch KIND PATH: one request with curl on a new connection. Leaves
# the headers in $cmp_work/h and the body in $cmp_work/b and prints the
# record that the runs compare: curl's exit status, the status line and
# headers but the volatile ones, and the body's length and digest.
cmp_fetch() {
	local kind=$1 path=$2 rc line w=$cmp_work
	local -a args=(-s --max-time "$cmp_max_time" -D "$w/h" -o "$w/b")
	case $kind in
	head)   args=(-s --max-time "$cmp_max_time" -D "$w/h" -o /dev/null --head) ;;
	range)  args+=(-H 'Range: bytes=10-99') ;;
	suffix) args+=(-H 'Range: bytes=-5') ;;
	ims)    args+=(-H "If-Modified-Since: $(cmp_last_modified "$cmp_www$path")") ;;
	gzip)   args+=(-H 'Accept-Encoding: gzip') ;;
	esac
	# curl leaves the output file alone when there is no body (304)
	rm -f "$w/h" "$w/b"
	curl "${args[@]}" "http://127.0.0.1:$cmp_port$path"
	rc=$?
	touch "$w/h" "$w/b"
	echo "curl-exit: $rc"
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ -z $line || ${line,,} =~ ^($cmp_volatile): ]] && continue
		echo "$line"
	done <"$w/h"
	echo "body: $(stat -c %s "$w/b") $(cmp_sha "$w/b")"
}

# cmp_summary KIND: "STATUS CONTENT-LENGTH BODY-SHA" of the last fetch, the
# body decompressed when it came gzip-encoded (the compressed length is
# the server's business: "-"); just the status for 404s.
cmp_summary() {
	local kind=$1 status len=- gzipped='' line body_sha
	IFS=' ' read -r _ status _ <"$cmp_work/h"
	while IFS= read -r line; do
		line=${line%$'\r'}
		case ${line,,} in
		content-length:*)         len=${line#*: } ;;
		content-encoding:\ gzip)  gzipped=1 ;;
		esac
	done <"$cmp_work/h"
	if [[ $kind == missing ]]; then
		echo "$status"
		return
	fi
	if [[ -n $gzipped ]]; then
		len=-
		body_sha=$(gzip -dc <"$cmp_work/b" | cmp_sha -)
	else
		body_sha=$(cmp_sha "$cmp_work/b")
	fi
	echo "$status $len $body_sha"
}

# cmp_plain LABEL: every case once against the plain server, each checked
# against the files (cmp_ncases tests); keeps the records in cmp_base.
cmp_plain() {
	local c
	cmp_base=()
	for ((c = 0; c < cmp_ncases; c++)); do
		cmp_base[c]=$(cmp_fetch "${cmp_case_kind[c]}" "${cmp_case_path[c]}")
		is "$(cmp_summary "${cmp_case_kind[c]}")" \
			"$(cmp_expected_summary "${cmp_case_kind[c]}" "${cmp_case_path[c]}")" \
			"$1: ${cmp_case_kind[c]} ${cmp_case_path[c]}"
	done
}

# cmp_again LABEL: every case once more, each record equal to the plain
# server's (cmp_ncases tests).
cmp_again() {
	local c
	for ((c = 0; c < cmp_ncases; c++)); do
		is "$(cmp_fetch "${cmp_case_kind[c]}" "${cmp_case_path[c]}")" \
			"${cmp_base[c]}" "$1: ${cmp_case_kind[c]} ${cmp_case_path[c]}"
	done
}

# --- keep-alive: many requests, one connection ----------------------------

# cmp_keepalive LABEL: $cmp_keepalive_requests GETs in one curl run, which
# reuses its connection when the server keeps it; checks the number of
# connections (1, or one per request without keep-alive) and that every
# body is the file's (2 tests).
cmp_keepalive() {
	local label=$1 cfg=$cmp_work/ka.cfg out=$cmp_work/ka i f connects=0 n code
	local want=1 what=used
	local bad=() nfiles=${#cmp_ka_files[@]}
	rm -rf "$out" && mkdir -p "$out"
	: >"$cfg"
	for ((i = 0; i < cmp_keepalive_requests; i++)); do
		f=${cmp_ka_files[i % nfiles]}
		printf 'url = "http://127.0.0.1:%s/%s"\noutput = "%s/%d"\n' \
			"$cmp_port" "$f" "$out" "$i" >>"$cfg"
	done
	i=0
	while read -r n code; do
		connects=$((connects + n))
		f=${cmp_ka_files[i % nfiles]}
		if [[ $code != 200 || $(cmp_sha "$out/$i") != "${cmp_file_sha[$f]}" ]]; then
			bad+=("#$i /$f ($code)")
		fi
		i=$((i + 1))
	done < <(curl -s --max-time "$cmp_keepalive_max_time" -K "$cfg" -w '%{num_connects} %{http_code}\n')
	if (( ! cmp_keepalive )); then
		want=$cmp_keepalive_requests
		what="(no keep-alive) used one each,"
	fi
	is "$connects" "$want" "$label: $cmp_keepalive_requests requests in one client run $what connection(s)"
	is "$i ${bad[*]}" "$cmp_keepalive_requests " "$label: every one is 200 with the file's bytes"
}

# --- pipelining: eight requests in one write ------------------------------

# Reads responses to the requests in $2 (all sent in one write) until as
# many as METHOD arguments are complete, then waits briefly for stray
# bytes. Writes the raw stream to RAW and the stream without the volatile
# header lines to NORM; prints "STATUS CONTENT-LENGTH BODY-SHA" per
# response, and a note for a missing response or bytes past the last one.
# shellcheck disable=SC2016 # Perl source, not shell
_cmp_pipeline_pl='
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Digest::SHA qw(sha256_hex);

my ($port, $reqfile, $raw, $norm, $volatile, @methods) = @ARGV;
open my $in, "<:raw", $reqfile or die "$reqfile: $!\n";
my $req = do { local $/; <$in> };
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
	Proto => "tcp") or die "connect: $!\n";
binmode $s;
syswrite($s, $req) == length $req or die "short write\n";

my $sel = IO::Select->new($s);
my $buf = "";          # every byte received
my $pos = 0;           # where the first incomplete response starts
my $normbuf = "";      # the complete responses without volatile headers
my @out;               # one record per complete response
my $eof = 0;
my $deadline = time + 10;

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
	(my $nohead = $head) =~ s/\r\n(?:$volatile): [^\r]*//gi;
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

# _cmp_pipeline_prepare: the request stream ($cmp_work/pipe.req), its
# methods and the expected records as one anchored regex (the 404 page's
# length and digest are the server's business, the rest follows from the
# files and what the server supports).
_cmp_pipeline_prepare() {
	local r line path e w=$cmp_www
	local -a reqs=(
		"GET /f1.bin"
		"HEAD /f4096.bin"
		"GET /f100.bin"
		"GET /f4097.bin|Range: bytes=10-99"
		"GET /missing.bin"
		"GET /f65537.bin"
		"GET /f4095.bin|If-Modified-Since: $(cmp_last_modified "$w/f4095.bin")"
		"GET /f1048576.bin"
	)
	_cmp_pipe_methods=()
	_cmp_pipe_expect='^'
	: >"$cmp_work/pipe.req"
	for r in "${reqs[@]}"; do
		line=${r%%|*}
		path=${line#* }
		_cmp_pipe_methods+=("${line%% *}")
		printf '%s HTTP/1.1\r\nHost: 127.0.0.1\r\n' "$line" >>"$cmp_work/pipe.req"
		[[ $r == *'|'* ]] && printf '%s\r\n' "${r#*|}" >>"$cmp_work/pipe.req"
		printf '\r\n' >>"$cmp_work/pipe.req"
		case $r in
		HEAD*)     e=$(cmp_expected_summary head "$path") ;;
		*missing*) e='404 [0-9]+ [0-9a-f]{64}' ;;
		*Range:*)  e=$(cmp_expected_summary range "$path") ;;
		*If-Mod*)  e=$(cmp_expected_summary ims "$path") ;;
		*)         e=$(cmp_expected_summary get "$path") ;;
		esac
		_cmp_pipe_expect+="$e"$'\n'
	done
	_cmp_pipe_expect="${_cmp_pipe_expect%$'\n'}\$"
}

# cmp_pipeline LABEL TAG: send the eight pipelined requests in one write
# and check each response (1 test); leaves $cmp_work/pipe.TAG.raw and
# $cmp_work/pipe.TAG.norm (the stream without volatile headers).
cmp_pipeline() {
	local got
	got=$(perl -e "$_cmp_pipeline_pl" "$cmp_port" "$cmp_work/pipe.req" \
		"$cmp_work/pipe.$2.raw" "$cmp_work/pipe.$2.norm" "$cmp_volatile" \
		"${_cmp_pipe_methods[@]}" 2>&1)
	like "$got" "$_cmp_pipe_expect" "$1: 8 pipelined requests in one write get the right responses"
}

# cmp_same_file A B DESC: passes when the files are byte for byte equal.
cmp_same_file() {
	if cmp -s "$1" "$2"; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "$(cmp "$1" "$2" 2>&1)" "sizes: $(stat -c %s "$1") vs $(stat -c %s "$2")"
	return 1
}

# cmp_pipeline_same LABEL TAG: cmp_pipeline LABEL TAG, then the stream
# must equal the plain server's (cmp_pipeline ... plain) but the volatile
# headers (2 tests).
cmp_pipeline_same() {
	cmp_pipeline "$1" "$2"
	cmp_same_file "$cmp_work/pipe.$2.norm" "$cmp_work/pipe.plain.norm" \
		"$1: pipelined byte stream equals the plain server's"
}
