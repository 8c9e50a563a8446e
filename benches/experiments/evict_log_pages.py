"""Evicts the cached pages of a process's commit logs (`*.redb-log`) every
INTERVAL seconds, as memory pressure would, until the process exits.

    target/release/whatsapp-rust-conformance bench --filter concurrent_writers \
        --backend redb --no-extras & python3 benches/experiments/evict_log_pages.py $! 0.05

`posix_fadvise(POSIX_FADV_DONTNEED)` drops clean pages only (synced ones);
used for the zeros-to-the-page-end measurement in docs/BENCHMARKS.md.
"""
import os
import sys
import time

pid, interval = int(sys.argv[1]), float(sys.argv[2])
evictions = 0
while os.path.exists(f"/proc/{pid}"):
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                path = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if path.endswith(".redb-log"):
                log = os.open(path, os.O_RDONLY)
                os.posix_fadvise(log, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(log)
                evictions += 1
    except OSError:
        pass
    time.sleep(interval)
print(f"{evictions} evictions")
