#!/usr/bin/env python3
"""purgeload.py - sendcache-ctl purge's contract under load.

usage: purgeload.py PORT URLPATH FILE CTL NAME SECONDS CLIENTS [--no-purge]

Every 10 ms the writer puts version k of FILE in place (written beside
it, renamed over it) and then runs `CTL -n NAME purge DIR` (DIR: FILE's
directory), noting when that returned. Meanwhile CLIENTS processes GET
URLPATH from 127.0.0.1:PORT on keep-alive connections, noting when each
request started and which version it got.

A request that started after purge k returned must get version k or a
later one. Prints one line:

    checked N stale S purges P failed F

N: requests that started after the first purge returned; S: those that
got an older version; P: purges made; F: responses that were not 200 or
not a version. With --no-purge the writer only renames (the control run:
it shows the clients would see old versions without the purges).
"""
import http.client
import multiprocessing
import os
import subprocess
import sys
import time

SIZE = 1024
PERIOD_NS = 10_000_000


def body(k):
    head = b"%08d\n" % k
    return head + b"x" * (SIZE - len(head))


def client(port, path, stop_at, out):
    got = []
    failed = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic_ns() < stop_at:
        start = time.monotonic_ns()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            failed += 1
            continue
        if r.status != 200 or len(data) < 9 or not data[:8].isdigit():
            failed += 1
            continue
        got.append((start, int(data[:8])))
    conn.close()
    with open(out, "w") as f:
        f.write("failed %d\n" % failed)
        for start, k in got:
            f.write("%d %d\n" % (start, k))


def write_version(path, k):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(body(k))
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def main():
    port, path, file, ctl, name = sys.argv[1:6]
    seconds, nclients = float(sys.argv[6]), int(sys.argv[7])
    purge = "--no-purge" not in sys.argv[8:]
    port = int(port)
    stop_at = time.monotonic_ns() + int(seconds * 1e9)
    outs = ["%s.client%d" % (file, i) for i in range(nclients)]
    procs = [multiprocessing.Process(target=client,
                                     args=(port, path, stop_at + 200_000_000, o))
             for o in outs]
    for p in procs:
        p.start()
    purges = []             # (returned at, version)
    k = 1
    while time.monotonic_ns() < stop_at:
        began = time.monotonic_ns()
        k += 1
        write_version(file, k)
        if purge:
            subprocess.run([ctl, "-n", name, "purge", os.path.dirname(file)],
                           check=True, stdout=subprocess.DEVNULL)
        purges.append((time.monotonic_ns(), k))
        left = began + PERIOD_NS - time.monotonic_ns()
        if left > 0:
            time.sleep(left / 1e9)
    for p in procs:
        p.join()
    checked = stale = failed = 0
    for o in outs:
        with open(o) as f:
            failed += int(f.readline().split()[1])
            reqs = [tuple(map(int, line.split())) for line in f]
        os.unlink(o)
        i = -1
        for start, got in sorted(reqs):
            while i + 1 < len(purges) and purges[i + 1][0] < start:
                i += 1
            if i < 0:
                continue
            checked += 1
            if got < purges[i][1]:
                stale += 1
    print("checked %d stale %d purges %d failed %d" %
          (checked, stale, len(purges) if purge else 0, failed))


if __name__ == "__main__":
    main()
