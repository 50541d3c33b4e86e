"""libmacp benchmark, macp-sdk-python side: sequential sends through the
Python SDK against the local runtime at $MACP_TARGET. Prints one JSON object.

    python_bench.py N
"""
import json
import os
import sys
import time

from macp_sdk import AuthConfig, DecisionSession, MacpClient


# Messages sent into one session before moving to a fresh one, as in the
# other benchmark programs (the runtime's cost per message grows with a
# session's history).
PER_SESSION = 100


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    client = MacpClient(
        target=os.environ["MACP_TARGET"],
        allow_insecure=True,
        auth=AuthConfig.for_dev_agent("bench"),
    )
    client.initialize()
    session = None
    lat = []
    t_all = 0.0
    for i in range(-200, n):  # 200 warm-up sends first
        if (i + 200) % PER_SESSION == 0:
            session = DecisionSession(client)
            session.start(intent="bench", participants=["bench"], ttl_ms=3_600_000)
        t0 = time.perf_counter()
        session.propose(f"p{i + 200}", "x")
        dt = time.perf_counter() - t0
        if i >= 0:
            lat.append(dt * 1e6)
            t_all += dt
    total = t_all
    lat.sort()
    print(json.dumps({
        "p50_us": round(lat[n // 2], 1),
        "p99_us": round(lat[int(n * 0.99)], 1),
        "msgs_per_sec": round(n / total, 1),
        "n": n,
    }))
    client.close()


if __name__ == "__main__":
    main()
