#!/usr/bin/env node
// Peer for bench/run (issue 8): the official Alpaca TypeScript SDK
// (@alpacahq/alpaca-trade-api v4, msgpack frames, as it always asks for) consuming
// aftershock-feedsim's stocks and news streams, with the same previous-close check as
// node-ws-consumer.js in its onTrade callback. The SDK is the one scripts/setup installs for
// the interop test (tests/interop/alpaca-sdk/node_modules); nothing is installed twice.
//
//   node alpaca-sdk-consumer.js --url ws://127.0.0.1:PORT [--events N] [--threshold 5]
//
// Prints one line `BENCH_JSON {...}` like node-ws-consumer.js. Exit 77 when the SDK is missing.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

let Alpaca;
try {
  const sdkRequire = createRequire(
    path.join(__dirname, "..", "..", "tests", "interop", "alpaca-sdk", "package.json"));
  ({ Alpaca } = sdkRequire("@alpacahq/alpaca-trade-api"));
} catch (err) {
  console.log("SKIP: @alpacahq/alpaca-trade-api is not installed; run scripts/setup " +
              "(npm ci in tests/interop/alpaca-sdk)");
  process.exit(77);
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const base = arg("--url");
const expected = Number(arg("--events", "0"));
const thresholdPct = Number(arg("--threshold", "5"));
const keyId = arg("--key", "bench-key");
const secret = arg("--secret", "bench-secret");
if (!base) {
  console.error("usage: alpaca-sdk-consumer.js --url ws://HOST:PORT [--events N] [--threshold PCT]");
  process.exit(2);
}

// --- the user's logic (as in node-ws-consumer.js, on the SDK's normalized objects) ------------
const prevClose = new Map();
const alerted = new Set();
const lastHeadline = new Map();
let alerts = 0;

function onTrade(t) {
  const close = prevClose.get(t.symbol);
  if (close === undefined) {
    prevClose.set(t.symbol, t.price);
    return;
  }
  const movePct = ((t.price - close) / close) * 100;
  if (Math.abs(movePct) < thresholdPct) return;
  const id = t.symbol + (movePct > 0 ? ":up" : ":down");
  if (alerted.has(id)) return;
  alerted.add(id);
  alerts++;
}

// --- counting -----------------------------------------------------------------------------------
let events = 0, trades = 0, quotes = 0, bars = 0, news = 0;
let first = 0, last = 0;
const perSecond = [];
function countEvent() {
  const now = performance.now();
  if (first === 0) first = now;
  last = now;
  const second = Math.floor((now - first) / 1000);
  perSecond[second] = (perSecond[second] ?? 0) + 1;
  events++;
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  const seconds = (last - first) / 1000;
  const whole = perSecond.slice(0, Math.max(0, perSecond.length - 1)).map((n) => n ?? 0);
  const result = {
    bench: "peer", peer: "alpaca-sdk", events, trades, quotes, bars, news, alerts,
    seconds: Number(seconds.toFixed(3)),
    events_per_s: seconds > 0 ? Math.round(events / seconds) : 0,
    slowest_second_events: whole.length ? Math.min(...whole) : -1,
    expected_events: expected, missing_events: expected ? Math.max(0, expected - events) : 0,
  };
  // CPU time of the whole process (every thread; startup is a few ms of it): events per CPU
  // second compare with aftershock's per-thread figures whatever the machine's load.
  const cpu = process.cpuUsage();
  result.cpu_s = Number(((cpu.user + cpu.system) / 1e6).toFixed(3));
  result.events_per_cpu_s = result.cpu_s > 0 ? Math.round(events / result.cpu_s) : 0;
  console.log("BENCH_JSON " + JSON.stringify(result));
  process.exit(0);
}

const alpaca = new Alpaca({ keyId, secret });
const options = { reconnect: false };
let open = 2;
const closed = () => { if (--open === 0) finish(); };

const stocks = alpaca.marketData.stockStream({ feed: "sip", url: `${base}/v2/sip`, ...options });
stocks.onTrade((t) => { trades++; countEvent(); onTrade(t); });
stocks.onQuote(() => { quotes++; countEvent(); });
stocks.onBar(() => { bars++; countEvent(); });
stocks.onError((e) => console.error(`stocks: ${e}`));
stocks.onDisconnect(closed);
stocks.subscribeForTrades(["*"]);
stocks.subscribeForQuotes(["*"]);
stocks.subscribeForBars(["*"]);
stocks.connect();

const newsStream = alpaca.marketData.newsStream({ url: `${base}/v1beta1/news`, ...options });
newsStream.onNews((n) => {
  news++;
  for (const s of n.symbols) lastHeadline.set(s, n.headline);
});
newsStream.onError((e) => console.error(`news: ${e}`));
newsStream.onDisconnect(closed);
newsStream.subscribeForNews(["*"]);
newsStream.connect();

setInterval(() => {
  if (last !== 0 && performance.now() - last > 10000) finish();
}, 1000).unref();
