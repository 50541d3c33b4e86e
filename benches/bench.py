"""Runs the benchmark programs against the runtime at $MACP_TARGET and
reports ratios. Invoked by benches/run.sh; writes benches/results.json.

Each latency and throughput figure is the median of ROUNDS runs, with the
alternatives interleaved round by round so drift on a noisy machine hits
them alike.
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
N_LAT = int(os.environ.get("BENCH_LATENCY_N", "2000"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
N_PER_THREAD = int(os.environ.get("BENCH_THROUGHPUT_N", "500"))
N_PY = int(os.environ.get("BENCH_PYTHON_N", "1000"))
N_WATCH = int(os.environ.get("BENCH_WATCH_N", "2000"))
N_SCALE = int(os.environ.get("BENCH_SCALE_WATCHERS", "10000"))
SCALE_DRIVEN = int(os.environ.get("BENCH_SCALE_DRIVEN", "100"))
SCALE_PER_SESSION = int(os.environ.get("BENCH_SCALE_PER_SESSION", "100"))


def run(cmd):
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def capi(*args):
    return run([os.path.join(ROOT, "build/capi_bench"), *map(str, args)])


def bare(*args):
    return run([os.environ["BARE_BIN"], *map(str, args)])


def python(*args):
    py = os.path.join(ROOT, ".venv/bin/python")
    if not os.path.exists(py):
        return None
    return run([py, os.path.join(ROOT, "benches/python_bench.py"), *map(str, args)])


def instructions(cmd, n):
    """Client-side instructions executed for the whole run (callgrind)."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd, str(n)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stderr
    for line in out.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    raise RuntimeError("callgrind reported no total")


def instructions_per_send(cmd):
    """Instructions one more send costs the client process: a deterministic
    figure, unlike wall time on a shared 2-core machine (the runtime's own
    work is not counted)."""
    return (instructions(cmd, 600) - instructions(cmd, 200)) / 400


def median_of(samples, key):
    return statistics.median(s[key] for s in samples)


def stripped_size(path):
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, os.path.basename(path))
        shutil.copy(path, copy)
        subprocess.run(["strip", copy], check=True)
        return os.path.getsize(copy)


def main():
    lat = {"bare": [], "bare_blocking": [], "capi": [], "python": []}
    thr = {"bare": [], "capi": [], "capi_async": []}
    for r in range(ROUNDS):
        print(f"bench: round {r + 1}/{ROUNDS}", file=sys.stderr)
        lat["bare"].append(bare("latency", N_LAT))
        lat["bare_blocking"].append(bare("latency_blocking", N_LAT))
        lat["capi"].append(capi("latency", N_LAT))
        py = python(N_PY)
        if py:
            lat["python"].append(py)
        thr["bare"].append(bare("throughput", THREADS, N_PER_THREAD))
        thr["capi"].append(capi("throughput", THREADS, N_PER_THREAD))
        thr["capi_async"].append(capi("throughput_async", THREADS, N_PER_THREAD))

    res = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "rounds": ROUNDS}
    res["send_latency_us"] = {
        k: {"p50": median_of(v, "p50_us"), "p99": median_of(v, "p99_us")} for k, v in lat.items() if v
    }
    res["throughput_msgs_per_sec"] = {k: median_of(v, "msgs_per_sec") for k, v in thr.items()}
    if lat["python"]:
        res["throughput_msgs_per_sec"]["python_sequential"] = median_of(lat["python"], "msgs_per_sec")
    if shutil.which("valgrind"):
        res["client_instructions_per_send"] = {
            "bare": instructions_per_send([os.environ["BARE_BIN"], "latency"]),
            "bare_blocking": instructions_per_send([os.environ["BARE_BIN"], "latency_blocking"]),
            "capi": instructions_per_send([os.path.join(ROOT, "build/capi_bench"), "latency"]),
        }
    res["watch"] = capi("watch", N_WATCH)
    res["watch_bare"] = bare("watch", N_WATCH)
    res["idle_client"] = capi("idle")
    res["watchers_100"] = capi("watchers", 100)
    res["first_call"] = capi("first_call")
    # N watchers in one process, one round after another: each round starts
    # N sessions of its own.
    scale = [capi("scale", N_SCALE, SCALE_DRIVEN, SCALE_PER_SESSION) for _ in range(ROUNDS)]
    res["watchers_scale"] = {
        "watchers": N_SCALE,
        "driven_sessions": SCALE_DRIVEN,
        "messages_per_driven_session": SCALE_PER_SESSION,
        "threads_idle": median_of(scale, "threads_idle"),
        "threads_busy": median_of(scale, "threads_busy"),
        "threads_before": median_of(scale, "threads_before"),
        "rss_per_watcher_kib": median_of(scale, "rss_per_watcher_kib"),
        "events_per_sec": median_of(scale, "events_per_sec"),
        "events_per_sec_range": [min(s["events_per_sec"] for s in scale), max(s["events_per_sec"] for s in scale)],
        "rss_per_watcher_kib_range": [min(s["rss_per_watcher_kib"] for s in scale),
                                      max(s["rss_per_watcher_kib"] for s in scale)],
        "lost": sum(s["lost"] for s in scale),
        "repeated": sum(s["repeated"] for s in scale),
        "out_of_order": sum(s["out_of_order"] for s in scale),
    }
    so = os.path.join(ROOT, "target/release/libmacp.so")
    a = os.path.join(ROOT, "target/release/libmacp.a")
    res["sizes_bytes"] = {"so_stripped": stripped_size(so), "a": os.path.getsize(a)}

    l, t = res["send_latency_us"], res["throughput_msgs_per_sec"]
    ratios = {
        "capi_over_bare_p50": l["capi"]["p50"] / l["bare"]["p50"],
        "capi_over_bare_p99": l["capi"]["p99"] / l["bare"]["p99"],
        "capi_over_bare_blocking_p50": l["capi"]["p50"] / l["bare_blocking"]["p50"],
        "capi_throughput_over_bare": t["capi"] / t["bare"],
        "capi_async_throughput_over_bare": t["capi_async"] / t["bare"],
        "capi_watch_latency_over_bare": res["watch"]["send_to_callback_us"] / res["watch_bare"]["send_to_stream_us"],
    }
    best = max(t["capi"], t["capi_async"])
    if "client_instructions_per_send" in res:
        i = res["client_instructions_per_send"]
        ratios["capi_over_bare_instructions"] = i["capi"] / i["bare"]
        ratios["capi_over_bare_blocking_instructions"] = i["capi"] / i["bare_blocking"]
    if "python_sequential" in t:
        ratios["capi_throughput_over_python_sequential"] = best / t["python_sequential"]
        ratios["python_over_bare_p50"] = l["python"]["p50"] / l["bare"]["p50"]
    res["ratios"] = ratios
    res["targets"] = {
        "capi_p50_within_5pct_of_bare": ratios["capi_over_bare_p50"] <= 1.05,
        "capi_throughput_at_least_10x_python": ratios.get("capi_throughput_over_python_sequential", 0) >= 10,
        "capi_throughput_within_10pct_of_bare": best / t["bare"] >= 0.90,
        "idle_client_under_5_mib": res["idle_client"]["client_kib"] < 5 * 1024,
        "so_stripped_under_8_mib": res["sizes_bytes"]["so_stripped"] < 8 * 1024 * 1024,
        # At most the runtime's workers, the pool's threads and a few more.
        "watcher_threads_independent_of_count": res["watchers_scale"]["threads_busy"] <= 32,
        "idle_watcher_at_most_16_kib": res["watchers_scale"]["rss_per_watcher_kib"] <= 16,
        "watchers_no_event_lost_or_repeated": res["watchers_scale"]["lost"] == 0
        and res["watchers_scale"]["repeated"] == 0 and res["watchers_scale"]["out_of_order"] == 0,
    }
    with open(os.path.join(ROOT, "benches/results.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")

    print(f"Send latency (us)          p50       p99")
    for k, v in l.items():
        print(f"  {k:22} {v['p50']:9.1f} {v['p99']:9.1f}")
    print("Throughput (msgs/s)")
    for k, v in t.items():
        print(f"  {k:22} {v:9.1f}")
    if "client_instructions_per_send" in res:
        print("Client instructions per send (callgrind)")
        for k, v in res["client_instructions_per_send"].items():
            print(f"  {k:22} {v:9.0f}")
    print(f"Watcher: {res['watch']['events_per_sec']:.0f} events/s, "
          f"send->callback {res['watch']['send_to_callback_us']:.0f} us "
          f"(bare stream subscriber {res['watch_bare']['send_to_stream_us']:.0f} us)")
    print(f"Idle client: {res['idle_client']['client_kib']} KiB RSS; "
          f"100 watchers: {res['watchers_100']['rss_after_kib'] - res['watchers_100']['rss_before_kib']} KiB RSS")
    ws = res["watchers_scale"]
    print(f"{ws['watchers']} watchers: {ws['threads_busy']:.0f} threads, "
          f"{ws['rss_per_watcher_kib']:.1f} KiB RSS per idle watcher, "
          f"{ws['events_per_sec']:.0f} events/s ({ws['driven_sessions']} sessions driven), "
          f"lost {ws['lost']}, repeated {ws['repeated']}")
    print(f"First call: connect {res['first_call']['connect_us'] / 1000:.1f} ms, "
          f"first ack {res['first_call']['first_ack_us'] / 1000:.1f} ms")
    print(f"Sizes: stripped .so {res['sizes_bytes']['so_stripped'] / 2**20:.2f} MiB, "
          f".a {res['sizes_bytes']['a'] / 2**20:.2f} MiB")
    print("Ratios")
    for k, v in ratios.items():
        print(f"  {k:40} {v:.3f}")
    print("Targets")
    for k, v in res["targets"].items():
        print(f"  {k:40} {'met' if v else 'MISSED'}")
    print("wrote benches/results.json")


if __name__ == "__main__":
    main()
