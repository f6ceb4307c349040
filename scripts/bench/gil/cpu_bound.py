# The course's CPU-bound demo in Python: the twin of cpu_bound.lua.
# usage: python3 cpu_bound.py [N [ROUNDS]]
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def count(n):
    res = 0
    for i in range(1, n + 1):
        res += i
    return res


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def sequence():
    count(N)
    count(N)


def threads():
    ts = [threading.Thread(target=count, args=(N,)) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


count(N // 10)  # warm up
one = seq = thr = float("inf")
cpu = wall = 0.0
for _ in range(ROUNDS):
    one = min(one, timed(lambda: count(N)))
    seq = min(seq, timed(sequence))
    c0 = time.process_time()
    t = timed(threads)
    cpu, wall = cpu + time.process_time() - c0, wall + t
    thr = min(thr, t)
print("one %.6f" % one)
print("sequence %.6f" % seq)
print("threads %.6f" % thr)
print("parallel %.3f" % (cpu / wall))
