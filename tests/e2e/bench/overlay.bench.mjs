// Browser figures of the overlay, in headless Chromium on a PredictHQ token list padded to 10,000 elements: DOMContentLoaded → keywarden's highlight and step panel painted against Driver.js highlighting the same button with its popover, and the extra time to the highlight when the service worker was stopped.
//
// Two Chromium instances side by side, runs interleaved A, B, A, B in one run: one with the built
// extension (loaded as the end-to-end tests load it), one without, into which the bench injects
// Driver.js (pinned in package.json) through the DevTools protocol. Both load the same page from
// the fixture server under the vendor's real host name, over HTTPS with the strict CSP. The page
// carries a same-origin probe script that marks "painted": after the element has its box, one
// animation frame, then a task (so the frame that draws it has been produced); both sides use
// that same probe.
//
// KEYWARDEN_BENCH_QUICK=1 runs 3 pairs after 1 warm-up instead of 17 after 3.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FIXTURES_DIR, FIXTURE_HOSTS, launchChromium, extensionDir, makeTempDir, poll, removeTempDir, sleep, startFixtures, withTimeout } from '../harness.mjs';
import { difference, figure, ratio, spread } from './stats.mjs';

const QUICK = process.env.KEYWARDEN_BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 17;
const WARMUP = QUICK ? 1 : 3;
const ELEMENTS = 10_000;
const HOST = 'control.predicthq.com';
const PAGE = `https://${HOST}/tokens`;
const TARGET_ID = 'create-new-token';
const require = createRequire(import.meta.url);
const DRIVER_DIR = path.dirname(require.resolve('driver.js/dist/driver.css'));
const DRIVER_VERSION = JSON.parse(readFileSync(path.join(DRIVER_DIR, '..', 'package.json'), 'utf8')).version;

// ---------------------------------------------------------------------------
// The padded page

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * PredictHQ's token list as its web app draws it (sidebar, "API Tokens", the Create New Token
 * button above the table), padded with token rows until the document holds `count` elements.
 */
export function paddedTokenList(count) {
  const icon = (d) => `<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><path d="${d}"/></svg>`;
  const row = (i) => {
    const client = i % 3 === 0 ? `<span class="client-name">Client ${i % 17}</span> | ` : '';
    return `<tr><td>${client}integration-${i}</td><td>Account, Events</td><td>2025-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}</td>`
      + `<td><button type="button" class="icon-btn" aria-label="Edit token" title="Edit token">${icon('M11.5 1.5l3 3L5 14H2v-3z')}</button>`
      + `<button type="button" class="icon-btn" aria-label="Delete token" title="Delete token">${icon('M3 4h10l-1 11H4zM6 1h4v2H6z')}</button></td></tr>`;
  };
  const head = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API Tokens · PredictHQ</title>
  <link rel="stylesheet" href="/app.css">
  <script src="/bench-probe.js"></script>
</head>
<body>
  <div id="root">
    <header class="topbar"><a class="brand" href="/">PredictHQ</a><div class="account" aria-label="Account menu">Jordan Admin</div></header>
    <div class="frame">
      <nav class="sidebar" aria-label="Main navigation"><ul>
        <li><a href="/">Dashboard</a></li><li><a href="/events">Events</a></li><li><a href="/locations">Location Insights</a></li>
        <li class="nav-group"><p class="nav-group-title">API Tools</p><ul><li><a href="/tokens" aria-current="page">API Tokens</a></li><li><a href="/api-explorer">API Explorer</a></li></ul></li>
        <li><a href="/data-exports">Data Exports</a></li><li><a href="/settings">Settings</a></li>
      </ul></nav>
      <main class="content" id="content">
        <h1>API Tokens</h1>
        <p class="lead">${esc('These tokens can call the PredictHQ APIs on behalf of your organisation. Delete a token to revoke it.')}</p>
        <div class="toolbar"><button type="button" class="btn btn-primary" id="${TARGET_ID}">Create New Token</button></div>
        <table class="tokens">
          <thead><tr><th>Name</th><th>Scopes</th><th>Created</th><th><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
`;
  const tail = `          </tbody>
        </table>
      </main>
    </div>
  </div>
</body>
</html>
`;
  const countTags = (html) => (html.match(/<(?!\/|!)[a-z]/gi) || []).length;
  const fixed = countTags(head + tail);
  const rows = [];
  let total = fixed;
  for (let i = 0; total < count; i++) {
    const r = row(i);
    rows.push(r);
    total += countTags(r);
  }
  return { html: head + rows.join('\n') + tail, elements: total, rows: rows.length };
}

// The page's own probe (same origin, so the strict CSP lets it run): records DOMContentLoaded
// and when each overlay was first painted, in performance.now() milliseconds, into window.__bench.
const PROBE = `'use strict';
(() => {
  const bench = (window.__bench = { dcl: null, painted: {} });
  // When DOMContentLoaded began to be dispatched, before any listener ran (an extension's content
  // script may listen ahead of this probe, and Driver.js's bootstrap does).
  document.addEventListener('DOMContentLoaded', () => {
    bench.dcl = performance.getEntriesByType('navigation')[0]?.domContentLoadedEventStart || performance.now();
  }, { once: true });
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    const cs = getComputedStyle(el);
    return cs.display !== 'none' && cs.visibility !== 'hidden' && Number(cs.opacity) > 0;
  };
  const checks = {
    // keywarden: the ring around the target, and the step panel once it is placed (shown, or folded into its pill).
    highlight: () => visible(document.querySelector('keywarden-highlight')),
    panel: () => visible(document.querySelector('keywarden-panel')) || visible(document.querySelector('keywarden-pill')),
    // Driver.js: the cut-out overlay over the highlighted element, and its popover.
    driverHighlight: () => visible(document.querySelector('.driver-overlay')) && !!document.querySelector('.driver-active-element'),
    driverPopover: () => visible(document.querySelector('.driver-popover')),
  };
  const channel = new MessageChannel();
  const waiting = [];
  channel.port1.onmessage = () => { const t = performance.now(); for (const name of waiting.splice(0)) bench.painted[name] = t; };
  const pending = new Set();
  const check = () => {
    for (const [name, seen] of Object.entries(checks)) {
      if (name in bench.painted || pending.has(name) || !seen()) continue;
      pending.add(name);
      // The frame that draws it is produced after this animation frame's callbacks; the task
      // posted from there runs once that frame is done.
      requestAnimationFrame(() => { waiting.push(name); channel.port2.postMessage(0); });
    }
  };
  new MutationObserver(check).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['style', 'class', 'hidden', 'data-folded'] });
  const tick = () => { check(); if (Object.keys(bench.painted).length < 4) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();
`;

/** A fixture directory for PredictHQ's host: its usual files plus the padded list at /tokens and the probe. */
function makeSite() {
  const dir = makeTempDir('bench-site');
  cpSync(path.join(FIXTURES_DIR, 'predicthq'), dir, { recursive: true });
  const page = paddedTokenList(ELEMENTS);
  mkdirSync(path.join(dir, 'tokens'), { recursive: true });
  writeFileSync(path.join(dir, 'tokens', 'index.html'), page.html);
  writeFileSync(path.join(dir, 'bench-probe.js'), PROBE);
  return { dir, ...page };
}

// ---------------------------------------------------------------------------
// Driver.js, injected by the DevTools protocol into the browser without the extension

/**
 * What runs in the Driver.js browser at the start of every document: Driver.js itself, its style
 * sheet, and at DOMContentLoaded a highlight of the same button with a popover of the same step.
 */
function driverBootstrap() {
  const js = readFileSync(path.join(DRIVER_DIR, 'driver.js.iife.js'), 'utf8');
  const css = readFileSync(path.join(DRIVER_DIR, 'driver.css'), 'utf8');
  return `${js}
;(() => {
  if (location.host !== ${JSON.stringify(HOST)}) return;
  document.addEventListener('DOMContentLoaded', () => {
    // An inline style sheet applies as soon as it is inserted (no fetch), before the highlight.
    const style = document.createElement('style');
    style.textContent = ${JSON.stringify(css)};
    document.head.appendChild(style);
    const d = window.driver.js.driver({ animate: false, allowClose: true });
    d.highlight({
      element: '#${TARGET_ID}',
      popover: {
        title: 'Start a new token',
        description: 'Press Create New Token. Rows named like "client | token" are older tokens made under an API client; they keep working.',
        side: 'bottom',
      },
    });
  }, { once: true });
})();
`;
}

/** Chromium without the extension, with the same flags and host mapping, for Driver.js. */
async function launchPlain(fixtures) {
  const { chromium } = await import('playwright-core');
  const profile = makeTempDir('bench-plain');
  const rules = fixtures.hosts.map((host) => `MAP ${host} 127.0.0.1:${fixtures.httpsPort}`).join(',');
  // The page's CSP governs the page's own scripts; Driver.js's style sheet comes in as a <style>,
  // which the CSP would refuse, so this browser alone ignores the CSP (the page has no inline script).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium',
    headless: false,
    ignoreHTTPSErrors: true,
    bypassCSP: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--ignore-certificate-errors', `--host-resolver-rules=${rules}`],
  });
  await context.addInitScript({ content: driverBootstrap() });
  return {
    context,
    async close() {
      await withTimeout(context.close(), 10_000, 'close chromium').catch(() => {});
      removeTempDir(profile);
    },
  };
}

// ---------------------------------------------------------------------------
// Measuring

/** Loads the page in `page` and returns ms from DOMContentLoaded to each of `names` painted. */
async function measure(page, names, { timeout = 15_000 } = {}) {
  await page.goto(PAGE, { waitUntil: 'domcontentloaded', timeout });
  const marks = await poll(
    () => page.evaluate((wanted) => {
      const b = window.__bench;
      if (!b || b.dcl === null || !wanted.every((n) => n in b.painted)) return null;
      return { dcl: b.dcl, painted: b.painted };
    }, names),
    { timeout, what: `${names.join(' and ')} painted` },
  ).catch(async (error) => {
    const seen = await page.evaluate(() => ({ bench: window.__bench, drawn: [...document.querySelectorAll('*')].filter((e) => e.localName.startsWith('keywarden-')).map((e) => `${e.localName} opacity ${getComputedStyle(e).opacity}`) })).catch(() => null);
    throw new Error(`${error.message}; the page saw ${JSON.stringify(seen)}`);
  });
  return Object.fromEntries(names.map((n) => [n, marks.painted[n] - marks.dcl]));
}

/**
 * Follows the extension's service worker through the DevTools protocol (its running status) and
 * stops it the way Chromium's own tests do, with ServiceWorker.stopAllWorkers.
 */
async function workerControl(kw, page) {
  const cdp = await kw.context.newCDPSession(page);
  const worker = { status: null, starts: 0 };
  let waiter = null;
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) {
      if (!v.scriptURL.startsWith(kw.extensionOrigin)) continue;
      const up = (st) => st === 'starting' || st === 'running';
      if (up(v.runningStatus) && !up(worker.status)) worker.starts++;
      worker.status = v.runningStatus;
      if (waiter && waiter.status === v.runningStatus) waiter.resolve();
    }
  });
  await cdp.send('ServiceWorker.enable');
  const until = (status) => {
    if (worker.status === status) return Promise.resolve();
    return withTimeout(new Promise((resolve) => { waiter = { status, resolve }; }), 10_000, `the service worker to be ${status}`);
  };
  return {
    worker,
    async stop() {
      await cdp.send('ServiceWorker.stopAllWorkers');
      await until('stopped');
    },
  };
}

/**
 * Loads that drew nothing within the time allowed are counted (shown as a figure of their own,
 * whose goal is none) and tried again, up to MAX_MISSED in all.
 */
const MAX_MISSED = 12;
const missed = [];
async function retried(what, fn) {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!/painted/.test(error.message) || missed.length >= MAX_MISSED) throw error;
      missed.push(what);
      console.log(`${what}: ${error.message}; loading again`);
    }
  }
}

async function main() {
  const site = makeSite();
  const fixtures = await startFixtures({ hostMap: { ...FIXTURE_HOSTS, [HOST]: site.dir } });
  let kw;
  let plain;
  const failures = [];
  try {
    console.log(`padded page: ${site.elements} elements (${site.rows} token rows); Driver.js ${DRIVER_VERSION}; ${RUNS} pairs after ${WARMUP} warm-up`);
    kw = await launchChromium(extensionDir('chromium'), fixtures);
    plain = await launchPlain(fixtures);
    // A fresh install opens the options page: let it settle, then close every extension page so
    // that nothing keeps the extension's process alive unless a figure asks for it.
    await sleep(1_500);
    for (const p of kw.context.pages()) {
      if (p.url().startsWith(kw.extensionOrigin)) await p.close();
    }
    // One idle tab in each browser, so neither starts a cold renderer for every load.
    const kwIdle = await kw.context.newPage();
    const plainIdle = plain.context.pages()[0] ?? (await plain.context.newPage());
    await kwIdle.goto('about:blank');
    await plainIdle.goto('about:blank');
    const kwTab = await kw.context.newPage();
    const plainTab = await plain.context.newPage();

    // DOMContentLoaded → painted, keywarden and Driver.js interleaved.
    const series = { highlight: [], panel: [], driverHighlight: [], driverPopover: [] };
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const a = await retried('keywarden, padded page', () => measure(kwTab, ['highlight', 'panel']));
      const b = await measure(plainTab, ['driverHighlight', 'driverPopover']);
      if (i < WARMUP) continue;
      series.highlight.push(a.highlight);
      series.panel.push(a.panel);
      series.driverHighlight.push(b.driverHighlight);
      series.driverPopover.push(b.driverPopover);
    }
    const padded = `PredictHQ token list of ${site.elements} elements`;
    figure({ id: 'overlay.highlight.keywarden', label: 'DOMContentLoaded → highlight painted, keywarden', unit: 'ms', ...spread(series.highlight), note: padded });
    figure({ id: 'overlay.highlight.driverjs', label: `DOMContentLoaded → highlight painted, Driver.js ${DRIVER_VERSION}`, unit: 'ms', ...spread(series.driverHighlight), note: 'animate: false' });
    figure({ id: 'overlay.highlight.ratio', label: 'highlight painted: keywarden ÷ Driver.js', unit: '×', goal: 1.0, ...ratio(series.highlight, series.driverHighlight), note: 'ratio of medians; min–max of the interleaved pairs' });
    figure({ id: 'overlay.panel.keywarden', label: 'DOMContentLoaded → step panel painted, keywarden', unit: 'ms', ...spread(series.panel), note: padded });
    figure({ id: 'overlay.panel.driverjs', label: `DOMContentLoaded → popover painted, Driver.js ${DRIVER_VERSION}`, unit: 'ms', ...spread(series.driverPopover) });
    figure({ id: 'overlay.panel.ratio', label: 'step panel vs Driver.js popover: keywarden ÷ Driver.js', unit: '×', goal: 1.5, ...ratio(series.panel, series.driverPopover), note: 'ratio of medians; min–max of the interleaved pairs' });

    // Worker stopped vs warm, interleaved; first with no extension page open (the extension's
    // process ends with its worker), then with one open (only the worker restarts).
    await kwTab.close();
    const control = await workerControl(kw, kwIdle);
    for (const withPage of [false, true]) {
      const extPage = withPage ? await kw.context.newPage() : null;
      if (extPage) await extPage.goto(`${kw.extensionOrigin}/popup.html`);
      const warm = [];
      const cold = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        // Each load in a tab of its own, closed right after: a vendor page left open would wake a
        // stopped worker again at once (its panel reconnects).
        const load = async () => {
          const tab = await kw.context.newPage();
          try {
            return (await measure(tab, ['highlight'])).highlight;
          } finally {
            await tab.close();
          }
        };
        await retried('warm worker', load); // wakes the worker if needed
        await sleep(300);
        const w = await retried('warm worker', load);
        const c = await retried('stopped worker', async () => {
          await control.stop();
          await sleep(300);
          if (control.worker.status !== 'stopped') throw new Error(`the service worker was woken (${control.worker.status}) before the vendor page loaded`);
          const starts = control.worker.starts;
          const ms = await load();
          // The highlight needs the worker's answer, so it started again; its status event may come a little later.
          await poll(() => control.worker.starts > starts, { timeout: 5_000, what: 'the stopped service worker to be reported started again' });
          return ms;
        });
        if (i < WARMUP) continue;
        warm.push(w);
        cold.push(c);
      }
      await extPage?.close();
      const suffix = withPage ? 'with_page' : 'no_page';
      const when = withPage ? 'an extension page open' : 'no extension page open';
      figure({ id: `overlay.cold_worker.${suffix}`, label: `worker stopped, ${when}: extra time to the highlight vs a warm worker`, unit: 'ms', goal: 50, ...difference(cold, warm), note: `cold median ${spread(cold).value.toFixed(1)} ms, warm ${spread(warm).value.toFixed(1)} ms; difference of medians, min–max of the pairs` });
    }
    figure({ id: 'overlay.missed', label: 'vendor page loads where keywarden drew nothing within 15 s', unit: 'loads', goal: 0, value: missed.length, note: missed.length ? missed.join('; ') : undefined });
  } catch (error) {
    failures.push(error);
  } finally {
    await kw?.close();
    await plain?.close();
    await fixtures.close();
    removeTempDir(site.dir);
  }
  if (failures.length) {
    for (const e of failures) console.error(`overlay.bench.mjs: ${e.stack || e.message}`);
    process.exitCode = 1;
  }
}

main();
