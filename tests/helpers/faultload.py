#!/usr/bin/env python3
"""faultload.py - load, file faults and a byte checker against one server.

Used by tests/t4004-faults-load.t and bench/soak.sh. One run serves a
document root WWW on 127.0.0.1:PORT and does three things at once for
SECONDS:

- wrk (100 connections, one thread by default) requests the files round
  robin; a Lua script counts every status it gets. wrk does not look at
  bodies.
- a fault loop changes the files every 100 ms (one tick):
    /rename.bin    a new version written to a temporary file, then rename(2)
    /inplace.bin   rewritten in place (same inode, no O_TRUNC): the new
                   version written over the old one in two halves, 1 ms
                   apart, then ftruncate(2) to its size
    /truncate.bin  truncated to 0, restored with a new version 20 ms later
    /delete.bin    unlinked, recreated with a new version 20 ms later
  /control.bin never changes. Every tick, 50 ms after the tick's last
  change, the loop requests each file once on its own connection: each
  must answer the version it has just written (DESIGN.md invariant 4).
- checker threads, each with its own keep-alive connection (http.client),
  request the files round robin and check every response: status,
  Content-Length against the bytes received, and the body against every
  version of that file the loop can write.

Every version of every file is random bytes made from a fixed seed, so a
byte that belongs to no version at its position (another file's bytes, a
header in a body, a shifted offset) is caught. Each response is one kind:

  ok          200, Content-Length bytes, exactly one version (the empty
              file counts: truncate.bin is empty for 20 ms each tick)
  mixed       200, Content-Length bytes, each byte from some version at its
              position, but no single version: a read that raced a write
  short       200, fewer than Content-Length bytes, then the connection
              closed (a file truncated while it was being sent)
  status-NNN  any other status (404 while delete.bin is gone)
  noanswer    connection closed or reset before a status line
  timeout     no answer within 10 s (a hung connection)
  garbage     a status line that is not HTTP (a connection out of step)
  wrong       a body byte that no version has at its position, or more
              body bytes than Content-Length

wrong bytes must be 0. With --baseline (the JSON of the same run against
the server without the library), every failure kind must be one the
server showed without the library (see new_kinds for the one exception).

Subcommands:
  init WWW                     write the files (first versions) into WWW
  run --www WWW --port P ...   the run above; prints "key value" lines and,
                               with --json FILE, writes the full result
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Each file: (name, sizes of its versions). Sizes span the library's send
# strategies: small files merged into one writev, larger ones mapped,
# control.bin above SENDCACHE_MERGE_MAX (1M) goes by sendfile.
FILES = {
    "rename.bin": [3000, 4500, 2200, 6000, 3800, 5100],
    "inplace.bin": [20000, 26000, 14000, 32000, 18000, 24000],
    "truncate.bin": [262144, 200000, 300000, 250000, 230000, 280000],
    "delete.bin": [1200, 1800, 900, 1500, 2000, 1100],
    "control.bin": [1536 * 1024],
}
FAULTED = ["rename.bin", "inplace.bin", "truncate.bin", "delete.bin"]
SEED = 4004

TICK_S = 0.100      # one fault of each kind per tick
GONE_S = 0.020      # truncate.bin empty and delete.bin absent this long
HALF_S = 0.001      # between the two halves of an in-place rewrite
FRESH_S = 0.050     # DESIGN.md invariant 4: seen 50 ms after a change
TIMEOUT_S = 10.0    # one request; only keeps a hung server from hanging us


def versions():
    """Every version of every file, from the fixed seed: {name: [bytes]}."""
    rnd = random.Random(SEED)
    out = {}
    for name, sizes in FILES.items():
        out[name] = [rnd.randbytes(n) for n in sizes]
    out["truncate.bin"].append(b"")   # the state between truncate and restore
    return out


def positional(vers):
    """What a body byte may be at each position: the versions, and for the
    files written in place also zeros. A page that a write is extending
    reads as zeros until the write's copy reaches it (tmpfs hands out
    zeroed, up-to-date pages): plain servers send those zeros too."""
    out = dict(vers)
    for name in ("inplace.bin", "truncate.bin"):
        out[name] = vers[name] + [bytes(max(len(v) for v in vers[name]))]
    return out


def write_file(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o644)


def init(www):
    vers = versions()
    os.makedirs(www, exist_ok=True)
    for name in FILES:
        write_file(os.path.join(www, name), vers[name][0])


class Kinds:
    """Counts of response kinds per file, and wrong bytes; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_file = {}
        self.wrong_bytes = 0
        self.examples = []

    def add(self, name, kind, wrong=0, detail=None):
        with self.lock:
            k = self.by_file.setdefault(name, {})
            k[kind] = k.get(kind, 0) + 1
            self.wrong_bytes += wrong
            if detail and len(self.examples) < 20:
                self.examples.append("%s %s: %s" % (name, kind, detail))

    def total(self):
        with self.lock:
            return sum(sum(k.values()) for k in self.by_file.values())


def bad_positions(body, vers):
    """How many bytes of body no version has at their position."""
    bad = 0
    step = 512
    for lo in range(0, len(body), step):
        chunk = body[lo:lo + step]
        if any(v[lo:lo + len(chunk)] == chunk for v in vers):
            continue
        for i in range(lo, lo + len(chunk)):
            b = body[i]
            if not any(len(v) > i and v[i] == b for v in vers):
                bad += 1
    return bad


def classify(name, status, clen, body, closed_early, pos, shas, head=""):
    """(kind, wrong bytes, detail) of one response; HEAD is its header
    lines, for the example of a response without Content-Length."""
    if status != 200:
        return "status-%d" % status, 0, None
    if clen is None:
        return "wrong", len(body), "200 without Content-Length, %d body bytes%s; head: %s" % (
            len(body), ", closed early" if closed_early else "", head)
    if not closed_early and len(body) == clen:
        if hashlib.sha256(body).hexdigest() in shas:
            return "ok", 0, None
    bad = bad_positions(body, pos[name])
    if bad:
        if os.environ.get("FAULTLOAD_DUMP"):
            with open("%s.%s.%d" % (os.environ["FAULTLOAD_DUMP"], name, len(body)), "wb") as f:
                f.write(body)
        return "wrong", bad, "%d of %d bytes (Content-Length %d) from no version" % (
            bad, len(body), clen)
    if len(body) < clen:
        return "short", 0, None
    return "mixed", 0, None


class Conn:
    """One keep-alive HTTP/1.1 connection, reopened after a failure."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def get(self, path):
        """(status, content-length or None, body, closed early, header
        lines) or raises."""
        reused = self.c is not None
        try:
            return self._get(path)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A server may close an idle keep-alive connection at any time
            # (Apache's event MPM does under load): once more on a new one,
            # as HTTP clients do; a new connection that fails is an answer.
            if not reused:
                raise
            return self._get(path)

    def _get(self, path):
        if self.c is None:
            self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        try:
            self.c.request("GET", path)
            r = self.c.getresponse()
            cl = r.getheader("Content-Length")
            clen = int(cl) if cl is not None and cl.isdigit() else None
            closed = False
            try:
                body = r.read()
            except http.client.IncompleteRead as e:
                body, closed = e.partial, True
            if r.will_close or closed:
                self.close()
            head = " | ".join("%s: %s" % kv for kv in r.getheaders())
            return r.status, clen, body, closed, head
        except Exception:
            self.close()
            raise

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def fetch_kind(conn, name, pos, shas):
    try:
        status, clen, body, closed, head = conn.get("/" + name)
    except http.client.BadStatusLine as e:
        line = str(e.line if hasattr(e, "line") else e).strip("'\" ")
        if line:
            return "garbage", 0, "status line %r" % line[:60]
        return "noanswer", 0, None
    except socket.timeout:
        return "timeout", 0, "no answer in %d s" % TIMEOUT_S
    except (ConnectionError, http.client.HTTPException, OSError):
        return "noanswer", 0, None
    return classify(name, status, clen, body, closed, pos, shas, head)


def checker(port, stop, kinds, pos, shas, offset):
    conn = Conn(port)
    names = list(FILES)
    i = offset
    while not stop.is_set():
        name = names[i % len(names)]
        i += 1
        kind, wrong, detail = fetch_kind(conn, name, pos, shas)
        kinds.add(name, kind, wrong, detail)
        if kind == "noanswer":
            time.sleep(0.001)
    conn.close()


class Faults:
    """The fault loop: one tick every TICK_S, then a freshness check."""

    def __init__(self, www, port, vers):
        self.www = www
        self.port = port
        self.vers = vers
        self.next = {name: 1 for name in FAULTED}
        self.latest = {name: vers[name][0] for name in FILES}
        self.applied = {name: 0 for name in FAULTED}
        self.fresh_checked = 0
        self.timeouts = 0
        self.stale = []
        self.conn = Conn(port)

    def version(self, name):
        vs = [v for v in self.vers[name] if v]
        v = vs[self.next[name] % len(vs)]
        self.next[name] += 1
        return v

    def path(self, name):
        return os.path.join(self.www, name)

    def rename(self):
        v = self.version("rename.bin")
        tmp = self.path(".rename.bin.tmp")
        write_file(tmp, v)
        os.rename(tmp, self.path("rename.bin"))
        self.latest["rename.bin"] = v
        self.applied["rename.bin"] += 1

    def inplace(self):
        v = self.version("inplace.bin")
        fd = os.open(self.path("inplace.bin"), os.O_WRONLY)
        try:
            half = len(v) // 2
            os.pwrite(fd, v[:half], 0)
            time.sleep(HALF_S)
            os.pwrite(fd, v[half:], half)
            os.ftruncate(fd, len(v))
        finally:
            os.close(fd)
        self.latest["inplace.bin"] = v
        self.applied["inplace.bin"] += 1

    def truncate(self):
        os.truncate(self.path("truncate.bin"), 0)

    def restore(self):
        v = self.version("truncate.bin")
        fd = os.open(self.path("truncate.bin"), os.O_WRONLY)
        try:
            os.write(fd, v)
        finally:
            os.close(fd)
        self.latest["truncate.bin"] = v
        self.applied["truncate.bin"] += 1

    def delete(self):
        os.unlink(self.path("delete.bin"))

    def recreate(self):
        v = self.version("delete.bin")
        write_file(self.path("delete.bin"), v)
        self.latest["delete.bin"] = v
        self.applied["delete.bin"] += 1

    def check_fresh(self):
        """Each file once: it must be the version written last."""
        for name in FILES:
            want = self.latest[name]
            try:
                status, clen, body, closed, _ = self.conn.get("/" + name)
            except socket.timeout:
                self.timeouts += 1      # reported on their own
                continue
            except Exception as e:
                status, clen, body, closed = "error %s" % type(e).__name__, None, b"", True
            self.fresh_checked += 1
            if status != 200 or closed or body != want:
                if len(self.stale) < 20:
                    self.stale.append("%s: status %s, %d bytes, want %d bytes%s" % (
                        name, status, len(body), len(want),
                        " (an older version)" if any(body == v for v in self.vers[name]) else ""))
                else:
                    self.stale.append(name)

    def tick(self):
        self.rename()
        self.inplace()
        self.truncate()
        self.delete()
        time.sleep(GONE_S)
        self.restore()
        self.recreate()
        time.sleep(FRESH_S)
        self.check_fresh()

    def loop(self, stop):
        while not stop.is_set():
            t0 = time.monotonic()
            self.tick()
            rest = TICK_S - (time.monotonic() - t0)
            if rest > 0:
                stop.wait(rest)
        self.conn.close()


# wrk runs this: round robin over the files, and its summary on one line.
# No response() function: with one, wrk keeps every body for Lua and slows
# to a crawl on the larger files.
WRK_LUA = r"""
local paths = {%s}
local i = 0
request = function()
    i = i %% #paths + 1
    return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("wrk-result requests %%d status %%d connect %%d read %%d write %%d timeout %%d\n",
        summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def start_wrk(port, seconds, connections, threads, tmpdir):
    if connections <= 0:
        return None
    script = os.path.join(tmpdir, "faults.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % ", ".join('"/%s"' % n for n in FILES))
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
           "--timeout", "10s", "-s", script, "http://127.0.0.1:%d/" % port]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)


def wrk_result(proc):
    """wrk's counts: requests, status (non-2xx/3xx), socket errors."""
    out = {"requests": 0}
    if proc is None:
        return out
    text, _ = proc.communicate(timeout=60)
    for line in text.splitlines():
        w = line.split()
        if line.startswith("wrk-result "):
            out.update({w[i]: int(w[i + 1]) for i in range(1, len(w), 2)})
    out["rc"] = proc.returncode
    if proc.returncode != 0:
        out["output"] = text[-2000:]
    return out


def run(args):
    vers = versions()
    shas = set()
    for vs in vers.values():
        shas.update(hashlib.sha256(v).hexdigest() for v in vs)
    kinds = Kinds()
    stop = threading.Event()
    faults = Faults(args.www, args.port, vers)
    # The files start at their first versions, whatever a previous run left.
    init(args.www)

    tmpdir = tempfile.mkdtemp(prefix="faultload.")
    try:
        wrk = start_wrk(args.port, args.seconds, args.connections, args.threads, tmpdir)
        checkers = [threading.Thread(target=checker,
                                     args=(args.port, stop, kinds, positional(vers), shas, i))
                    for i in range(args.checkers)]
        floop = threading.Thread(target=faults.loop, args=(stop,))
        for t in checkers + [floop]:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in checkers + [floop]:
            t.join()
        w = wrk_result(wrk)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    # After the last change, every file once more, 50 ms later.
    time.sleep(FRESH_S)
    fresh_before = len(faults.stale)
    faults.check_fresh()
    faults.conn.close()
    final_stale = len(faults.stale) - fresh_before

    res = {
        "seconds": args.seconds,
        "checked": kinds.total(),
        "kinds": kinds.by_file,
        "wrong_bytes": kinds.wrong_bytes,
        "examples": kinds.examples,
        "faults": faults.applied,
        "fresh_checked": faults.fresh_checked,
        "fresh_timeouts": faults.timeouts,
        "stale": faults.stale,
        "final_stale": final_stale,
        "wrk": w,
    }
    if args.baseline:
        with open(args.baseline) as f:
            base = json.load(f)
        res["new_kinds"] = new_kinds(res, base)
        res["more_often"] = more_often(res, base)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
    report(res)


# Failures a server without the library shows only when a fault lands in a
# window of microseconds inside one request, which a run of a few seconds
# may not catch. The library reads pending events before each lookup of a
# name changed in the last second, so its window is the server's own;
# more_often() checks that it is not wider. (kind, files):
RACES = (
    # truncated between the server's fstat and its send: nginx and
    # lighttpd close after the bytes there were, Apache's writev of
    # head + mapping fails (EFAULT) and it closes without a status line
    ("short", ("inplace.bin", "truncate.bin")),
    ("noanswer", ("inplace.bin", "truncate.bin")),
    # deleted between Apache's stat and its open: 403 (AH00132)
    ("status-403", ("delete.bin",)),
)


def new_kinds(res, base):
    """The failure kinds of res that base (the run without the library)
    never showed, as "file:kind(count)". A kind counts as shown when the
    run without the library had it for any file; the RACES count as shown
    for their files even when it had none. The bytes of every response
    are checked all the same. Timeouts are reported on their own
    (report: timeouts)."""
    seen = set()
    for ks in base["kinds"].values():
        seen.update(ks)
    new = []
    for name, ks in sorted(res["kinds"].items()):
        for k, n in sorted(ks.items()):
            if k in ("ok", "timeout") or k in seen:
                continue
            if any(k == rk and name in files for rk, files in RACES):
                continue
            new.append("%s:%s(%d)" % (name, k, n))
    return new


# A failure kind may be this many times as frequent for a file with the
# library as without it, plus this share of the file's responses, and at
# least this many: runs are short and the two halves of a run differ in
# load. An answer up to SENDCACHE_CHECK_MS old (10 ms of each 100 ms tick)
# made Apache fail 3-6% of its requests for a file changed under it,
# 0.05-0.2% without the library.
MORE_TIMES = 3
MORE_SHARE = 0.02
MORE_MIN = 10


def more_often(res, base):
    """The failure kinds that res shows for a file much more often than
    base, by share of that file's responses, as "file:kind(with% > plain%)"."""
    more = []
    for name, ks in sorted(res["kinds"].items()):
        total = sum(ks.values())
        bks = base["kinds"].get(name, {})
        btotal = sum(bks.values()) or 1
        for k, n in sorted(ks.items()):
            if k == "ok":
                continue
            share, bshare = n / total, bks.get(k, 0) / btotal
            if n >= MORE_MIN and share > MORE_TIMES * bshare + MORE_SHARE:
                more.append("%s:%s(%.2f%%>%.2f%%)" % (name, k, 100 * share, 100 * bshare))
    return more


def report(res):
    """The result as "key value" lines, for a shell to read."""
    print("checked", res["checked"])
    print("wrong_bytes", res["wrong_bytes"])
    print("faults", sum(res["faults"].values()))
    print("fresh_checked", res["fresh_checked"])
    print("stale", len(res["stale"]))
    print("final_stale", res["final_stale"])
    print("wrk_requests", res["wrk"]["requests"])
    print("wrk_rc", res["wrk"].get("rc", 0))
    bad = sum(n for k in res["kinds"].values() for kind, n in k.items()
              if kind in ("wrong", "garbage"))
    print("wrong_responses", bad)
    print("timeouts", res["fresh_timeouts"] +
          sum(k.get("timeout", 0) for k in res["kinds"].values()))
    for name in sorted(res["kinds"]):
        ks = res["kinds"][name]
        print("kinds %s %s" % (name, ",".join("%s=%d" % (k, ks[k]) for k in sorted(ks))))
    if "new_kinds" in res:
        print("new_kinds", " ".join(res["new_kinds"]) or "none")
        print("more_often", " ".join(res["more_often"]) or "none")
    for e in res["examples"][:5]:
        print("example", e)
    for s in res["stale"][:5]:
        print("stale_example", s)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pi = sub.add_parser("init")
    pi.add_argument("www")
    pr = sub.add_parser("run")
    pr.add_argument("--www", required=True)
    pr.add_argument("--port", type=int, required=True)
    pr.add_argument("--seconds", type=int, default=8)
    pr.add_argument("--connections", type=int, default=100, help="wrk connections; 0: no wrk")
    pr.add_argument("--threads", type=int, default=1, help="wrk threads")
    pr.add_argument("--checkers", type=int, default=3, help="checker connections")
    pr.add_argument("--baseline", help="JSON of the run without the library")
    pr.add_argument("--json", help="write the full result here")
    args = p.parse_args()
    if args.cmd == "init":
        init(args.www)
    else:
        run(args)


if __name__ == "__main__":
    main()
