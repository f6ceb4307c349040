# multiprocessing benchmarks, the twin of mp_bench.lua (see mp_bench.sh).
import multiprocessing as mp
import sys
import time

now = time.perf_counter
scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1
REPEAT = 5


def best(f):
    return min(f() for _ in range(REPEAT))


def report(name, value, unit, better):
    print("%s\t%.6g\t%s\t%s" % (name, value, unit, better), flush=True)


def noop():
    pass


def producer_q(q, m):
    for i in range(1, m + 1):
        q.put(i)
    q.put(None)


def producer_pipe(c, m):
    for i in range(1, m + 1):
        c.send(i)
    c.send(None)


def double(x):
    return x * 2


def count(n):
    res = 0
    for i in range(1, n + 1):
        res += i
    return res


def main():
    mp.set_start_method("fork")
    n = max(10, int(100 * scale))

    def start_join():
        t0 = now()
        for _ in range(n):
            p = mp.Process(target=noop)
            p.start()
            p.join()
        return (now() - t0) / n * 1e3
    report("process start+join", best(start_join), "ms", "lower")

    m = max(1000, int(100000 * scale))

    def queue_tp():
        q = mp.Queue()
        t0 = now()
        p = mp.Process(target=producer_q, args=(q, m))
        p.start()
        while q.get() is not None:
            pass
        p.join()
        return (now() - t0) / m
    report("Queue throughput", 1 / best(queue_tp), "items/s", "higher")

    def pipe_tp():
        a, b = mp.Pipe()
        t0 = now()
        p = mp.Process(target=producer_pipe, args=(b, m))
        p.start()
        while a.recv() is not None:
            pass
        p.join()
        a.close()
        b.close()
        return (now() - t0) / m
    report("Pipe throughput", 1 / best(pipe_tp), "msgs/s", "higher")

    pool = mp.Pool(2)
    pool.map(double, [1, 2, 3])
    items = list(range(1, max(1000, int(100000 * scale)) + 1))

    def pool_map():
        t0 = now()
        r = pool.map(double, items)
        assert len(r) == len(items)
        return (now() - t0) * 1e3
    report("Pool(2).map 100k items", best(pool_map), "ms", "lower")

    k = max(100, int(1000 * scale))

    def apply_async():
        t0 = now()
        rs = [pool.apply_async(double, (i,)) for i in range(1, k + 1)]
        for i, r in enumerate(rs, 1):
            assert r.get() == 2 * i
        return (now() - t0) * 1e3
    report("1000 apply_async", best(apply_async), "ms", "lower")
    pool.close()
    pool.join()

    manager = mp.Manager()
    d = manager.dict()
    dn = max(200, int(2000 * scale))

    def dict_ops():
        t0 = now()
        for i in range(1, dn + 1):
            d[i] = i
        for i in range(1, dn + 1):
            assert d[i] == i
        return (now() - t0) / (2 * dn)
    report("Manager dict ops", 1 / best(dict_ops), "ops/s", "higher")
    manager.shutdown()

    c = int(10000000 * scale)  # Python's loop is slower: a third of Lua's n

    def cpu_demo():
        t0 = now()
        count(c)
        one = now() - t0
        t0 = now()
        ps = [mp.Process(target=count, args=(c,)) for _ in range(2)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        return (now() - t0) / one
    report("CPU demo: 2 processes / 1 call", best(cpu_demo), "x", "lower")


if __name__ == "__main__":
    main()
