# GIL wake-up latency in Python: the twin of wakeup.lua.
# usage: python3 wakeup.py [SAMPLES]
import math
import sys
import threading
import time

SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def sample(n):
    d = []
    for _ in range(n):
        t0 = time.perf_counter()
        time.sleep(0.001)
        d.append(time.perf_counter() - t0 - 0.001)
    d.sort()
    return d


def quantile(s, q):
    return s[max(0, math.ceil(q * len(s)) - 1)]


idle = sample(SAMPLES)

stop = False


def spin():
    x = 0
    while not stop:
        for i in range(1000):
            x += i


spinner = threading.Thread(target=spin)
spinner.start()
time.sleep(0.02)
busy = sample(SAMPLES)
stop = True
spinner.join()

print("idle_median %.9f" % quantile(idle, 0.5))
print("idle_p99 %.9f" % quantile(idle, 0.99))
print("busy_median %.9f" % quantile(busy, 0.5))
print("busy_p99 %.9f" % quantile(busy, 0.99))
print("busy_max %.9f" % busy[-1])
