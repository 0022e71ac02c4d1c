#!/usr/bin/env python3
"""Acceptance: a real Prometheus scrapes aftershockd through a replay of the DeepSeek day.

1. aftershockd replays tests/data/scenarios/deepseek-2025-01-27 with deploy/config/aftershock.yaml
   (plus a jsonl destination, so delivery metrics exist) and serves its metrics on 127.0.0.1:0;
   it waits for Prometheus' first scrape before replaying and keeps serving afterwards.
2. Prometheus (started here on 127.0.0.1, a free port, 1 s scrapes) scrapes it.
3. Every PromQL expression in deploy/grafana/dashboards/aftershock.json (targets[].expr, the
   Grafana variables substituted) returns at least one series.
4. `promtool check metrics` on the /metrics text prints nothing.

Usage: prometheus_acceptance_test.py AFTERSHOCKD SOURCE_DIR
Exit 0 on success, 1 on failure, 77 (skipped) when prometheus or promtool is not installed.
"""
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

DEADLINE_S = 90


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)
    exprs = []

    def walk(panels):
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                if t.get("expr"):
                    exprs.append((p.get("title", ""), t["expr"]))

    walk(dash.get("panels", []))
    return exprs


def substitute(expr):
    """Grafana's variables as a person looking at everything would have them."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__range", "5m")
    expr = expr.replace("$__interval", "15s")
    return re.sub(r"\$\{?[A-Za-z_]\w*\}?", ".*", expr)


def main():
    aftershockd, source = sys.argv[1], sys.argv[2]
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        print("SKIP: prometheus/promtool not installed (scripts/setup installs them)")
        return 77
    work = tempfile.mkdtemp(prefix="aftershock-prom-")
    children = []
    try:
        # The default config beside its calendars/, plus a jsonl destination for delivery.
        shutil.copytree(os.path.join(source, "deploy/config/calendars"),
                        os.path.join(work, "calendars"))
        with open(os.path.join(source, "deploy/config/aftershock.yaml")) as f:
            config = f.read()
        config += ("\noutputs:\n  destinations:\n"
                   f"    - {{name: archive, type: jsonl, path: {work}/delivered.jsonl}}\n")
        config_path = os.path.join(work, "aftershock.yaml")
        with open(config_path, "w") as f:
            f.write(config)
        capture = os.path.join(source, "tests/data/scenarios/deepseek-2025-01-27/capture.ndjson")

        daemon = subprocess.Popen(
            [aftershockd, "replay", "--config", config_path, "--print", "none", "--deliver",
             "--state-dir", os.path.join(work, "state"), "--metrics-listen", "127.0.0.1:0",
             "--wait-for-scrape", "60", "--linger", "300", capture],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        children.append(daemon)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in daemon.stderr], daemon=True).start()
        stderr_seen = []

        def wait_line(pattern, timeout):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                try:
                    line = lines.get(timeout=0.5)
                except queue.Empty:
                    if daemon.poll() is not None:
                        break
                    continue
                stderr_seen.append(line)
                m = re.search(pattern, line)
                if m:
                    return m
            raise RuntimeError(f"aftershockd never printed /{pattern}/; stderr so far:\n"
                               + "".join(stderr_seen))

        address = wait_line(r"replay: metrics at http://([0-9.]+:\d+)/metrics", 30).group(1)

        prom_port = free_port()
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: aftershock\n    static_configs:\n"
                    f"      - targets: ['{address}']\n")
        prom = subprocess.Popen(
            [prometheus, f"--config.file={work}/prometheus.yml",
             f"--storage.tsdb.path={work}/tsdb", f"--web.listen-address=127.0.0.1:{prom_port}",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prometheus.log"), "w"))
        children.append(prom)
        base = f"http://127.0.0.1:{prom_port}"

        # The replay starts once Prometheus has scraped, and ends with a summary line.
        wait_line(r"replay: \d+ frames", 60)
        wait_line(r"replay: serving the final metrics", 60)

        _, text = http_get(f"http://{address}/metrics")
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True)
        failures = []
        if check.stdout.strip() or check.stderr.strip():
            failures.append("promtool check metrics said:\n" + check.stdout + check.stderr)
        for path in ("/healthz", "/readyz"):
            status, _ = http_get(f"http://{address}{path}")
            if status != 200:
                failures.append(f"{path} answered {status}")

        exprs = dashboard_exprs(os.path.join(source, "deploy/grafana/dashboards/aftershock.json"))
        if len(exprs) < 20:
            failures.append(f"only {len(exprs)} expressions found in the dashboard")
        empty = exprs
        end = time.monotonic() + DEADLINE_S
        while empty and time.monotonic() < end:
            still = []
            for title, expr in empty:
                q = urllib.parse.urlencode({"query": substitute(expr)})
                try:
                    _, body = http_get(f"{base}/api/v1/query?{q}")
                    result = json.loads(body)
                except Exception as e:  # Prometheus still starting, or a bad expression
                    still.append((title, expr, str(e)))
                    continue
                if result.get("status") != "success" or not result["data"]["result"]:
                    still.append((title, expr, result.get("error", "no series")))
            empty = [(t, e) for t, e, _ in still]
            if empty:
                time.sleep(1)
                last_reasons = still
        if empty:
            failures.append("dashboard expressions without a series after the replay:\n" +
                            "\n".join(f"  [{t}] {substitute(e)}: {why}" for t, e, why in last_reasons))
        print(f"{len(exprs)} dashboard expressions checked against Prometheus "
              f"(target {address}); promtool check metrics: "
              f"{'clean' if not check.stdout.strip() else 'complaints'}")
        for f in failures:
            print("FAIL:", f)
        return 1 if failures else 0
    finally:
        for c in children:
            if c.poll() is None:
                c.send_signal(signal.SIGTERM)
        for c in children:
            try:
                c.wait(timeout=10)
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
