#!/usr/bin/env node
// Peer for bench/run (issue 8): the consumer a user would write with Node and the npm `ws`
// package instead of running aftershock. It connects to aftershock-feedsim's Alpaca endpoints
// (stocks and news, JSON text frames, permessage-deflate off like the Alpaca SDK), subscribes
// to everything, and does the previous-close check on every trade: the move against the
// symbol's previous close, one alert per symbol and direction beyond the threshold. The
// synthetic day has no previous session, so the first trade of each symbol stands in for the
// close a user would load from a REST snapshot at start.
//
//   node node-ws-consumer.js --url ws://127.0.0.1:PORT [--events N] [--threshold 5]
//
// Prints one line `BENCH_JSON {...}` (events, seconds, events/s from the first data frame to
// the last, slowest whole second, alerts, and how many events of the N expected never came).
// Ends when both connections are closed (feedsim --exit-when-done) or after 10 s of silence.
"use strict";

let WebSocket;
try {
  WebSocket = require("ws");
} catch (err) {
  console.log("SKIP: the npm package ws is not installed; run scripts/setup (npm ci in bench/peers)");
  process.exit(77);
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const base = arg("--url");
const expected = Number(arg("--events", "0"));
const thresholdPct = Number(arg("--threshold", "5"));
const key = arg("--key", "bench-key");
const secret = arg("--secret", "bench-secret");
if (!base) {
  console.error("usage: node-ws-consumer.js --url ws://HOST:PORT [--events N] [--threshold PCT]");
  process.exit(2);
}

// --- the user's logic -------------------------------------------------------------------------
const prevClose = new Map();   // symbol -> previous close
const alerted = new Set();     // "SYM:up" / "SYM:down"
const lastHeadline = new Map(); // symbol -> latest headline, cited in the alert
let alerts = 0;

function onTrade(t) {
  const symbol = t.S;
  const price = t.p;
  const close = prevClose.get(symbol);
  if (close === undefined) {
    prevClose.set(symbol, price);
    return;
  }
  const movePct = ((price - close) / close) * 100;
  if (Math.abs(movePct) < thresholdPct) return;
  const id = symbol + (movePct > 0 ? ":up" : ":down");
  if (alerted.has(id)) return;
  alerted.add(id);
  alerts++;
  if (process.env.PEER_VERBOSE) {
    console.error(`${symbol} ${movePct.toFixed(2)}% vs previous close ${close}: ${price}; ` +
                  `news: ${lastHeadline.get(symbol) ?? "none"}`);
  }
}

// --- counting -----------------------------------------------------------------------------------
let events = 0, trades = 0, quotes = 0, bars = 0, news = 0, frames = 0;
let first = 0, last = 0;
const perSecond = [];

function countEvent(now) {
  if (first === 0) first = now;
  last = now;
  const second = Math.floor((now - first) / 1000);
  perSecond[second] = (perSecond[second] ?? 0) + 1;
  events++;
}

function onMessage(data) {
  const messages = JSON.parse(data);
  frames++;
  const now = performance.now();
  for (const m of messages) {
    switch (m.T) {
      case "t": trades++; countEvent(now); onTrade(m); break;
      case "q": quotes++; countEvent(now); break;
      case "b": bars++; countEvent(now); break;
      case "n":
        news++;
        for (const s of m.symbols ?? []) lastHeadline.set(s, m.headline);
        break;
      case "success":
        if (m.msg === "authenticated") this.authenticated();
        break;
      case "subscription": break;
      case "error":
        console.error(`error ${m.code}: ${m.msg}`);
        break;
      default: break;
    }
  }
}

let open = 0;
let finished = false;
function connect(path, subscribe) {
  const ws = new WebSocket(base + path, { perMessageDeflate: false });
  open++;
  const ctx = {
    authenticated: () => ws.send(JSON.stringify({ action: "subscribe", ...subscribe })),
  };
  ws.on("open", () => ws.send(JSON.stringify({ action: "auth", key, secret })));
  ws.on("message", (data) => onMessage.call(ctx, data));
  ws.on("error", (err) => console.error(`${path}: ${err.message}`));
  ws.on("close", () => {
    if (--open === 0) finish();
  });
}

function finish() {
  if (finished) return;
  finished = true;
  const seconds = (last - first) / 1000;
  // Whole seconds only: the last one is partial.
  const whole = perSecond.slice(0, Math.max(0, perSecond.length - 1)).map((n) => n ?? 0);
  const result = {
    bench: "peer", peer: "node-ws", events, trades, quotes, bars, news, frames, alerts,
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

// Silence after data: feedsim did not close (a fallback; normally it exits when done).
setInterval(() => {
  if (last !== 0 && performance.now() - last > 10000) finish();
}, 1000).unref();

connect("/v2/sip", { trades: ["*"], quotes: ["*"], bars: ["*"] });
connect("/v1beta1/news", { news: ["*"] });
