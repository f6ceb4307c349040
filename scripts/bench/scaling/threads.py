# The twin of threads.lua for python3: the course's `res += i` loop or
# naive fib, in N threads at once, each doing the whole one-thread amount.
# usage: python3 threads.py count|fib SIZE N
# Prints "time S" (wall, from releasing the threads to the last join),
# "parallel X" (CPU time / wall time) and "checksum C".
import sys
import threading
import time


def count(n):
    res = 0
    for i in range(1, n + 1):
        res += i
    return res


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    work = {"count": count, "fib": fib}[sys.argv[1]]
    size, n = int(sys.argv[2]), int(sys.argv[3])
    go = threading.Event()
    results = [None] * n

    def worker(i):
        go.wait()
        results[i] = work(size)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for w in workers:
        w.start()
    c0, t0 = time.process_time(), time.perf_counter()
    go.set()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if any(r != results[0] for r in results) or results[0] is None:
        sys.exit("checksum mismatch between threads: %r" % results)
    print("time %.6f" % wall)
    print("parallel %.3f" % (cpu / wall))
    print("checksum %d" % results[0])


main()
