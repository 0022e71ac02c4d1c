#!/usr/bin/env node
// Interop test: the official Alpaca TypeScript SDK (@alpacahq/alpaca-trade-api v4, which forces
// msgpack with `Content-Type: application/msgpack`) against aftershock-feedsim.
//
//   node sdk_interop.js path/to/aftershock-feedsim path/to/tests/data/feedsim/small.ndjson
//
// Starts feedsim on 127.0.0.1 port 0 (reading the port from its first stdout line), then:
//   - a stock stream (/v2/iex) authenticates and subscribes to NVDA trades and quotes,
//   - a news stream (/v1beta1/news) authenticates and subscribes to all news,
//   - a third stream with a wrong secret must be rejected with 402,
// and checks what each received once feedsim has played the capture and exited.
// Exit 0 on success, 1 on failure, 77 (ctest: skipped) when the SDK is not installed.
"use strict";

const { spawn } = require("node:child_process");
const readline = require("node:readline");

let Alpaca;
try {
  ({ Alpaca } = require("@alpacahq/alpaca-trade-api"));
} catch (err) {
  console.log("SKIP: @alpacahq/alpaca-trade-api is not installed; run scripts/setup " +
              "(npm ci in tests/interop/alpaca-sdk)");
  process.exit(77);
}

const [binary, capture] = process.argv.slice(2);
if (!binary || !capture) {
  console.error("usage: sdk_interop.js AFTERSHOCK_FEEDSIM CAPTURE");
  process.exit(2);
}

const KEY = "interop-key";
const SECRET = "interop-secret";
const DEADLINE_MS = 60000;

const failures = [];
function check(condition, what) {
  if (!condition) failures.push(what);
}

function finish(code) {
  if (failures.length > 0) {
    for (const f of failures) console.error("FAIL: " + f);
    code = 1;
  }
  if (code === 0) console.log("PASS: the Alpaca SDK authenticated, subscribed and received data");
  process.exit(code);
}

const deadline = setTimeout(() => {
  failures.push(`no result within ${DEADLINE_MS} ms`);
  sim.kill("SIGKILL");
  finish(1);
}, DEADLINE_MS);

// Playback starts when both good streams have subscribed (--wait-for 2); the rejected stream
// never subscribes. --exit-when-done: feedsim exits once both got everything.
const sim = spawn(binary, [
  "--listen", "127.0.0.1:0", "--speed", "max", "--exit-when-done", "--wait-for", "2",
  "--start-timeout", "30s", "--key", KEY, "--secret", SECRET, capture,
], { stdio: ["ignore", "pipe", "inherit"] });
sim.on("error", (err) => {
  failures.push(`cannot start ${binary}: ${err.message}`);
  finish(1);
});

const received = { trades: [], quotes: [], news: [], errors: [] };
let rejected = null;

readline.createInterface({ input: sim.stdout }).once("line", (line) => {
  const m = /^listening (.+):(\d+)$/.exec(line);
  if (!m) {
    failures.push(`unexpected first line from feedsim: ${line}`);
    sim.kill();
    return;
  }
  const base = `ws://${m[1]}:${m[2]}`;
  const alpaca = new Alpaca({ keyId: KEY, secret: SECRET });
  const quiet = { reconnect: false };

  // The wrong secret goes first and the good streams connect only once it has been answered:
  // otherwise playback (which starts when the good streams subscribe) can finish and close
  // every connection before the refusal arrives.
  const bad = new Alpaca({ keyId: KEY, secret: "wrong" }).marketData.stockStream({
    feed: "iex", url: `${base}/v2/iex`, ...quiet,
  });
  bad.onError(() => {});
  bad.connect();
  bad.whenAuthenticated().then((r) => { rejected = r; }, (e) => { rejected = { error: String(e) }; })
    .finally(connectGoodStreams);

  function connectGoodStreams() {
    // Subscriptions made before connect() go out in one subscribe right after authentication.
    const stocks = alpaca.marketData.stockStream({ feed: "iex", url: `${base}/v2/iex`, ...quiet });
    stocks.onTrade((t) => received.trades.push(t));
    stocks.onQuote((q) => received.quotes.push(q));
    stocks.onError((e) => received.errors.push(`stocks: ${e}`));
    stocks.subscribeForTrades(["NVDA"]);
    stocks.subscribeForQuotes(["NVDA"]);
    stocks.connect();

    const news = alpaca.marketData.newsStream({ url: `${base}/v1beta1/news`, ...quiet });
    news.onNews((n) => received.news.push(n));
    news.onError((e) => received.errors.push(`news: ${e}`));
    news.subscribeForNews(["*"]);
    news.connect();
  }
});

sim.on("exit", (code, signal) => {
  clearTimeout(deadline);
  check(code === 0, `feedsim exited with ${code ?? signal}`);

  // The capture has two NVDA trades (ids 1 and 3) and one NVDA quote on the stock stream.
  check(received.trades.length === 2, `2 trades expected, got ${received.trades.length}`);
  check(received.trades.every((t) => t.symbol === "NVDA"), "only NVDA trades expected");
  const first = received.trades[0] || {};
  check(first.id === 1 && first.price === 120.5 && first.size === 100,
        `first trade: ${JSON.stringify(first)}`);
  // `t` came as a msgpack timestamp extension with its nanoseconds intact.
  check(first.timestampRaw === "2025-01-27T14:30:00.095123456Z",
        `timestampRaw: ${first.timestampRaw}`);
  check(received.quotes.length === 1 && received.quotes[0].symbol === "NVDA",
        `1 NVDA quote expected, got ${received.quotes.length}`);

  // Two headlines on the news stream.
  check(received.news.length === 2, `2 news items expected, got ${received.news.length}`);
  const headlines = received.news.map((n) => n.headline);
  check(headlines.includes("Nvidia unveils a faster AI chip"), `headlines: ${headlines}`);
  check(received.news.every((n) => Array.isArray(n.symbols)), "news symbols");

  // The wrong secret was refused with Alpaca's 402.
  check(rejected && !rejected.authenticated && rejected.code === 402,
        `wrong secret: ${JSON.stringify(rejected)}`);
  check(received.errors.length === 0, `stream errors: ${received.errors.join("; ")}`);

  console.log(`trades=${received.trades.length} quotes=${received.quotes.length} ` +
              `news=${received.news.length} rejected=${rejected && rejected.code}`);
  // Let the SDK's close callbacks run before exiting.
  setImmediate(() => finish(0));
});
