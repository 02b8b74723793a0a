#!/usr/bin/env bash
# t4008-segment-scribble: the stats segment is untrusted input (DESIGN.md
# invariant 11). nginx and Apache prefork, whose masters run as root,
# serve under load while a process running as the workers' user (www-data)
# writes random bytes over the whole segment: header, totals and slots.
# Between rounds of scribbling one worker is killed outright (the master
# respawns it) and the server is reloaded (HUP); last, it is stopped with
# TERM. Pass, per server:
#   - every 200 response carries the file's exact bytes;
#   - no process crashes: the master lives through the kill and the reload,
#     the logs name no signal but our SIGKILL, and workers are respawned
#     and serve;
#   - the master exits within 1 s of TERM;
#   - sendcache-stat, run over and over meanwhile, exits 0 or 5 (damaged
#     segment) each time, and never hangs;
#   - SENDCACHE_STATS_FILE lives in a directory the workers' user can
#     write; that user replaces the file with a symlink to a file of
#     root's, which no process (the root master included) then appends to.
# SCRIBBLE_SECONDS (default 1) is the length of each of the 3 rounds.
here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"
. "$here/tap/servers.sh"

tap_require "$nginx_bin" perl setpriv curl timeout
srv_require apache-prefork
tap_require_lib
(( EUID == 0 )) || skip_all "needs root (a root master and www-data workers)"
stat_cli=$tap_build/sendcache-stat
[[ -x $stat_cli ]] || bail_out "$stat_cli is not built (run make)"

secs=${SCRIBBLE_SECONDS:-1}
[[ $secs =~ ^[0-9]+$ ]] || bail_out "SCRIBBLE_SECONDS=$secs: a whole number of seconds"
limit=$((3 * secs + 60))
kinds=(nginx apache-prefork)
plan $(( ${#kinds[@]} * 11 ))

dir=$(tap_tmpdir)

# make_files WWW: 12 files of 1 to 60 KiB.
make_files() {
	local i
	mkdir -p "$1"
	for i in $(seq 1 12); do
		head -c $(( i * 5000 + 37 )) /dev/urandom >"$1/s$i.bin"
	done
	chmod 0755 "$1" && chmod 0644 "$1"/*.bin
}

# client PORT WWW STOP OUT: fetches every file, one connection each, until
# STOP exists (at most 60 s more than the scribbling). OUT gets "ok wrong other noanswer".
client() {
	perl -MIO::Socket::INET -e '
		my ($port, $www, $stop, $out, $limit) = @ARGV;
		my %want;
		for my $f (glob("$www/s*.bin")) {
			open(my $h, "<:raw", $f) or die; local $/; $want{$f =~ s{.*/}{}r} = <$h>;
		}
		my ($ok, $wrong, $other, $none) = (0, 0, 0, 0);
		my $end = time + $limit;
		while (!-e $stop && time < $end) {
			for my $name (sort keys %want) {
				my $r = eval {
					local $SIG{ALRM} = sub { die "timeout\n" };
					alarm 5;
					my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
						PeerPort => $port) or die "connect\n";
					print $s "GET /$name HTTP/1.0\r\nHost: t\r\n\r\n";
					local $/; my $d = <$s>; alarm 0; $d };
				alarm 0;
				if (!defined $r || $r eq "") { $none++; next }
				my ($head, $body) = split /\r\n\r\n/, $r, 2;
				if ($head !~ m{^HTTP/1\.[01] 200 }) { $other++ }
				elsif (defined $body && $body eq $want{$name}) { $ok++ }
				else { $wrong++; print STDERR "wrong bytes for $name\n" }
			}
		}
		open(my $o, ">", $out) or die; print $o "$ok $wrong $other $none\n";
	' "$@"
}

# scribble SHM SECONDS: as www-data, random bytes at random places of the
# segment (opened by root, handed over as fd 3: what a worker reaches
# through its mapping), the first 4 KiB hit as often as the rest. Prints
# the bytes written.
scribble() {
	setpriv --reuid=www-data --regid=www-data --clear-groups -- perl -e '
		my $secs = shift;
		open(my $fh, "+<&=", 3) or die "fd 3: $!";
		my $size = -s $fh; my $n = 0; my $end = time + $secs; my $i = 0;
		while (time < $end) {
			my $off = ($i++ & 1) ? int(rand($size)) : int(rand($size < 4096 ? $size : 4096));
			my $len = 1 + int(rand(64));
			$len = $size - $off if $off + $len > $size;
			sysseek($fh, $off, 0);
			$n += syswrite($fh, pack("C*", map { int(rand(256)) } 1 .. $len)) // 0;
			select(undef, undef, undef, 0.0002) unless $i % 50;
		}
		print "$n\n";
	' "$2" 3<>"$1"
}

# cli_loop NAME STOP OUT: sendcache-stat until STOP exists; one exit
# status per line in OUT (124: it hung for 5 s).
cli_loop() {
	local end=$((SECONDS + limit))
	while [[ ! -e $2 ]] && (( SECONDS < end )); do
		timeout 5 "$stat_cli" -1 -n "$1" >/dev/null 2>&1
		echo $? >>"$3"
		sleep 0.05
	done
}

# wait_reloaded KIND DIR OLD...: until the reload (HUP) is over, 10 s at
# most: none of the workers OLD runs and a new one does; Apache has also
# logged its restart. Apache prefork's HUP ends its children at once, a
# connection accepted in that moment included: the request after the
# reload must not race it.
wait_reloaded() {
	local kind=$1 dir=$2 i w new
	shift 2
	for ((i = 0; i < 200; i++)); do
		new=" $(workers_of "$kind" "$dir" | tr '\n' ' ')"
		for w in "$@"; do
			[[ $new == *" $w "* ]] && new=
		done
		if [[ -n ${new// /} ]] && { [[ $kind == nginx ]] ||
			(( $(grep -c 'resuming normal operations' "$dir/error.log") >= 2 )); }; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# The kind's master pid, workers and log problems.
workers_of() { srv_serving_pids "$1" "$2"; }
# running KIND DIR PID: PID is still the kind's live master. A zombie
# counts as exited: the parent a daemon is left with (init) may take a
# second or more to reap it.
running() { srv_is_main "$3" "$1" "$2"; }
# problems_of KIND DIR: the log's problems but a worker this test killed.
problems_of() {
	srv_log_problems "$1" "$2" | grep -v 'exited on signal 9\b\|exit signal Killed'
	return 0
}

# wait_workers KIND DIR NOT: until a worker other than NOT runs (3 s).
wait_workers() {
	local i w
	for ((i = 0; i < 60; i++)); do
		for w in $(workers_of "$1" "$2"); do
			[[ $w != "$3" ]] && return 0
		done
		sleep 0.05
	done
	return 1
}

for kind in "${kinds[@]}"; do
	d=$dir/$kind
	port=$(tap_free_port)
	name=t4008-$kind-$$
	shm=/dev/shm/sendcache.$name
	tap_at_exit rm -f "$shm"
	mkdir -p "$d/counts" && chown www-data: "$d/counts"
	srv_conf "$kind" "$d" "$port"
	make_files "$d/www"
	SENDCACHE_STATS_NAME=$name SENDCACHE_STATS_FILE=$d/counts/all \
		srv_start "$kind" "$d" with ||
		bail_out "$kind with the library did not start"
	master=$SRV_PID
	[[ -e $shm ]] || bail_out "$kind made no segment $shm"
	rm -f "$d/stop" "$d/cli"
	# The target a worker would like root to append to.
	printf 'root only\n' >"$d/secret" && chmod 0600 "$d/secret"
	client "$port" "$d/www" "$d/stop" "$d/client" "$limit" 2>"$d/client.err" &
	cpid=$!
	cli_loop "$name" "$d/stop" "$d/cli" &
	lpid=$!
	tap_at_exit kill "$cpid" "$lpid"

	bytes=$(scribble "$shm" "$secs")
	victim=$(workers_of "$kind" "$d" | head -n 1)
	kill -KILL "$victim"
	wait_workers "$kind" "$d" "$victim"
	respawned=$?
	bytes=$((bytes + $(scribble "$shm" "$secs")))
	setpriv --reuid=www-data --regid=www-data --clear-groups -- \
		sh -c 'ln -s "$1" "$2.new" && mv -T "$2.new" "$2"' - "$d/secret" "$d/counts/all"
	old=$(workers_of "$kind" "$d")
	kill -HUP "$master"
	wait_reloaded "$kind" "$d" $old
	reloaded=$?
	bytes=$((bytes + $(scribble "$shm" "$secs")))
	got=$(curl -s --max-time 5 "http://127.0.0.1:$port/s3.bin" | cmp - "$d/www/s3.bin" && echo same)
	: >"$d/stop"
	wait "$cpid" "$lpid"
	alive=0
	running "$kind" "$d" "$master" && alive=1

	start=$(date +%s%N)
	kill -TERM "$master"
	for ((i = 0; i < 300; i++)); do
		running "$kind" "$d" "$master" || break
		sleep 0.01
	done
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	# A master still running is stopped, workers and all, by *_stop.
	running "$kind" "$d" "$master" && ms=timeout
	srv_stop "$kind" "$d"

	read -r n_ok n_wrong n_other n_none <"$d/client"
	codes=$(sort -n "$d/cli" | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')
	note "$kind: $bytes bytes scribbled, worker $victim killed, responses: $n_ok right," \
		"$n_wrong wrong, $n_other not 200, $n_none unanswered; CLI exits: $codes;" \
		"master exited $ms ms after TERM"
	is "$n_wrong" 0 "$kind: no 200 response with wrong bytes ($n_ok right, $bytes bytes scribbled)"
	ok "$kind: the client got right answers throughout ($n_ok)" test "$n_ok" -gt 0
	is "$alive" 1 "$kind: the root master lived through the scribbling, the kill and the reload"
	is "$respawned" 0 "$kind: a worker was respawned for the killed one"
	is "$reloaded" 0 "$kind: the reload ended (old workers gone, new ones running)"
	is "$got" same "$kind: after the reload it serves the right bytes"
	is "$(problems_of "$kind" "$d")" "" "$kind: no process died of a signal but our SIGKILL"
	ok "$kind: the master exited $ms ms after TERM (at most 1000)" \
		test "$ms" != timeout -a "${ms/timeout/9999}" -le 1000
	ok "$kind: sendcache-stat ran $(wc -l <"$d/cli") times" test "$(wc -l <"$d/cli")" -ge 3
	is "$(grep -cvxE '0|5' "$d/cli")" 0 "$kind: and exited 0 or 5 each time ($codes)"
	is "$(cat "$d/secret"; stat -c %U "$d/secret")" "root only
root" "$kind: nothing appended through the stats file a worker made a symlink"
done
