# An uncontended Lock in Python: the twin of lock.lua.
# usage: python3 lock.py [N [ROUNDS]]
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5

lock = threading.Lock()


def with_lock(n):
    t0 = time.perf_counter()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return (time.perf_counter() - t0) / n


def empty(n):
    t0 = time.perf_counter()
    for _ in range(n):
        pass
    return (time.perf_counter() - t0) / n


with_lock(1000)
pair = loop = float("inf")
for _ in range(ROUNDS):
    pair = min(pair, with_lock(N))
    loop = min(loop, empty(N))
print("pair %.12f" % pair)
print("loop %.12f" % loop)
print("net %.12f" % (pair - loop))
