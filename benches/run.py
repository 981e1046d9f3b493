#!/usr/bin/env python3
"""HTTP benchmark of vpp-emulator: rerun it to get the numbers in BENCHMARKS.md.

It builds the release binary, preloads a temporary database through the `seed` command (the bulk
path: one writer transaction per chunk), starts the server on it and drives it with wrk
(Debian package `wrk`) on the same machine. For each store size it measures start-up to ready,
get by id, the first list page (100 items), a filtered list page, PATCH and create; at the
smallest size it also measures create at 1, 16 and 64 connections with group commit on and off.
Each workload runs --repeat times: the table shows the median run's requests/s, p50 and p99,
the lowest and highest requests/s, and the server's peak RSS over the runs.

usage: benches/run.py [--sizes 1000,100000,1000000] [--duration 10] [--warmup 2] [--repeat 3]
                      [--output BENCHMARKS.md] [--no-build] [--json-server]
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "vpp-emulator")
TENANT = "7f0a44c0-3b1d-4f5e-9c2a-000000000001"
SEED_CHUNK = 50_000
STATES = ["valid", "expired", "invalid", "unknown"]

# The contract's create body: the token row plus three child rows (one action result, two tags).
CREATE_BODY = {
    "organizationName": "Contoso Schools",
    "vppTokenAccountType": "education",
    "appleId": "vpp-admin@contoso.example",
    "expirationDateTime": "2027-09-25T17:09:22Z",
    "lastSyncDateTime": "2026-07-17T14:50:53.5002993Z",
    "token": "eyJleHBEYXRlIjoiMjAyNy0wOS0yNSJ9.bench",
    "state": "valid",
    "tokenActionResults": [
        {
            "actionName": "syncLicenses",
            "actionState": "done",
            "startDateTime": "2026-07-17T14:50:53Z",
            "lastUpdatedDateTime": "2026-07-17T14:51:00Z",
        }
    ],
    "lastSyncStatus": "completed",
    "automaticallyUpdateApps": True,
    "countryOrRegion": "gb",
    "dataSharingConsentGranted": True,
    "displayName": "Contoso VPP",
    "locationName": "London",
    "roleScopeTagIds": ["0", "12"],
}


def token_id(n):
    return f"00000000-0000-4000-8000-{n:012x}"


def fixture_token(n):
    token = dict(CREATE_BODY)
    token["id"] = token_id(n)
    token["displayName"] = f"Token {n:07d}"
    token["state"] = STATES[n % len(STATES)]
    token["lastModifiedDateTime"] = "2026-11-01T00:00:00Z"
    return token


def preload(db, size, work):
    """Seeds `size` tokens in chunks; returns the seconds taken."""
    started = time.monotonic()
    for first in range(0, size, SEED_CHUNK):
        path = os.path.join(work, "chunk.json")
        with open(path, "w") as f:
            tokens = [fixture_token(n) for n in range(first, min(size, first + SEED_CHUNK))]
            json.dump({"tenantId": TENANT, "vppTokens": tokens}, f)
        subprocess.run(
            [BINARY, "seed", path, "--mode", "upsert"],
            env=server_env(db, 0, True),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return time.monotonic() - started


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db, port, group_commit):
    env = dict(os.environ)
    env.update(
        {
            "VPP_DATABASE__PATH": db,
            "VPP_DATABASE__SYNCHRONOUS": "full",
            "VPP_DATABASE__GROUP_COMMIT": "true" if group_commit else "false",
            "VPP_SERVER__PORT": str(port),
            "VPP_LOG__LEVEL": "warn",
            "VPP_SEED__PATH": "",
        }
    )
    return env


class Target:
    """A server process under load: where to send requests and how to read its memory."""

    def __init__(self, process, port):
        self.process = process
        self.base = f"http://127.0.0.1:{port}"

    def reset_peak_rss(self):
        # Writing 5 to clear_refs resets VmHWM, so each run reports its own peak.
        with open(f"/proc/{self.process.pid}/clear_refs", "w") as f:
            f.write("5")

    def peak_rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


class Server(Target):
    """The release binary on `db`; `ready_ms` is spawn to the first 200 of /_emulator/health/ready."""

    def __init__(self, db, group_commit=True):
        port = free_port()
        started = time.monotonic()
        super().__init__(
            subprocess.Popen([BINARY, "serve"], env=server_env(db, port, group_commit)), port
        )
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() - started > 60:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.002)
        self.ready_ms = (time.monotonic() - started) * 1000

    def _ready(self):
        try:
            with urllib.request.urlopen(self.base + "/_emulator/health/ready", timeout=1) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False


WRK_SCRIPT = """
local body = {body}
local ids = {ids}
local method = "{method}"
local path = "{path}"
wrk.headers["Authorization"] = "Bearer bench"
if body ~= nil then wrk.headers["Content-Type"] = "application/json" end
request = function()
  local target = path
  if ids > 0 then target = path .. "/00000000-0000-4000-8000-" .. string.format("%012x", math.random(0, ids - 1)) end
  return wrk.format(method, target, nil, body)
end
"""


def lua_string(text):
    return "nil" if text is None else "[==[" + text + "]==]"


def run_wrk(server, work, method, path, connections, args, body=None, ids=0):
    """`args.repeat` measured wrk runs after `args.warmup` seconds of the same load that are not
    counted (the first requests on a fresh server pay for its threads' first allocations). The
    figures are those of the run with the median requests/s, with the lowest and highest rates
    beside them: on a shared VM one run can be 15% off its neighbours."""
    script = os.path.join(work, "request.lua")
    with open(script, "w") as f:
        f.write(
            WRK_SCRIPT.format(
                body=lua_string(body), ids=ids, method=method, path=path.replace('"', '\\"')
            )
        )

    def wrk(seconds):
        return subprocess.run(
            ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
             "-s", script, server.base],
            check=True, capture_output=True, text=True,
        ).stdout

    if args.warmup > 0:
        wrk(args.warmup)
    runs = []
    for _ in range(args.repeat):
        server.reset_peak_rss()
        runs.append(wrk_figures(wrk(args.duration), server.peak_rss_mb()))
    runs.sort(key=lambda run: run["rps"])
    median = dict(runs[len(runs) // 2])
    median.update(
        rps_low=runs[0]["rps"],
        rps_high=runs[-1]["rps"],
        rss=max(run["rss"] for run in runs),
        errors=sum(run["errors"] for run in runs),
    )
    return median


def wrk_figures(out, rss):
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency_ms(out, "50%"),
        "p99": latency_ms(out, "99%"),
        "rss": rss,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def latency_ms(out, percentile):
    match = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


COLLECTION = "/beta/deviceAppManagement/vppTokens"


def measure_size(size, args, work, rows):
    db = os.path.join(work, f"store-{size}.db")
    seconds = preload(db, size, work)
    print(f"preloaded {size} tokens in {seconds:.1f} s", file=sys.stderr)
    server = Server(db)
    rows.append((size, "start-up to ready", "", {"ready_ms": server.ready_ms}))
    try:
        patch = json.dumps({"displayName": "patched"})
        create = json.dumps(CREATE_BODY)
        for label, method, path, conns, body, ids in [
            ("get by id", "GET", COLLECTION, 64, None, size),
            ("first list page (100)", "GET", COLLECTION, 64, None, 0),
            ("filtered list (state eq 'expired')", "GET",
             COLLECTION + "?$filter=state%20eq%20%27expired%27", 64, None, 0),
            ("PATCH", "PATCH", COLLECTION, 64, patch, size),
            ("create, group commit on", "POST", COLLECTION, 64, create, 0),
        ]:
            result = run_wrk(server, work, method, path, conns, args, body, ids)
            rows.append((size, label, conns, result))
            print(size, label, conns, result, file=sys.stderr)
    finally:
        server.stop()
    if size == min(args.sizes):
        for group_commit in (True, False):
            server = Server(db, group_commit)
            try:
                for conns in (1, 16, 64):
                    result = run_wrk(server, work, "POST", COLLECTION, conns, args,
                                     json.dumps(CREATE_BODY))
                    label = f"create, group commit {'on' if group_commit else 'off'}"
                    rows.append((size, label, conns, result))
                    print(size, label, conns, result, file=sys.stderr)
            finally:
                server.stop()


def measure_json_server(args, work, rows):
    """The same create load against json-server 0.17.4 (npm), for comparison."""
    folder = os.path.join(work, "json-server")
    os.makedirs(folder, exist_ok=True)
    subprocess.run(["npm", "install", "--silent", "--prefix", folder, "json-server@0.17.4"],
                   check=True, stdout=subprocess.DEVNULL)
    db = os.path.join(folder, "db.json")
    with open(db, "w") as f:
        json.dump({"vppTokens": []}, f)
    port = free_port()
    server = Target(
        subprocess.Popen(
            [os.path.join(folder, "node_modules", ".bin", "json-server"), "--port", str(port), db],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
        port,
    )
    try:
        time.sleep(2)
        result = run_wrk(server, work, "POST", "/vppTokens", 64, args,
                         json.dumps(CREATE_BODY))
        rows.append((0, "json-server 0.17.4: create", 64, result))
    finally:
        server.stop()


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.machine())
    memory = next(int(line.split()[1]) for line in open("/proc/meminfo")
                  if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({model}), {memory / 1024 / 1024:.0f} GiB, {platform.platform()}"


def table(rows):
    lines = ["| stored tokens | workload | connections | requests/s (median) | lowest–highest | "
             "p50 ms | p99 ms | peak RSS MB | non-2xx |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for size, label, conns, r in rows:
        if "ready_ms" in r:
            lines.append(f"| {size:,} | {label}: {r['ready_ms']:.0f} ms | | | | | | | |")
        else:
            lines.append(f"| {size:,} | {label} | {conns} | {r['rps']:,.0f} | "
                         f"{r['rps_low']:,.0f}–{r['rps_high']:,.0f} | {r['p50']:.2f} | "
                         f"{r['p99']:.2f} | {r['rss']:.0f} | {r['errors']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000",
                        type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of the same load before each workload, not counted")
    parser.add_argument("--repeat", type=int, default=3,
                        help="measured runs per workload; the table shows the median run")
    parser.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--json-server", action="store_true",
                        help="also run the create load against json-server 0.17.4 (needs npm)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)

    rows = []
    with tempfile.TemporaryDirectory(prefix="vpp-bench-") as work:
        for size in sorted(args.sizes):
            measure_size(size, args, work, rows)
        if args.json_server:
            measure_json_server(args, work, rows)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    report = "\n".join([
        f"Run of `benches/run.py` on {datetime.date.today()} at commit `{commit}`.",
        "",
        f"- Machine: {machine()}; wrk on the same machine (2 threads).",
        f"- Settings: release build, `database.synchronous = \"full\"`, `log.level = \"warn\"`, "
        f"each workload {args.repeat} runs of {args.duration} s (the median run shown, with the "
        f"lowest and highest rates) after {args.warmup} s of the same load not counted, "
        f"default page size 100, bearer auth; other settings default.",
        "- Stored tokens are preloaded with `vpp-emulator seed` in chunks of "
        f"{SEED_CHUNK:,}; ids and PATCH targets are picked at random among them.",
        "",
        table(rows),
        "",
    ])
    print(report)
    write_report(args.output, report)


START, END = "<!-- benches/run.py:start -->", "<!-- benches/run.py:end -->"


def write_report(path, report):
    """Replaces the runner's section of `path`, keeping the hand-written analysis around it."""
    text = open(path).read() if os.path.exists(path) else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w") as f:
        f.write(f"{head}{START}\n{report}{END}{tail}")


if __name__ == "__main__":
    main()
