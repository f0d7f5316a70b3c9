// driver.mjs - Debian's chromium, headless, driven by playwright-core for the
// browser tests (tests/integration/browser.py). One JSON request a line on
// stdin, one JSON answer a line on stdout:
//   {"op":"goto","url":U} {"op":"eval","js":EXPR} {"op":"wait","js":EXPR,"timeout":MS}
//   {"op":"click","selector":S} {"op":"fill","selector":S,"value":V}
//   {"op":"screenshot","path":P} {"op":"console"} (the errors seen so far, then forgotten)
// -> {"ok":true,"value":...} or {"ok":false,"error":"..."}. The first line out
// says whether chromium started: {"ready":true} or {"ready":false,"error":...}.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
let browser, page;
const errors = [];

try {
  browser = await chromium.launch({
    executablePath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  // bypassCSP: the page forbids eval, which waitForFunction needs
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  page.on("dialog", (d) => d.accept(process.env.DIALOG_ANSWER || undefined));
} catch (e) {
  out({ ready: false, error: String(e.message || e).split("\n")[0] });
  process.exit(0);
}
out({ ready: true });

const ops = {
  goto: (r) => page.goto(r.url, { waitUntil: "load" }).then(() => null),
  eval: (r) => page.evaluate(r.js),
  wait: (r) => page.waitForFunction(r.js, null, { timeout: r.timeout || 5000, polling: 50 })
    .then((h) => h.jsonValue()),
  click: (r) => page.click(r.selector, { timeout: 5000 }).then(() => null),
  fill: (r) => page.fill(r.selector, r.value, { timeout: 5000 }).then(() => null),
  screenshot: (r) => page.screenshot({ path: r.path, fullPage: true }).then(() => null),
  console: () => errors.splice(0),
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let r;
  try {
    r = JSON.parse(line);
    if (r.op === "close") break;
    const value = await ops[r.op](r);
    out({ ok: true, value: value === undefined ? null : value });
  } catch (e) {
    out({ ok: false, error: String(e.message || e).split("\n")[0] });
  }
}
await browser.close();
