"""Runs the benchmark programs against the runtime at $MACP_TARGET and
reports ratios. Invoked by benches/run.sh; writes benches/results.json.

Each latency and throughput figure is the median of ROUNDS runs, with the
alternatives interleaved round by round so drift on a noisy machine hits
them alike. The same runs report each client's CPU time and context switches
per send (getrusage over its timed sends); those are kept as the median with
the range over the rounds.
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
N_PY = int(os.environ.get("BENCH_PYTHON_N", str(N_LAT)))
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


# Per-send figures every latency and throughput run reports, by the name
# results.json gives them.
CPU_FIELDS = {"user_us": "user_us_per_msg", "sys_us": "sys_us_per_msg",
              "vcsw": "vcsw_per_msg", "ivcsw": "ivcsw_per_msg"}


def cpu_per_send(samples):
    """Median over the rounds of the client's CPU time (user, sys and their
    sum cpu_us, microseconds) and voluntary and involuntary context switches
    per send, with each figure's min-max range over the rounds."""
    rows = [{k: s[f] for k, f in CPU_FIELDS.items()} for s in samples]
    for r in rows:
        r["cpu_us"] = r["user_us"] + r["sys_us"]
    out = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    out["range"] = {k: [min(r[k] for r in rows), max(r[k] for r in rows)] for k in rows[0]}
    return out


def static_program_size():
    """examples/decision.c linked statically with libmacp as scripts/install.sh
    installs it (macp-static.pc), default linker flags: bytes as linked and
    stripped."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([os.path.join(ROOT, "scripts/install.sh"), "--prefix", d, "--no-build"],
                       cwd=ROOT, check=True, capture_output=True)
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(d, "lib/pkgconfig"))
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "macp-static"], env=env,
                               check=True, capture_output=True, text=True).stdout.split()
        exe = os.path.join(d, "decision")
        subprocess.run(["cc", "-O2", "examples/decision.c", *flags, "-o", exe], cwd=ROOT, check=True)
        return {"static_c_program": os.path.getsize(exe), "static_c_program_stripped": stripped_size(exe)}


def stripped_size(path):
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, os.path.basename(path))
        shutil.copy(path, copy)
        subprocess.run(["strip", copy], check=True)
        return os.path.getsize(copy)


def main():
    lat = {"bare": [], "bare_blocking": [], "capi": [], "python": []}
    thr = {"bare": [], "capi": [], "capi_async": [], "python_async": []}
    for r in range(ROUNDS):
        print(f"bench: round {r + 1}/{ROUNDS}", file=sys.stderr)
        lat["bare"].append(bare("latency", N_LAT))
        lat["bare_blocking"].append(bare("latency_blocking", N_LAT))
        lat["capi"].append(capi("latency", N_LAT))
        py = python("sync", N_PY)
        if py:
            lat["python"].append(py)
        thr["bare"].append(bare("throughput", THREADS, N_PER_THREAD))
        thr["capi"].append(capi("throughput", THREADS, N_PER_THREAD))
        thr["capi_async"].append(capi("throughput_async", THREADS, N_PER_THREAD))
        py = python("async", THREADS, N_PER_THREAD)
        if py:
            thr["python_async"].append(py)

    res = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "rounds": ROUNDS}
    res["send_latency_us"] = {
        k: {"p50": median_of(v, "p50_us"), "p99": median_of(v, "p99_us")} for k, v in lat.items() if v
    }
    res["throughput_msgs_per_sec"] = {k: median_of(v, "msgs_per_sec") for k, v in thr.items() if v}
    if lat["python"]:
        res["throughput_msgs_per_sec"]["python_sequential"] = median_of(lat["python"], "msgs_per_sec")
    # Sequential: the latency runs; concurrent: the throughput runs (THREADS
    # in flight; "capi" is THREADS blocking threads).
    res["client_cpu_per_send"] = {k: cpu_per_send(v) for k, v in lat.items() if v}
    res["client_cpu_per_send_concurrent"] = {k: cpu_per_send(v) for k, v in thr.items() if v}
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
    res["sizes_bytes"] = {"so_stripped": stripped_size(so), "a": os.path.getsize(a), **static_program_size()}

    l, t = res["send_latency_us"], res["throughput_msgs_per_sec"]
    ratios = {
        "capi_over_bare_p50": l["capi"]["p50"] / l["bare"]["p50"],
        "capi_over_bare_p99": l["capi"]["p99"] / l["bare"]["p99"],
        "capi_over_bare_blocking_p50": l["capi"]["p50"] / l["bare_blocking"]["p50"],
        "capi_throughput_over_bare": t["capi"] / t["bare"],
        "capi_async_throughput_over_bare": t["capi_async"] / t["bare"],
        "capi_watch_latency_over_bare": res["watch"]["send_to_callback_us"] / res["watch_bare"]["send_to_stream_us"],
    }
    c, cc = res["client_cpu_per_send"], res["client_cpu_per_send_concurrent"]
    ratios["capi_over_bare_cpu"] = c["capi"]["cpu_us"] / c["bare"]["cpu_us"]
    ratios["capi_over_bare_blocking_cpu"] = c["capi"]["cpu_us"] / c["bare_blocking"]["cpu_us"]
    ratios["capi_async_over_bare_cpu_concurrent"] = cc["capi_async"]["cpu_us"] / cc["bare"]["cpu_us"]
    if "python" in c:
        ratios["python_over_capi_cpu"] = c["python"]["cpu_us"] / c["capi"]["cpu_us"]
    if "python_async" in cc:
        ratios["python_async_over_capi_async_cpu_concurrent"] = (
            cc["python_async"]["cpu_us"] / cc["capi_async"]["cpu_us"])
        ratios["capi_async_throughput_over_python_async"] = t["capi_async"] / t["python_async"]
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
        "capi_async_throughput_at_least_95pct_of_bare": ratios["capi_async_throughput_over_bare"] >= 0.95,
        "capi_cpu_per_send_at_most_half_bare": ratios["capi_over_bare_cpu"] <= 0.5,
        "capi_at_most_2_voluntary_switches_per_send": c["capi"]["vcsw"] <= 2,
        "capi_cpu_per_send_5x_less_than_python": ratios.get("python_over_capi_cpu", 0) >= 5,
        "capi_instructions_within_5pct_of_bare_blocking":
            ratios.get("capi_over_bare_blocking_instructions", float("inf")) <= 1.05,
        "idle_client_under_5_mib": res["idle_client"]["client_kib"] < 5 * 1024,
        "static_c_program_at_most_10_mb": res["sizes_bytes"]["static_c_program"] <= 10_000_000,
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
    for title, figures in (("sequential", c), (f"{THREADS} in flight", cc)):
        print(f"Client CPU per send, {title} (us, context switches)")
        print(f"  {'':22} {'user+sys':>9} {'(min-max)':17} {'user':>7} {'sys':>7} {'vcsw':>6} {'ivcsw':>6}")
        for k, v in figures.items():
            rng = "({:.1f}-{:.1f})".format(*v["range"]["cpu_us"])
            print(f"  {k:22} {v['cpu_us']:9.1f} {rng:17} {v['user_us']:7.1f} {v['sys_us']:7.1f} "
                  f"{v['vcsw']:6.2f} {v['ivcsw']:6.2f}")
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
          f".a {res['sizes_bytes']['a'] / 2**20:.2f} MiB, "
          f"static C program {res['sizes_bytes']['static_c_program'] / 1e6:.2f} MB "
          f"({res['sizes_bytes']['static_c_program_stripped'] / 1e6:.2f} MB stripped)")
    print("Ratios")
    for k, v in ratios.items():
        print(f"  {k:40} {v:.3f}")
    print("Targets")
    for k, v in res["targets"].items():
        print(f"  {k:40} {'met' if v else 'MISSED'}")
    print("wrote benches/results.json")


if __name__ == "__main__":
    main()
