/* stats_def.h - every counter, declared once.
 *
 * SC_COUNTER(name, kind, description): kind is COUNT (only grows) or GAUGE
 * (goes up and down). This list generates the counters struct, the names the
 * CLI prints and the man page table; a new counter is one line here.
 */
SC_COUNTER(open_hit,         COUNT, "opens answered from the cache, no syscall")
SC_COUNTER(open_miss,        COUNT, "cacheable opens that went to the kernel and filled the cache")
SC_COUNTER(open_pass_flags,  COUNT, "opens passed through: flags other than a plain read-only open")
SC_COUNTER(open_pass_path,   COUNT, "opens passed through: path with . or .. components, // or too long")
SC_COUNTER(open_pass_type,   COUNT, "opens passed through: not a regular file, or changed while being cached")
SC_COUNTER(open_full,        COUNT, "opens not cached because the budgets were full of busy entries")
SC_COUNTER(fd_dup,           COUNT, "descriptors added to an entry's pool (one fcntl each)")
SC_COUNTER(close_kept,       COUNT, "closes of handed-out descriptors kept in user space")
SC_COUNTER(stat_hit,         COUNT, "stat/lstat/fstat calls answered from a snapshot")
SC_COUNTER(cork_kept,        COUNT, "TCP_CORK set or cleared in user space")
SC_COUNTER(head_held,        COUNT, "writes held back for a merged send")
SC_COUNTER(merged_writev,    COUNT, "sendfile calls sent as one writev(header + mapping)")
SC_COUNTER(merged_bytes,     COUNT, "bytes sent by merged writev calls")
SC_COUNTER(sendfile_real,    COUNT, "sendfile calls passed to the kernel")
SC_COUNTER(sendfile_bytes,   COUNT, "bytes sent by sendfile calls passed to the kernel")
SC_COUNTER(flush_blocking,   COUNT, "held-back bytes flushed at a blocking point")
SC_COUNTER(efault_fallback,  COUNT, "merged sends that met a truncated mapping and fell back")
SC_COUNTER(inval_inotify,    COUNT, "entries dropped by an inotify event")
SC_COUNTER(inval_revalidate, COUNT, "entries dropped by stat revalidation")
SC_COUNTER(inval_all,        COUNT, "whole-cache drops (credentials changed, event queue overflow)")
SC_COUNTER(revalidate_stat,  COUNT, "stat calls made to revalidate entries without inotify")
SC_COUNTER(watch_fail,       COUNT, "directories that could not be watched (revalidation used)")
SC_COUNTER(evictions,        COUNT, "entries evicted to stay within budget")
SC_COUNTER(fd_lost,          COUNT, "descriptors of ours closed behind our back and forgotten")
SC_COUNTER(detach,           COUNT, "handed-out descriptors turned into independent ones")
SC_COUNTER(entries,          GAUGE, "cached files")
SC_COUNTER(fds_held,         GAUGE, "descriptors held by the cache, handed out or not")
SC_COUNTER(mapped_bytes,     GAUGE, "bytes of file mappings held")
