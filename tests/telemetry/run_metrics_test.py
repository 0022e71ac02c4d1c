#!/usr/bin/env python3
"""`aftershockd run` with metrics, end to end: aftershock-feedsim plays the DeepSeek day in
each vendor's dialect, the daemon (deploy/config/demo.yaml) serves /metrics on 127.0.0.1:0.

Checks: /readyz answers 503 before the feeds connect or 200 once they have, /healthz 200;
after the day, every feed has messages and the rules fired alerts; `promtool check metrics`
prints nothing; a SIGHUP reload is counted; SIGTERM exits 0.

Usage: run_metrics_test.py AFTERSHOCKD FEEDSIM SOURCE_DIR  (exit 77: promtool missing)
"""
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def value(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def main():
    aftershockd, feedsim, source = sys.argv[1:4]
    promtool = shutil.which("promtool")
    if not promtool:
        print("SKIP: promtool not installed (scripts/setup installs it)")
        return 77
    work = tempfile.mkdtemp(prefix="aftershock-runmetrics-")
    children = []
    failures = []
    try:
        capture = f"{source}/tests/data/scenarios/deepseek-2025-01-27/capture.ndjson"
        sim = subprocess.Popen([feedsim, "--listen", "127.0.0.1:0", "--speed", "max",
                                "--wait-for", "4", "--exit-when-done", "--start-timeout", "60s",
                                capture], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
        children.append(sim)
        host_port = re.match(r"listening (\S+)", sim.stdout.readline()).group(1)

        daemon = subprocess.Popen(
            [aftershockd, "run", "--config", f"{source}/deploy/config/demo.yaml", "--feed-host",
             host_port, "--print", "none", "--status-interval", "0",
             "--metrics-listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        children.append(daemon)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in daemon.stderr], daemon=True).start()
        address = None
        end = time.monotonic() + 30
        while address is None and time.monotonic() < end:
            try:
                m = re.search(r"metrics: http://(\S+)/metrics", lines.get(timeout=0.5))
                address = m.group(1) if m else None
            except queue.Empty:
                if daemon.poll() is not None:
                    break
        if address is None:
            print("FAIL: aftershockd never said where its metrics are")
            return 1
        base = f"http://{address}"

        status, body = get(base + "/readyz")
        if status not in (200, 503):
            failures.append(f"/readyz answered {status}: {body}")
        if get(base + "/healthz")[0] != 200:
            failures.append("/healthz is not 200")
        # Ready once the four feeds are connected (feedsim waits for all four to subscribe).
        end = time.monotonic() + 30
        while get(base + "/readyz")[0] != 200 and time.monotonic() < end:
            time.sleep(0.2)
        status, body = get(base + "/readyz")
        if status != 200 or "4 feeds connected" not in body:
            failures.append(f"/readyz never became ready: {status} {body}")

        sim.wait(timeout=60)  # the whole day has been sent
        end = time.monotonic() + 30
        text = ""
        while time.monotonic() < end:
            _, text = get(base + "/metrics")
            fired = sum(float(l.split()[-1]) for l in text.splitlines()
                        if l.startswith("aftershock_alerts_fired_total{"))
            if value(text, 'aftershock_engine_events_total{type="news"}') == 17 and fired >= 40:
                break
            time.sleep(0.5)
        for feed, dialect in (("alpaca-stocks", "alpaca-stocks"), ("alpaca-news", "alpaca-news"),
                              ("finnhub", "finnhub"), ("generic-news", "generic")):
            n = value(text, f'aftershock_feed_messages_total{{feed="{feed}",dialect="{dialect}"}}')
            if not n:
                failures.append(f"no messages counted for feed {feed}: {n}")
        if not re.search(r'^aftershock_alerts_fired_total\{kind="move",rule="prev_close_move",'
                         r'severity="critical"\} [1-9]', text, re.M):
            failures.append("no prev_close_move critical alerts counted")
        if not re.search(r'^aftershock_symbol_change_ratio\{symbol="NVDA",exchange="XNAS"\} -0\.1',
                         text, re.M):
            failures.append("NVDA's change against the previous close is not about -17%")
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True)
        if check.stdout.strip() or check.stderr.strip():
            failures.append("promtool check metrics said: " + check.stdout + check.stderr)

        daemon.send_signal(signal.SIGHUP)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            _, text = get(base + "/metrics")
            if value(text, 'aftershock_config_reloads_total{outcome="success"}') == 1:
                break
            time.sleep(0.2)
        else:
            failures.append("the SIGHUP reload was not counted")

        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(timeout=20)
        if rc != 0:
            failures.append(f"aftershockd exited {rc} on SIGTERM")
        for f in failures:
            print("FAIL:", f)
        if not failures:
            print(f"run metrics OK ({address})")
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
