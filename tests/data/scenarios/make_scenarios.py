#!/usr/bin/env python3
"""Writes the synthetic trap scenarios next to this file (capture v1, expected.json, extra.json).

Each scenario is one market day built to test one way a monitor goes wrong: a headline that
arrives after the move, a fast move that never crosses the previous-close threshold, a bad tick,
a price flapping around a threshold, a basket selloff, a limit-up day, a move nobody explains,
and a quiet day full of AI headlines. The days are synthetic and deterministic (fixed seeds):
run this script again and the files come out byte-identical.

expected.json uses the keys of the shared check_alerts.py. extra.json holds what that checker
cannot say (counts of grouped alerts, follow-ups, rules that must stay silent); it is read by
tests/scenarios/check_extra.py.

Usage: make_scenarios.py [OUTPUT_DIR]   (default: the directory of this script)
"""

import datetime as dt
import json
import os
import random
import sys

UTC = dt.timezone.utc


def ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class Day:
    """Collects capture lines for one scenario and writes them in arrival order."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lines = []  # (arrival time, sequence, json text)
        self.news_id = 91000000

    def _add(self, at, feed, frame):
        self.lines.append((at, len(self.lines), json.dumps(
            {"at": iso_ms(at), "feed": feed, "frame": frame}, ensure_ascii=False,
            separators=(",", ":"))))

    # --- markets -------------------------------------------------------------------------------
    def us_trade(self, symbol, t, price, size=100):
        frame = [{"T": "t", "S": symbol, "i": self.rng.randrange(1, 10**9), "x": "V",
                  "p": round(price, 2), "s": size, "c": ["@"], "z": "C", "t": iso_ms(t)}]
        self._add(t + dt.timedelta(milliseconds=3), "alpaca-stocks", frame)

    def cn_trade(self, symbol, t, price, volume=100):
        frame = {"type": "trade", "data": [{"s": symbol, "p": round(price, 2), "v": volume,
                                            "t": int(t.timestamp() * 1000), "c": None}]}
        self._add(t + dt.timedelta(milliseconds=3), "finnhub", frame)

    def path(self, trade, symbol, prev_close, knots, start, end, step_s=30, noise=0.0005,
             prev_session=None):
        """Prints every step_s seconds along a piecewise-linear path of changes vs prev_close,
        after a few prints of the previous session that set the close."""
        if prev_session:
            p0, p1 = ts(prev_session[0]), ts(prev_session[1])
            t = p0
            while t < p1:
                trade(symbol, t, prev_close * (1 + self.rng.uniform(-0.001, 0.001)))
                t += dt.timedelta(seconds=step_s)
            trade(symbol, p1 - dt.timedelta(seconds=1), prev_close)  # the close, exactly
        knots = [(ts(k), c) for k, c in knots]
        t = ts(start)
        stop = ts(end)
        while t < stop:
            change = knots[-1][1]
            for (ka, ca), (kb, cb) in zip(knots, knots[1:]):
                if ka <= t < kb:
                    f = (t - ka).total_seconds() / (kb - ka).total_seconds()
                    change = ca + (cb - ca) * f
                    break
            else:
                if t < knots[0][0]:
                    change = knots[0][1]
            jitter = self.rng.uniform(-noise, noise)
            trade(symbol, t + dt.timedelta(milliseconds=self.rng.randrange(0, 900)),
                  prev_close * (1 + change + jitter))
            t += dt.timedelta(seconds=step_s)

    # --- news ----------------------------------------------------------------------------------
    def news(self, t, headline, symbols=(), news_id=None):
        news_id = news_id or self.news_id
        self.news_id += 1
        at = ts(t)
        frame = [{"T": "n", "id": news_id, "headline": headline, "summary": "",
                  "author": "Newsdesk", "created_at": t, "updated_at": t, "url": "",
                  "content": "", "symbols": list(symbols), "source": "benzinga"}]
        self._add(at + dt.timedelta(milliseconds=250), "alpaca-news", frame)
        return str(news_id)

    def write(self, folder, expected, extra):
        os.makedirs(folder, exist_ok=True)
        self.lines.sort(key=lambda x: (x[0], x[1]))
        with open(os.path.join(folder, "capture.ndjson"), "w", encoding="utf-8") as f:
            for _, _, text in self.lines:
                f.write(text + "\n")
        with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected, f, indent=1, ensure_ascii=False)
            f.write("\n")
        with open(os.path.join(folder, "extra.json"), "w", encoding="utf-8") as f:
            json.dump(extra, f, indent=1, ensure_ascii=False)
            f.write("\n")


# US day: Tuesday 4 March 2025 (EST, UTC-5); previous session Monday 3 March.
US_PREV = ["2025-03-03T20:50:00Z", "2025-03-03T21:00:00Z"]
US_PRE, US_OPEN, US_CLOSE = "2025-03-04T09:00:00Z", "2025-03-04T14:30:00Z", "2025-03-04T21:00:00Z"


def us_symbol(day, symbol, prev_close, knots, noise=0.0005, start=US_PRE, step_s=30):
    day.path(day.us_trade, symbol, prev_close, knots, start, US_CLOSE, step_s=step_s,
             noise=noise, prev_session=US_PREV)


def flat(change=0.0):
    return [[US_PRE, change], [US_CLOSE, change]]


def late_headline(out):
    """NVDA falls 8% at 15:00Z with nothing in the news; the explaining headline lands six
    minutes later. The first alert says so honestly; a follow-up with the same fingerprint
    cites the headline."""
    d = Day(1)
    us_symbol(d, "NVDA", 120.0, [[US_PRE, 0.0], ["2025-03-04T14:55:00Z", 0.0],
                                  ["2025-03-04T15:05:00Z", -0.08], [US_CLOSE, -0.085]])
    us_symbol(d, "MSFT", 400.0, flat(0.002))
    hid = d.news("2025-03-04T15:11:00Z",
                 "Nvidia Shares Slide After Report Of Delayed Blackwell Shipments", ["NVDA"])
    d.write(os.path.join(out, "late-headline"),
            {"scenario": "late-headline",
             "must_fire": [{"symbol": "NVDA", "direction": "down",
                            "by": "2025-03-04T15:10:00Z", "cite_any": None}],
             "must_not_fire": ["MSFT"], "max_price_alerts": {"NVDA": 4}},
            {"require": [
                {"status": "firing", "symbol": "NVDA", "summary_contains": "no linked headline yet",
                 "before": "2025-03-04T15:11:00Z"},
                {"status": "firing", "symbol": "NVDA", "follow_up": True, "cites": hid,
                 "same_fingerprint_as_original": True}],
             "forbid": []})


def fast_move_below_threshold(out):
    """AMD climbs from -3% to +1.5% in ten minutes: a 4.6% fast move that never gets near the
    5% previous-close threshold. The window rule fires; the previous-close rules stay silent."""
    d = Day(2)
    us_symbol(d, "AMD", 100.0, [[US_PRE, -0.03], ["2025-03-04T15:00:00Z", -0.03],
                                 ["2025-03-04T15:10:00Z", 0.016], [US_CLOSE, 0.015]])
    d.write(os.path.join(out, "fast-move-below-threshold"),
            {"scenario": "fast-move-below-threshold",
             "must_fire": [{"symbol": "AMD", "direction": "up", "by": "2025-03-04T15:15:00Z",
                            "cite_any": None}],
             "max_price_alerts": {"AMD": 2}},
            {"require": [{"status": "firing", "symbol": "AMD", "rule": "fast_move_15m",
                          "baseline_kind": "window_low", "window": "15m"}],
             "forbid": [{"symbol": "AMD", "rule": "prev_close_move"},
                        {"symbol": "AMD", "rule": "unexplained_move"},
                        {"symbol": "AMD", "rule": "opening_gap"}]})


def bad_tick(out):
    """MSFT trades quietly around 400; one print at 4.00 (1% of the last price) and, later, one
    lone print 12% high. Neither is confirmed by the prints after it, so nothing fires."""
    d = Day(3)
    us_symbol(d, "MSFT", 400.0, flat(0.001))
    d.us_trade("MSFT", ts("2025-03-04T15:30:00Z") + dt.timedelta(milliseconds=450), 4.00, 100)
    d.us_trade("MSFT", ts("2025-03-04T18:00:00Z") + dt.timedelta(milliseconds=450), 448.00, 100)
    d.write(os.path.join(out, "bad-tick"),
            {"scenario": "bad-tick", "must_fire": [], "must_not_fire": ["MSFT"]},
            {"require": [], "forbid": [{"symbol": "MSFT"}]})


def flapping(out):
    """INTC swings between +3.5% and +5.5% against its previous close every 20 minutes, all
    day. Hysteresis and a backing-off cooldown keep it to at most three alerts."""
    d = Day(4)
    knots = []
    t = ts(US_PRE)
    up = True
    while t <= ts(US_CLOSE):
        knots.append([t.strftime("%Y-%m-%dT%H:%M:%SZ"), 0.055 if up else 0.035])
        up = not up
        t += dt.timedelta(minutes=20)
    us_symbol(d, "INTC", 20.0, knots, noise=0.0003)
    d.write(os.path.join(out, "flapping"),
            {"scenario": "flapping",
             "must_fire": [{"symbol": "INTC", "direction": "up", "by": "2025-03-04T10:00:00Z",
                            "cite_any": None}],
             "max_price_alerts": {"INTC": 3}},
            {"require": [], "forbid": [], "count": [{"filter": {"symbol": "INTC"}, "max": 6}]})


def basket_selloff(out):
    """Every member of ai_power falls 3.5-4.5% after the open, none of them by the 5% that
    alerts on its own: one grouped basket alert, not five."""
    d = Day(5)
    members = {"VST": (150.0, -0.040), "CEG": (300.0, -0.042), "TLN": (220.0, -0.038)}
    for symbol, (prev, low) in members.items():
        us_symbol(d, symbol, prev, [[US_PRE, 0.0], ["2025-03-04T14:30:00Z", -0.005],
                                     ["2025-03-04T16:00:00Z", low], [US_CLOSE, low]])
    # Paris members (CET, UTC+1): previous session Monday, day Tuesday.
    for symbol, prev, low in (("SU.PA", 250.0, -0.037), ("LR.PA", 100.0, -0.036)):
        d.path(d.cn_trade, symbol, prev,
               [["2025-03-04T08:00:00Z", 0.0], ["2025-03-04T14:00:00Z", -0.005],
                ["2025-03-04T16:00:00Z", low], ["2025-03-04T16:30:00Z", low]],
               "2025-03-04T08:00:00Z", "2025-03-04T16:30:00Z",
               prev_session=["2025-03-03T16:20:00Z", "2025-03-03T16:30:00Z"])
    hid = d.news("2025-03-04T13:00:00Z",
                 "Utilities Slip As Analysts Question Data Center Power Demand Forecasts")
    d.write(os.path.join(out, "basket-selloff"),
            {"scenario": "basket-selloff", "must_fire": [],
             "must_not_fire": [], "max_price_alerts": {"VST": 1, "CEG": 1, "TLN": 1}},
            {"require": [{"status": "firing", "kind": "basket_move", "name": "ai_power",
                          "direction": "down", "cites": hid}],
             "forbid": [{"rule": "prev_close_move"}, {"rule": "unexplained_move"}],
             "count": [{"filter": {"status": "firing", "kind": "basket_move"}, "min": 1,
                        "max": 1}]})


def limit_up(out):
    """Shenzhen: a main-board stock (10% limit) rallies to limit-up and stays there; a ChiNext
    stock (20% limit) rises 12%, which is not its limit."""
    d = Day(6)
    sessions = [("2025-03-04T01:30:00Z", "2025-03-04T03:30:00Z"),
                ("2025-03-04T05:00:00Z", "2025-03-04T07:00:00Z")]
    prev = ["2025-03-03T06:50:00Z", "2025-03-03T07:00:00Z"]
    main_knots = [["2025-03-04T01:30:00Z", 0.02], ["2025-03-04T02:30:00Z", 0.10],
                  ["2025-03-04T07:00:00Z", 0.10]]
    chinext_knots = [["2025-03-04T01:30:00Z", 0.01], ["2025-03-04T02:30:00Z", 0.12],
                     ["2025-03-04T07:00:00Z", 0.12]]
    for symbol, prev_close, knots in (("002230.SZ", 50.00, main_knots),
                                      ("300750.SZ", 200.00, chinext_knots)):
        first = True
        for start, end in sessions:
            d.path(d.cn_trade, symbol, prev_close, knots, start, end, noise=0.0,
                   prev_session=prev if first else None)
            first = False
    d.write(os.path.join(out, "limit-up"),
            {"scenario": "limit-up",
             "must_fire": [{"symbol": "002230.SZ", "direction": "up",
                            "by": "2025-03-04T03:00:00Z", "cite_any": None}]},
            {"require": [{"status": "firing", "kind": "limit_hit", "symbol": "002230.SZ",
                          "direction": "up", "summary_contains": "limit-up"}],
             "forbid": [{"kind": "limit_hit", "symbol": "300750.SZ"}],
             "count": [{"filter": {"status": "firing", "kind": "limit_hit"}, "max": 1}]})


def unexplained(out):
    """TLN jumps 9% in the afternoon and no headline ever mentions it or its themes."""
    d = Day(7)
    us_symbol(d, "TLN", 200.0, [[US_PRE, 0.0], ["2025-03-04T18:00:00Z", 0.0],
                                 ["2025-03-04T18:20:00Z", 0.09], [US_CLOSE, 0.088]])
    d.news("2025-03-04T12:00:00Z", "Apple Orchards In Washington Report Record Harvest")
    d.write(os.path.join(out, "unexplained-move"),
            {"scenario": "unexplained-move",
             "must_fire": [{"symbol": "TLN", "direction": "up", "by": "2025-03-04T18:30:00Z",
                            "cite_any": None}]},
            {"require": [{"status": "firing", "symbol": "TLN", "rule": "unexplained_move",
                          "summary_contains": "no linked headline yet", "headlines": 0}],
             "forbid": [{"symbol": "TLN", "has_headlines": True}]})


def quiet_day(out):
    """Prices drift within about 1% all day while 300 AI headlines name the universe's
    companies and themes: no price alert at all."""
    d = Day(8)
    names = [("NVDA", 130.0, "Nvidia"), ("AMD", 110.0, "AMD"), ("MSFT", 400.0, "Microsoft"),
             ("GOOGL", 170.0, "Alphabet"), ("META", 600.0, "Meta Platforms"),
             ("AVGO", 190.0, "Broadcom"), ("TSM", 180.0, "TSMC")]
    for symbol, prev, _ in names:
        drift = d.rng.uniform(-0.008, 0.008)
        us_symbol(d, symbol, prev, [[US_PRE, 0.0], ["2025-03-04T16:00:00Z", drift],
                                    [US_CLOSE, drift / 2]], noise=0.001, step_s=20)
    templates = ["{n} Unveils New AI Model For Enterprise Customers",
                 "{n} Expands AI Data Center Partnership",
                 "Analysts Weigh {n}'s AI Spending Plans",
                 "{n} 发布新一代人工智能芯片", "DeepSeek Rival Courts {n} For Cloud Deal",
                 "AI Capex Debate: What {n} Said At Conference"]
    t = ts("2025-03-04T08:00:00Z")
    for i in range(300):
        symbol, _, name = names[i % len(names)]
        headline = templates[i % len(templates)].format(n=name)
        d.news(t.strftime("%Y-%m-%dT%H:%M:%SZ"), headline, [symbol] if i % 3 == 0 else [])
        t += dt.timedelta(seconds=150)
    d.write(os.path.join(out, "quiet-day"),
            {"scenario": "quiet-day", "must_fire": [],
             "must_not_fire": [s for s, _, _ in names]},
            {"require": [], "forbid": [{"status": "firing"}]})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for make in (late_headline, fast_move_below_threshold, bad_tick, flapping, basket_selloff,
                 limit_up, unexplained, quiet_day):
        make(out)


if __name__ == "__main__":
    main()
