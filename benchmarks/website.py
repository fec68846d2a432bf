"""The public website: requests per second and latency of the home page and the tracking pages
(`/track/<code>` of every demo stop in turn) beside a bare Django view (`HttpResponse("ok")` through the
same middleware), served by the same production-mode server in the same run.

On a fresh SQLite database: migrate, load the demo (`allied demo`), serve Allied with the
benchmark's harness (order_intake.py: production settings, granian 2 workers x 4 threads) and
drive each path with wrk at 16 keep-alive clients. The tracking page's per-address limit is lifted
for the run (every request comes from 127.0.0.1); its cache is the production default without
Redis (the database; the lookup limit itself counts in process memory, settings.py). Prints the
table for docs/benchmarks.md, with the machine's load before and after (other processes on the
same cores move every figure: run it when the 1-minute load is under 1),
what kind each error was (wrk counts answers slower than 2 s as timeouts, and non-2xx answers)
and the server's logged errors. The aim is at least 50 % of the bare view's throughput with p99
under 50 ms.

    .venv/bin/python benchmarks/website.py                 # 3 paths x 15 s
    .venv/bin/python benchmarks/website.py --duration 5 --warmup 1
"""

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from order_intake import ALLIED, allied_server, bench_environment, ensure_wrk, run

CLIENTS = 16
AIM_SHARE, AIM_P99_MS = 0.5, 50.0

# The run's settings are Allied's own with one bare view in front of Allied's URLs.
BENCH_SETTINGS = 'from allied.settings import *  # noqa: F403\n\nROOT_URLCONF = "bench_urls"\n'
BENCH_URLS = """
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/bare", bare), path("", include("allied.urls"))]
"""

# wrk prints the figures of the run as one JSON line (latencies in microseconds). Given a list of
# paths (`paths = {...}`, put before this), each request asks the next.
WRK_SCRIPT = """
counter = 0
if paths then
   request = function()
      counter = counter + 1
      return wrk.format(nil, paths[(counter % #paths) + 1])
   end
end

function done(summary, latency, requests)
   local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
   io.write(string.format(
      'RESULT {"requests": %d, "seconds": %f, "errors": %d, "p50": %d, "p99": %d, '
      .. '"kinds": {"connect": %d, "read": %d, "write": %d, "non-2xx": %d, "timeout": %d}}\\n',
      summary.requests, summary.duration / 1e6, errors, latency:percentile(50), latency:percentile(99),
      summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
      summary.errors.timeout))
end
"""


def wrk_script(path: Path, paths: list[str]) -> Path:
    listed = ", ".join(json.dumps(each) for each in paths)
    path.write_text((f"paths = {{{listed}}}\n" if len(paths) > 1 else "") + WRK_SCRIPT)
    return path


def wrk_get(wrk: str, url: str, script: Path, seconds: int) -> dict[str, Any]:
    command = [wrk, "-t", "2", "-c", str(CLIENTS), "-d", f"{seconds}s", "-s", str(script), url]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    figures: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=15, help="seconds per path")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per path before measuring")
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="allied-bench-website-") as work_dir:
        work = Path(work_dir)
        (work / "bench_settings.py").write_text(BENCH_SETTINGS)
        (work / "bench_urls.py").write_text(BENCH_URLS)
        database = work / "bench.sqlite3"
        environment = bench_environment(f"sqlite:///{database}", work / "var")
        environment |= {
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": str(work),
            "ALLIED_TRACKING_LOOKUPS": str(10**9),
        }
        run([ALLIED, "manage", "migrate", "--no-input"], environment)
        run([ALLIED, "manage", "createcachetable"], environment)
        run([ALLIED, "demo"], environment)
        with sqlite3.connect(database) as connection:
            codes = [code for (code,) in connection.execute("SELECT tracking_code FROM delivery_deliverytask")]
        tracking = [f"/track/{code}" for code in codes]
        paths = {
            "bare Django view": ["/bench/bare"],
            "home page": ["/"],
            f"tracking pages ({len(codes)} stops)": tracking,
        }
        results: dict[str, dict[str, Any]] = {}
        load_before = os.getloadavg()[0]
        with allied_server(environment, work / "server.log") as (url, _):
            for index, (name, asked) in enumerate(paths.items()):
                check = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url + asked[0]],
                                       capture_output=True, text=True, check=False)  # fmt: skip
                if check.stdout != "200":
                    raise RuntimeError(f"{asked[0]} answered {check.stdout}")
                script = wrk_script(work / f"path{index}.lua", asked)
                if args.warmup:
                    wrk_get(wrk, url + asked[0], script, args.warmup)
                results[name] = wrk_get(wrk, url + asked[0], script, args.duration)
        load_after = os.getloadavg()[0]
        logged_errors = [line for line in (work / "server.log").read_text().splitlines() if "error" in line.lower()]
    print_report(results, args, (load_before, load_after), logged_errors)
    return 0


def print_report(
    results: dict[str, dict[str, Any]], args: argparse.Namespace, load: tuple[float, float], logged_errors: list[str]
) -> None:
    bare = results["bare Django view"]["rps"]
    print(f"\n{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {CLIENTS} clients, {args.duration} s per path, "
          f"1-minute load {load[0]:.2f} before ({load[1]:.2f} after, the run's own included)\n")  # fmt: skip
    print("| Path | Requests/s | Share of bare view | p50 ms | p99 ms | Errors | Aim met |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, figures in results.items():
        share = figures["rps"] / bare
        met = share >= AIM_SHARE and figures["p99"] / 1000 < AIM_P99_MS
        verdict = "—" if name.startswith("bare") else "yes" if met else "no"
        kinds = ", ".join(f"{count} {kind}" for kind, count in figures["kinds"].items() if count)
        errors = f"{figures['errors']} ({kinds})" if kinds else str(figures["errors"])
        print(
            f"| {name} | {figures['rps']:,.0f} | {share:.0%} | {figures['p50'] / 1000:.1f} | "
            f"{figures['p99'] / 1000:.1f} | {errors} | {verdict} |"
        )
    print(f"\nThe server logged {len(logged_errors)} errors.")
    for line in logged_errors[:5]:
        print(f"  {line[:300]}")


if __name__ == "__main__":
    raise SystemExit(main())
