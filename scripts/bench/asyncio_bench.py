# asyncio benchmark, the twin of asyncio_bench.lua (same workloads, same
# output): one line per workload, "name value unit", best of 'rounds'.
#   python3 scripts/bench/asyncio_bench.py [rounds=3] [scale=1]
import asyncio
import sys
from time import perf_counter as now

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0

NTASKS = int(10000 * scale)
SWITCHES = 20
RTT = int(20000 * scale)
CLIENTS, CLIENT_RTT = 10, int(2000 * scale)


def best(f):
    return min(asyncio.run(f()) for _ in range(rounds))


def report(name, value, unit):
    print("%s %.1f %s" % (name, value, unit), flush=True)


async def spawn_sleep0():
    t0 = now()
    ts = [asyncio.create_task(asyncio.sleep(0)) for _ in range(NTASKS)]
    await asyncio.gather(*ts)
    return now() - t0


async def switcher():
    for _ in range(SWITCHES):
        await asyncio.sleep(0)


async def task_switch():
    ts = [asyncio.create_task(switcher()) for _ in range(NTASKS)]
    await asyncio.sleep(0)
    t0 = now()
    await asyncio.gather(*ts)
    return now() - t0


async def sleep_1ms():
    t0 = now()
    ts = [asyncio.create_task(asyncio.sleep(0.001)) for _ in range(NTASKS)]
    await asyncio.gather(*ts)
    return now() - t0


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
        t = now() - t0
        server.close()
        return t
    return run


report("spawn_sleep0", best(spawn_sleep0) / NTASKS * 1e9, "ns/task")
report("task_switch", best(task_switch) / (NTASKS * SWITCHES) * 1e9, "ns/switch")
report("sleep_1ms", best(sleep_1ms) * 1e3, "ms/10k")
report("echo_rtt", best(echo(1, RTT)) / RTT * 1e6, "us/roundtrip")
report("echo_10clients", best(echo(CLIENTS, CLIENT_RTT)) / (CLIENTS * CLIENT_RTT) * 1e6,
       "us/roundtrip")
