"""libmacp benchmark, macp-sdk-python side: sequential sends through the
Python SDK against the local runtime at $MACP_TARGET. Prints one JSON object.

    python_bench.py N
"""
import json
import os
import sys
import time

from macp_sdk import AuthConfig, DecisionSession, MacpClient


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    client = MacpClient(
        target=os.environ["MACP_TARGET"],
        allow_insecure=True,
        auth=AuthConfig.for_dev_agent("bench"),
    )
    client.initialize()
    session = DecisionSession(client)
    session.start(intent="bench", participants=["bench"], ttl_ms=3_600_000)
    for i in range(100):
        session.propose(f"w{i}", "x")
    lat = []
    t_all = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        session.propose(f"p{i}", "x")
        lat.append((time.perf_counter() - t0) * 1e6)
    total = time.perf_counter() - t_all
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
