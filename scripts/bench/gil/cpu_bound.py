# The course's CPU-bound demo in Python: the twin of cpu_bound.lua.
# usage: python3 cpu_bound.py [N]
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000000


def count(n):
    res = 0
    for i in range(1, n + 1):
        res += i
    return res


count(N // 10)  # warm up
t0 = time.perf_counter()
count(N)
one = time.perf_counter() - t0

t0 = time.perf_counter()
count(N)
count(N)
sequence = time.perf_counter() - t0

t0 = time.perf_counter()
ts = [threading.Thread(target=count, args=(N,)) for _ in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
threads = time.perf_counter() - t0

print("one %.6f" % one)
print("sequence %.6f" % sequence)
print("threads %.6f" % threads)
