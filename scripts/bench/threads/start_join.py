# Thread start + join in Python: the twin of start_join.lua.
# usage: python3 start_join.py [N [ROUNDS]]
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def noop():
    pass


def one_round(n):
    t0 = time.perf_counter()
    for _ in range(n):
        t = threading.Thread(target=noop)
        t.start()
        t.join()
    return (time.perf_counter() - t0) / n


one_round(50)  # warm up
best = float("inf")
for _ in range(ROUNDS):
    t = one_round(N)
    print("round %.9f" % t)
    best = min(best, t)
print("best %.9f" % best)
