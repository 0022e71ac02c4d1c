#!/usr/bin/env python3
"""Checks a replay's alerts against a scenario's extra.json: what the shared check_alerts.py
cannot express (grouped alerts, follow-ups, rules that must stay silent).

extra.json keys:
  require: filters of which each must match at least one alert
  forbid:  filters of which none may match any alert
  count:   [{"filter": {...}, "min": N, "max": M}]
A filter is a dict of conditions, all of which must hold:
  status, kind, rule, symbol, name, direction: equal to the alert's field
  baseline_kind: alert.baseline.kind;  window: alert.window
  summary_contains: substring of alert.summary
  cites: a headline id the alert cites;  headlines: number of cited headlines
  has_headlines: whether it cites any;  follow_up: whether it is a follow-up
  before: event_time earlier than this RFC 3339 time
  same_fingerprint_as_original: a follow-up whose fingerprint equals the alert it follows up

Prints PASS/FAIL lines and `N passed, M failed`; exits 1 on any failure.
Usage: check_extra.py extra.json alerts.jsonl
"""

import json
import sys


def matches(alert, cond, by_id):
    for key, want in cond.items():
        if key in ("status", "kind", "rule", "symbol", "name", "direction", "window"):
            if alert.get(key) != want:
                return False
        elif key == "baseline_kind":
            if (alert.get("baseline") or {}).get("kind") != want:
                return False
        elif key == "summary_contains":
            if want not in alert.get("summary", ""):
                return False
        elif key == "cites":
            if want not in {str(h.get("id")) for h in alert.get("headlines") or []}:
                return False
        elif key == "headlines":
            if len(alert.get("headlines") or []) != want:
                return False
        elif key == "has_headlines":
            if bool(alert.get("headlines")) != want:
                return False
        elif key == "follow_up":
            if bool(alert.get("follow_up_of")) != want:
                return False
        elif key == "before":
            if not alert.get("event_time", "") < want:
                return False
        elif key == "same_fingerprint_as_original":
            original = by_id.get(alert.get("follow_up_of", ""))
            if (original is not None and original.get("fingerprint") == alert.get("fingerprint")) != want:
                return False
        else:
            raise SystemExit(f"unknown filter key {key!r}")
    return True


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        extra = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        alerts = [json.loads(line) for line in f if line.strip()]
    by_id = {a.get("id"): a for a in alerts}
    passed = failed = 0

    def report(ok, text):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + text)
        if ok:
            passed += 1
        else:
            failed += 1

    for cond in extra.get("require", []):
        hits = [a for a in alerts if matches(a, cond, by_id)]
        report(bool(hits), f"require {json.dumps(cond, ensure_ascii=False)}")
    for cond in extra.get("forbid", []):
        hits = [a for a in alerts if matches(a, cond, by_id)]
        detail = f" (first: {hits[0].get('summary')})" if hits else ""
        report(not hits, f"forbid {json.dumps(cond, ensure_ascii=False)}{detail}")
    for c in extra.get("count", []):
        n = sum(1 for a in alerts if matches(a, c["filter"], by_id))
        ok = c.get("min", 0) <= n <= c.get("max", 1 << 60)
        report(ok, f"count {json.dumps(c['filter'], ensure_ascii=False)} = {n} "
                   f"(want {c.get('min', 0)}..{c.get('max', 'any')})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
