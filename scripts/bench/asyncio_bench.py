# asyncio benchmark, the twin of asyncio_bench.lua (same workloads, same
# output): one line per workload, "name cpu wall unit", each the best of
# 'rounds': the process's CPU time (user + system) and the wall-clock time,
# per operation.
#   python3 scripts/bench/asyncio_bench.py [rounds=3] [scale=1]
import asyncio
import sys
from time import perf_counter, process_time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0

NTASKS = int(10000 * scale)
SWITCHES = 20
RTT = int(20000 * scale)
CLIENTS, CLIENT_RTT = 10, int(2000 * scale)


def now():
    return (process_time(), perf_counter())


def since(t0):
    return (process_time() - t0[0], perf_counter() - t0[1])


def best(f):
    times = [asyncio.run(f()) for _ in range(rounds)]
    return (min(t[0] for t in times), min(t[1] for t in times))


def report(name, t, per, factor, unit):
    print("%s %.1f %.1f %s" % (name, t[0] / per * factor, t[1] / per * factor, unit),
          flush=True)


async def spawn_sleep0():
    t0 = now()
    ts = [asyncio.create_task(asyncio.sleep(0)) for _ in range(NTASKS)]
    await asyncio.gather(*ts)
    return since(t0)


async def switcher():
    for _ in range(SWITCHES):
        await asyncio.sleep(0)


async def task_switch():
    ts = [asyncio.create_task(switcher()) for _ in range(NTASKS)]
    await asyncio.sleep(0)
    t0 = now()
    await asyncio.gather(*ts)
    return since(t0)


async def sleep_1ms():
    t0 = now()
    ts = [asyncio.create_task(asyncio.sleep(0.001)) for _ in range(NTASKS)]
    await asyncio.gather(*ts)
    return since(t0)


async def echo_handler(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()


async def echo_client(port, n):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(n):
        writer.write(b"hello, echo server\n")
        await writer.drain()
        await reader.readline()
    writer.close()


def echo(nclients, n):
    async def run():
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        t0 = now()
        await asyncio.gather(*[echo_client(port, n) for _ in range(nclients)])
        t = since(t0)
        server.close()
        return t
    return run


report("spawn_sleep0", best(spawn_sleep0), NTASKS, 1e9, "ns/task")
report("task_switch", best(task_switch), NTASKS * SWITCHES, 1e9, "ns/switch")
report("sleep_1ms", best(sleep_1ms), 1, 1e3, "ms/10k")
report("echo_rtt", best(echo(1, RTT)), RTT, 1e6, "us/roundtrip")
report("echo_10clients", best(echo(CLIENTS, CLIENT_RTT)), CLIENTS * CLIENT_RTT, 1e6,
       "us/roundtrip")
