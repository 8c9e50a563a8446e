# The floor of one durable write on this disk, for comparing with the
# kit's one-task durable figures: 1 KiB overwrites of a pre-written file,
# each followed by fdatasync (what the commit log does, with no engine,
# thread hop or executor around it). Usage: python3 durable_floor.py <dir> [seconds]
import os, sys, time
d = sys.argv[1]; secs = float(sys.argv[2]) if len(sys.argv) > 2 else 3
path = os.path.join(d, "floor.bin"); size = 64 << 20
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b"\0" * size, 0); os.fsync(fd)
buf = b"\x5a" * 1024; off = 0; n = 0; t0 = time.perf_counter()
while time.perf_counter() - t0 < secs:
    os.pwrite(fd, buf, off); os.fdatasync(fd); off = (off + 1024) % size; n += 1
el = time.perf_counter() - t0
print(f"{n/el:.0f} overwrite+fdatasync per second ({el/n*1e6:.1f} us each)")
os.close(fd); os.unlink(path)
