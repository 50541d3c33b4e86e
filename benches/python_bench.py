"""libmacp benchmark, macp-sdk-python side, against the local runtime at
$MACP_TARGET. Prints one JSON object.

    python_bench.py sync N       sequential sends through the sync client
                                 (MacpClient, DecisionSession): p50/p99 and
                                 the sequential rate
    python_bench.py async T N    the asyncio client (AsyncMacpClient,
                                 AsyncDecisionSession), T concurrent tasks on
                                 one client each sending N messages into
                                 sessions of its own: messages/second

Both also report the process's CPU time (user, sys) and context switches
(voluntary, involuntary) per send over the timed sends, from
getrusage(RUSAGE_SELF): all threads of the process, gRPC's too.
"""
import asyncio
import json
import os
import resource
import sys
import time

from macp_sdk import AsyncDecisionSession, AsyncMacpClient, AuthConfig, DecisionSession, MacpClient


# Messages sent into one session before moving to a fresh one, as in the
# other benchmark programs (the runtime's cost per message grows with a
# session's history); sessions are started before the clock.
PER_SESSION = 100
# Sequential sends before the timed ones, into sessions of their own.
WARMUP = 200


def client_args():
    return {"target": os.environ["MACP_TARGET"], "allow_insecure": True, "auth": AuthConfig.for_dev_agent("bench")}


def cpu_fields(before, n):
    """The process's CPU time and context switches per send since `before`."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "user_us_per_msg": round((a.ru_utime - before.ru_utime) * 1e6 / n, 3),
        "sys_us_per_msg": round((a.ru_stime - before.ru_stime) * 1e6 / n, 3),
        "vcsw_per_msg": round((a.ru_nvcsw - before.ru_nvcsw) / n, 4),
        "ivcsw_per_msg": round((a.ru_nivcsw - before.ru_nivcsw) / n, 4),
    }


def sessions(client, count):
    out = []
    for _ in range(count):
        s = DecisionSession(client)
        s.start(intent="bench", participants=["bench"], ttl_ms=3_600_000)
        out.append(s)
    return out


def sync(n):
    client = MacpClient(**client_args())
    client.initialize()
    warm = sessions(client, -(-WARMUP // PER_SESSION))
    for i in range(WARMUP):
        warm[i // PER_SESSION].propose(f"w{i}", "x")
    own = sessions(client, -(-n // PER_SESSION))
    lat = []
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    for i in range(n):
        t0 = time.perf_counter()
        own[i // PER_SESSION].propose(f"p{i}", "x")
        lat.append((time.perf_counter() - t0) * 1e6)
    cpu = cpu_fields(r0, n)
    total = sum(lat) / 1e6
    lat.sort()
    print(json.dumps({
        "p50_us": round(lat[n // 2], 1),
        "p99_us": round(lat[int(n * 0.99)], 1),
        "msgs_per_sec": round(n / total, 1),
        "n": n,
        **cpu,
    }))
    client.close()


async def concurrent(tasks, n):
    async with AsyncMacpClient(**client_args()) as client:
        await client.initialize()
        own = []
        for _ in range(tasks):
            mine = []
            for _ in range(n // PER_SESSION + 1):
                s = AsyncDecisionSession(client)
                await s.start(intent="bench", participants=["bench"], ttl_ms=3_600_000)
                mine.append(s)
            own.append(mine)

        async def sender(t):
            for i in range(n):
                await own[t][i // PER_SESSION].propose(f"t{t}-{i}", "x")

        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        await asyncio.gather(*(sender(t) for t in range(tasks)))
        secs = time.perf_counter() - t0
        cpu = cpu_fields(r0, tasks * n)
    print(json.dumps({"msgs_per_sec": round(tasks * n / secs, 1), "tasks": tasks, "n": tasks * n, **cpu}))


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "sync":
        sync(int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
    elif mode == "async":
        asyncio.run(concurrent(int(sys.argv[2]) if len(sys.argv) > 2 else 8,
                               int(sys.argv[3]) if len(sys.argv) > 3 else 500))
    else:
        sys.exit("usage: MACP_TARGET=host:port python_bench.py (sync N | async T N)")


if __name__ == "__main__":
    main()
