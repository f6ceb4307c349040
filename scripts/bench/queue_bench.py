# The Python twin of queue_bench.lua: the same workloads, the same output.
#   python3 scripts/bench/queue_bench.py [scale]
import queue
import sys
import threading
import time

scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1
N_ITEMS = int(200000 * scale)
N_ROUND = int(20000 * scale)
N_LOCK = int(200000 * scale)
REPEAT = 3

clock = time.perf_counter


def best(f):
    return min(f() for _ in range(REPEAT))


def report(name, value, unit):
    print("%s\t%.6g\t%s" % (name, value, unit))


def throughput(maxsize):
    def run():
        q = queue.Queue(maxsize)
        n = N_ITEMS

        def produce():
            for i in range(n):
                q.put(i)
        producer = threading.Thread(target=produce)
        t0 = clock()
        producer.start()
        for _ in range(n):
            q.get()
        dt = clock() - t0
        producer.join()
        return dt
    return best(run)


def pingpong_queues():
    def run():
        q1, q2 = queue.Queue(), queue.Queue()
        n = N_ROUND

        def echo():
            for _ in range(n):
                q2.put(q1.get())
        t = threading.Thread(target=echo)
        t.start()
        t0 = clock()
        for i in range(n):
            q1.put(i)
            q2.get()
        dt = clock() - t0
        t.join()
        return dt
    return best(run)


def pingpong_events():
    def run():
        ping, pong = threading.Event(), threading.Event()
        n = N_ROUND

        def echo():
            for _ in range(n):
                ping.wait()
                ping.clear()
                pong.set()
        t = threading.Thread(target=echo)
        t.start()
        t0 = clock()
        for _ in range(n):
            ping.set()
            pong.wait()
            pong.clear()
        dt = clock() - t0
        t.join()
        return dt
    return best(run)


def pingpong_condition():
    def run():
        cv = threading.Condition()
        state = {"turn": 0}
        n = N_ROUND

        def echo():
            with cv:
                for _ in range(n):
                    while state["turn"] != 1:
                        cv.wait()
                    state["turn"] = 0
                    cv.notify()
        t = threading.Thread(target=echo)
        t.start()
        t0 = clock()
        with cv:
            for _ in range(n):
                state["turn"] = 1
                cv.notify()
                while state["turn"] != 0:
                    cv.wait()
        dt = clock() - t0
        t.join()
        return dt
    return best(run)


def contended_lock():
    def run():
        lock = threading.Lock()
        count = [0]
        n = N_LOCK

        def work():
            for _ in range(n):
                lock.acquire()
                count[0] += 1
                lock.release()
        other = threading.Thread(target=work)
        t0 = clock()
        other.start()
        work()
        other.join()
        dt = clock() - t0
        assert count[0] == 2 * n
        return dt
    return best(run)


report("queue_throughput_unbounded", N_ITEMS / throughput(0), "items/s")
report("queue_throughput_maxsize100", N_ITEMS / throughput(100), "items/s")
report("pingpong_queue", pingpong_queues() / N_ROUND * 1e6, "us/round-trip")
report("pingpong_event", pingpong_events() / N_ROUND * 1e6, "us/round-trip")
report("pingpong_condition", pingpong_condition() / N_ROUND * 1e6, "us/round-trip")
report("lock_contended_2threads", 2 * N_LOCK / contended_lock(), "acquires/s")
