#!/usr/bin/env python3
"""Writes the fuzz seed corpora in tests/fuzz/seeds/<target>/ from the scenario data.

Frames come from the scenario captures (one file per distinct message shape and feed, up to
a few per shape), the protocol examples the parser tests use for dialects the captures lack
(Polygon, Binance), capture excerpts for the capture reader, the deploy configs (whole and
cut into sections) for the config loader, and the captured headlines for the matcher.
Rerun after the scenarios change: tests/fuzz/make_seeds.py (deterministic output).
"""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "seeds")
PER_SHAPE = 3

FEED_TARGET = {
    "alpaca-stocks": "frame_alpaca_stocks",
    "alpaca-news": "frame_alpaca_news",
    "finnhub": "frame_finnhub",
    "polygon-stocks": "frame_polygon_stocks",
    "binance": "frame_binance",
    "generic": "frame_generic",
}

# Dialects the captures hold little of: examples in the vendors' documented shapes.
EXTRA_FRAMES = {
    "frame_polygon_stocks": [
        '[{"ev":"status","status":"connected","message":"Connected Successfully"}]',
        '[{"ev":"status","status":"auth_success","message":"authenticated"}]',
        '[{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],'
        '"t":1536036818784,"q":3681328}]',
        '[{"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,'
        '"c":0,"t":1536036818784,"z":3}]',
        '[{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,'
        '"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}]',
        '[{"ev":"LULD","T":"NVDA","h":130,"l":110,"t":1737990000001},{"ev":"NOI","T":"NVDA"}]',
    ],
    "frame_binance": [
        '{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",'
        '"T":1672515782136,"m":true,"M":true}',
        '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT",'
        '"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1672515782136,'
        '"m":true,"M":true}}',
        '{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,'
        '"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025",'
        '"l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}',
        '{"result":null,"id":1}',
        '{"e":"serverShutdown","E":1672515782136}',
    ],
    "frame_finnhub": ['{"type":"ping"}', '{"type":"error","msg":"Invalid symbol"}'],
    "frame_generic": [
        '{"type":"news","id":"x1","headline":"DeepSeek \\u6df1\\u5ea6\\u6c42\\u7d22 R1",'
        '"published":"2025-01-27T05:00:00Z","symbols":["NVDA"]}',
        '{"type":"trade","symbol":"NVDA","price":118.42,"size":100,"time":"2025-01-27T15:00:00Z"}',
    ],
}


def write(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def shape(frame):
    if isinstance(frame, list):
        return tuple(sorted({str(e.get("T") or e.get("ev")) for e in frame if isinstance(e, dict)}))
    if isinstance(frame, dict):
        return (str(frame.get("type") or frame.get("e") or frame.get("stream")),)
    return (type(frame).__name__,)


def main():
    if os.path.isdir(OUT):
        for f in glob.glob(os.path.join(OUT, "*", "*")):
            os.remove(f)
    captures = sorted(glob.glob(os.path.join(ROOT, "tests/data/scenarios/*/capture.ndjson")))
    captures.append(os.path.join(ROOT, "tests/data/feedsim/small.ndjson"))
    seen = {}
    headlines = []
    for path in captures:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        # The capture reader: the first lines of every capture, and one line of each feed.
        write("capture_reader", "".join(lines[:8]))
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            target = FEED_TARGET.get(rec.get("feed"))
            frame = rec.get("frame")
            if target is None or frame is None:
                continue
            key = (target, shape(frame))
            if seen.get(key, 0) < PER_SHAPE:
                seen[key] = seen.get(key, 0) + 1
                # The exact captured text: json.dumps with the captures' compact separators.
                write(target, json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
                if seen[key] == 1:
                    write("capture_reader", line)
            items = frame if isinstance(frame, list) else [frame]
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("headline"), str):
                    headlines.append(item)
    for target, frames in EXTRA_FRAMES.items():
        for frame in frames:
            write(target, frame)

    # The matcher: every distinct captured headline, some with their vendor tags after a NUL,
    # and a few alias lists for its build mode.
    done = set()
    for item in headlines:
        text = item["headline"]
        if text in done:
            continue
        done.add(text)
        tags = item.get("symbols") or []
        write("headline_matcher", text + ("\0" + "\n".join(tags) if tags else ""))
    write("headline_matcher", "\x01Nvidia\nArm\nSoftBank\n英伟达\n$NVDA\nDeepSeek")
    write("headline_matcher", "Star Pitcher's Arm Injury\0ARM")
    write("headline_matcher", "英偉達股價 下跌 17% ＮＶＤＡ")

    # The config loader: the deploy configs whole, and each top-level section alone.
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/config/*.yaml"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        write("config_loader", text)
        sections, current = [], []
        for line in text.splitlines(keepends=True):
            if line and not line[0].isspace() and not line.startswith("#") and current:
                sections.append("".join(current))
                current = []
            current.append(line)
        sections.append("".join(current))
        for section in sections:
            write("config_loader", "version: 1\n" + section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
