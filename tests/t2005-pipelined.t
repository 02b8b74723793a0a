#!/bin/bash
# t2005-pipelined: nginx answering pipelined requests is as fast with the
# library as without, and sends the same bytes.
#
# DESIGN.md invariants 1 and 2. nginx corks once for a batch of pipelined
# requests and uncorks after the last response; the library keeps the cork
# in user space and sends each response at once. Without more, the second
# response of a batch waited behind Nagle for the ACK of the first, that
# is for the client's delayed ACK: about 40 ms a batch, 20 times slower
# than plain nginx (found with bench/ab.sh --pipeline 8). The library
# sets TCP_NODELAY on a socket at its first send under a cork, once per
# connection (t2006: a single response's last segment waited the same way).
# A client sends 25 batches of 8 pipelined requests for a 1 KiB file over one
# connection and waits for every response of a batch before the next; the
# bytes it gets must equal plain nginx's, and its time must stay under a
# bound far below the 40 ms a batch of the stall. Each connection gets
# TCP_NODELAY from us once: two curl runs, then the pipelining client.

here=$(cd "$(dirname "$0")" && pwd -P)
# shellcheck source-path=SCRIPTDIR
. "$here/tap/tap.sh"
. "$here/tap/nginx.sh"

tap_require "$nginx_bin" python3
tap_require_lib
stat_cli=$tap_build/sendcache-stat

batches=25
dir=$(tap_tmpdir)
port=$(tap_free_port)
nginx_conf "$dir" "$port"
head -c 1024 /dev/urandom >"$dir/www/a.bin"

# client OUT: the batches; prints the milliseconds they took.
client() {
	python3 - "$port" "$batches" "$1" <<'PY'
import socket, sys, time
port, batches, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
reqs = [b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in [b"a.bin"] * 8]
s = socket.create_connection(("127.0.0.1", port))
got = bytearray()
t = time.monotonic()
for _ in range(batches):
    s.sendall(b"".join(reqs))
    want = len(got)
    # every response of the batch: parse heads and bodies as they come
    seen = 0
    pos = want
    while seen < len(reqs):
        end = got.find(b"\r\n\r\n", pos)
        if end >= 0:
            head = bytes(got[pos:end]).lower()
            n = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(got) >= end + 4 + n:
                pos = end + 4 + n
                seen += 1
                continue
        d = s.recv(1 << 16)
        if not d:
            sys.exit("connection closed")
        got += d
ms = (time.monotonic() - t) * 1000
s.close()
# Date headers differ between runs: keep status lines and bodies.
with open(out, "wb") as f:
    for part in bytes(got).split(b"HTTP/1.1 ")[1:]:
        head, _, body = part.partition(b"\r\n\r\n")
        f.write(head.split(b"\r\n")[0] + b"\n" + body)
print("%.0f" % ms)
PY
}

plan 7

nginx_start "$dir" without || bail_out "nginx without the library did not start"
ms_without=$(client "$dir/without.out")
nginx_stop "$dir"

name=t2005-$$
SENDCACHE_STATS_NAME=$name nginx_start_with "$dir"
tap_at_exit rm -f "/dev/shm/sendcache.$name"
curl -s -o /dev/null "http://127.0.0.1:$port/a.bin"
curl -s -o /dev/null "http://127.0.0.1:$port/a.bin"
nodelay_before=$("$stat_cli" -j -n "$name" | grep -o '"nodelay_set": *[0-9]*' | grep -o '[0-9]*$')
ms_with=$(client "$dir/with.out")
nodelay_after=$("$stat_cli" -j -n "$name" | grep -o '"nodelay_set": *[0-9]*' | grep -o '[0-9]*$')
merged=$("$stat_cli" -j -n "$name" | grep -o '"merged_writev": *[0-9]*' | grep -o '[0-9]*$')
nginx_stop "$dir"

note "$batches batches of 8 pipelined requests: ${ms_without} ms without, ${ms_with} ms with the library"
like "$ms_without $ms_with" '^[0-9]+ [0-9]+$' "the client got every response both ways"
ok "the same status lines and bodies" cmp "$dir/without.out" "$dir/with.out"
ok "the responses were merged sends (merged_writev=$merged)" test "${merged:-0}" -ge $((batches * 8))
# The stall costs 40 ms a batch (1000 ms); plain nginx takes a few.
ok "with the library: ${ms_with} ms <= 3 x ${ms_without} + 300 ms" \
	test "$ms_with" -le $((3 * ms_without + 300))
is "${nodelay_before:-x}" 2 "two connections of one request: TCP_NODELAY once each"
is "${nodelay_after:-x}" 3 "the pipelined connection got it once (200 responses)"
