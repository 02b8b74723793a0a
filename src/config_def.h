/* config_def.h - every SENDCACHE_* variable, declared once.
 *
 * SC_VAR(NAME, field, KIND, value, lo, hi, shown, option, brief, meaning)
 *   NAME     the variable is SENDCACHE_NAME
 *   field    its member of struct sc_config (config.h)
 *   KIND     BOOL (0/1, no/yes, off/on), COUNT and SIZE (size_t, suffix K,
 *            M, G), MS (unsigned milliseconds), NAME (letters, digits,
 *            '.', '_', '-', at most 63), DIRS (absolute directories, ':'
 *            between them), PATH (an absolute path)
 *   value    the default, a C expression
 *   lo, hi   bounds of COUNT, SIZE and MS
 *   shown    the default as the docs show it (t0001 parses it back)
 *   option   sendcache-run's option: "--max-fds N" takes a value; a flag
 *            sets 1, or 0 when it starts with --no-
 *   brief    sendcache-run --help's words for it
 *   meaning  the README's and sendcache(7)'s words; `code` is bold there
 *
 * This list generates struct sc_config, its defaults and parser
 * (config.c), sendcache-run's options and --help, and the tables of the
 * README, sendcache(7) and sendcache-run(1) (scripts/gen-docs; t5003
 * fails when they drift). A new variable is one entry here.
 *
 * The defaults are budgets or bounds with reasons:
 * - fds: a quarter of the soft RLIMIT_NOFILE (the rest is the server's:
 *   nginx's default worker_connections is 768), at most 16384 and at most
 *   a quarter of the user's inotify watches (an entry holds one; several
 *   workers share the limit). On a site larger than the budget the hit
 *   ratio follows it: 100,000 files under Zipf 1.0 hit 0.60 with 1024
 *   descriptors and 0.73 with 5000 (bench/site.sh).
 * - 256 MiB mapped: address space only; pages are the page cache's.
 * - 1 MiB merge: one writev of header + mapping beat header + sendfile
 *   and the pipe strategy at every size measured, 4 KiB to 1 MiB
 *   (bench/strategies.sh, bench/results/20261122-vm-strategies*).
 * - 10 ms inotify check: well inside the 50 ms freshness bound, and one
 *   read() per 10 ms costs nothing against thousands of requests.
 * - 20 ms revalidation: the fallback must also meet the 50 ms bound.
 * - 64 KiB copies: a private copy costs memory per process, so only files
 *   a server reads into memory itself (lighttpd reads small files with
 *   pread; larger ones go by sendfile) are worth one.
 */
SC_VAR(DISABLE, disabled, BOOL, false, 0, 0, "0", "--disable",
       "load the library but turn it off",
       "1 turns sendcache off: every call goes straight to libc")
SC_VAR(MAX_FDS, max_fds, COUNT, 16384, 4, 1u << 20, "16384", "--max-fds N",
       "descriptors the cache may hold",
       "descriptors the cache may hold, handed out or not, 4 to 1048576; "
       "always at most a quarter of the soft `RLIMIT_NOFILE` (read again "
       "while the cache is full: nginx's `worker_rlimit_nofile` counts) and, "
       "unless set, at most a quarter of the inotify watches. Under the "
       "usual limit of 1024 that is 256: raise the limit "
       "(`worker_rlimit_nofile 65536;`, systemd `LimitNOFILE=`, `ulimit -n`) "
       "to raise the budget; `sendcache-stat` shows it as `fds_budget`. "
       "A call of the server refused a descriptor (EMFILE) makes the cache "
       "give back an eighth of its own and is made again "
       "(`fd_given_back`)")
SC_VAR(ADMIT_ALL, admit_all, BOOL, false, 0, 0, "0", "--admit-all",
       "cache every file at first open, LRU",
       "1 caches every file at its first open and evicts the least recently "
       "used; 0: once the budgets are full, a file gets in only if asked "
       "for more often lately than the one it would evict (a frequency "
       "sketch, as TinyLFU): a file asked for once, a crawler's walk, costs "
       "nothing more than without sendcache")
SC_VAR(MAX_MAPPED, max_mapped, SIZE, 256u << 20, 0, 1ull << 40, "256M",
       "--max-mapped SIZE", "bytes of mappings, e.g. 256M",
       "bytes of read-only file mappings the cache may hold (suffix K, M, "
       "G), up to 1T")
SC_VAR(MERGE_MAX, merge_max, SIZE, 1u << 20, 0, 1u << 30, "1M",
       "--merge-max SIZE", "largest file sent by one writev",
       "largest file sent as one `writev(header + mapping)`, up to 1G; "
       "larger files use `sendfile`")
SC_VAR(COPY_MAX, copy_max, SIZE, 64u << 10, 0, 1u << 30, "64K",
       "--copy-max SIZE", "largest file read/pread from a copy",
       "largest file whose `read`/`pread` is answered from a private copy "
       "made at the first read (lighttpd reads small files with `pread64`), "
       "up to 1G; a copy is used only while inotify watches every name of "
       "the file; 0: never")
SC_VAR(PIPE_MAX, pipe_max, SIZE, 0, 0, 1u << 30, "0", "--pipe-max SIZE",
       "largest file sent from a pipe",
       "largest file sent from a cached pipe (filled once by `splice`, sent "
       "by `tee` + `splice`), up to 1G and at most fs.pipe-max-size less a "
       "page; 0: never")
SC_VAR(PREWARM, prewarm, DIRS, "", 0, 0, "unset", "--prewarm DIR[:DIR]",
       "cache these directories at start",
       "absolute directories, `:`-separated, whose regular files are cached "
       "when the library loads, until a budget is full, before a server "
       "forks: its workers (Apache prefork's children) start warm; dropped "
       "after 16 forks over a second if no child woke and the server used "
       "none of it (busybox httpd)")
SC_VAR(CHECK_MS, check_ms, MS, 10, 1, 40, "10", "--check-ms N",
       "inotify read interval, 1-40",
       "interval between reads of pending inotify events, 1 to 40")
SC_VAR(REVALIDATE_MS, revalidate_ms, MS, 20, 1, 40, "20", "--revalidate-ms N",
       "stat interval without inotify",
       "stat revalidation interval where inotify is unavailable or does not "
       "see every change (FUSE, NFS...), 1 to 40")
SC_VAR(INOTIFY, inotify, BOOL, true, 0, 0, "1", "--no-inotify",
       "revalidate by stat instead",
       "0 uses stat revalidation instead of inotify")
SC_VAR(HOLD_HEADS, hold_heads, BOOL, true, 0, 0, "1", "--no-hold-heads",
       "hold headers only when corked",
       "0 holds back headers only when the socket is corked or the write "
       "carries `MSG_MORE`")
SC_VAR(STATS, stats, BOOL, true, 0, 0, "1", "--no-stats",
       "keep the counters private",
       "0 keeps the counters private to each process: no shared-memory "
       "segment")
SC_VAR(STATS_NAME, stats_name, NAME, "", 0, 0, "PROGRAM-PID",
       "--stats-name NAME", "counters in /dev/shm/sendcache.NAME",
       "instance name, letters, digits, `.`, `_` and `-`, at most 63: the "
       "segment is `/dev/shm/sendcache.NAME`, read by `sendcache-stat -n NAME`")
SC_VAR(STATS_GROUP, stats_group, NAME, "", 0, 0, "unset",
       "--stats-group GROUP", "group that may read the counters",
       "group allowed to read the segment (mode 0640 instead of 0600)")
SC_VAR(STATS_SLOTS, stats_slots, COUNT, 256, 4, 65536, "256",
       "--stats-slots N", "processes the segment has room for",
       "processes the segment has room for, 4 to 65536")
SC_VAR(STATS_FILE, stats_file, PATH, "", 0, 0, "unset", "--stats-file FILE",
       "append counters there at exit",
       "an absolute path: a file to which each process appends its counters "
       "at exit (`pid N`, "
       "then `name value` lines). Create it first, writable by the workers' "
       "user (e.g. www-data). It is opened without following a symlink "
       "anywhere on the path (`openat2`; where the kernel lacks it, only the "
       "last name is checked and root writes nothing) and written only if it "
       "is a regular file of one link")
