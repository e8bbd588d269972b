// Live-page cost of the content script in Chromium, and the long-page check: prints `@figure` lines (`node tests/e2e/bench/live.bench.mjs` after `./build.sh`).
//
// Two Chromium instances load the PredictHQ token-list fixture padded by `?pad=N&above=0` (N more
// tokens in the list under "Create New Token", so the step panel is drawn) under its real host name: one
// with the built extension, one without. In rounds, one visible text of each page changes (the
// extension's side first, then the anchor's, alternating the order every round) and the renderer's
// main-thread busy time (the DevTools protocol's Performance metric `TaskDuration`) is read over
// the WINDOW_MS that follow; the content script describes, reports and draws within that window.
// The extra time per change is the median over rounds of (with − without). A separate load with
// 2,000 rows above and below the controls checks which element the walkthrough highlights.
import { extensionDir, launchChromium, sleep, startFixtures, withTimeout } from '../harness.mjs';

const RUNS = Math.max(15, Number(process.env.KEYWARDEN_BENCH_RUNS) || 17);
const WARMUP = 3;
const WINDOW_MS = 500;
// Tokens of padding: about 10,000 elements in the page, as in the measurement.
const PAD = Number(process.env.KEYWARDEN_BENCH_PAD) || 900;
const LONG_PAD = 2000;
const APP = 'https://control.predicthq.com';

const figure = (f) => console.log(`@figure ${JSON.stringify(f)}`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** A page of `browser` on the padded token list, settled, with a CDP session reading its metrics. */
async function openPadded(browser, pad, { extension }) {
  // An idle tab keeps the renderer process warm on both sides alike.
  const idle = await browser.context.newPage();
  await idle.goto('about:blank');
  const page = await browser.context.newPage();
  await withTimeout(page.goto(`${APP}/tokens?state=list&pad=${pad}&above=0`, { waitUntil: 'load' }), 30_000, 'load the padded page');
  await page.waitForFunction((n) => [...document.querySelectorAll('td')].some((td) => td.textContent === `ingest-${String(n - 1).padStart(4, '0')}`), pad, { timeout: 30_000 });
  // The walkthrough's first draw (none where the page is not recognized as a key page).
  if (extension) await page.waitForSelector('keywarden-highlight', { state: 'attached', timeout: 10_000 }).catch(() => {});
  // The text that changes: a sync status beside the toolbar's button, added before measuring.
  await page.evaluate(() => {
    const status = document.createElement('span');
    status.id = 'bench-status';
    status.textContent = 'Synced just now';
    document.querySelector('.toolbar').append(status);
  });
  await sleep(2_000);
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const size = await page.evaluate(() => {
    let nodes = 0;
    const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
    while (walker.nextNode()) nodes += 1;
    return { elements: document.getElementsByTagName('*').length, nodes };
  });
  return { page, cdp, size };
}

async function busy(side) {
  const { metrics } = await side.cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'TaskDuration').value * 1000;
}

/** Main-thread time of one text change and the WINDOW_MS after it. */
async function change(side, n) {
  const before = await busy(side);
  await side.page.evaluate((i) => { document.getElementById('bench-status').textContent = `Synced ${i} s ago`; }, n);
  await sleep(WINDOW_MS);
  return (await busy(side)) - before;
}

/** Which element the walkthrough highlights on a page with 2,000 rows above and below the controls. */
async function longPage(browser) {
  const page = await browser.context.newPage();
  await withTimeout(page.goto(`${APP}/tokens?state=list&pad=${LONG_PAD}`, { waitUntil: 'load' }), 30_000, 'load the long page');
  await page.waitForFunction((n) => [...document.querySelectorAll('td')].some((td) => td.textContent === `ingest-${n - 1}`), LONG_PAD, { timeout: 30_000 }).catch(() => {});
  const found = await page.waitForFunction(() => {
    const ring = document.querySelector('keywarden-highlight')?.getBoundingClientRect();
    if (!ring || ring.width === 0) return null;
    const inside = [...document.querySelectorAll('button, a')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.left >= ring.left - 1 && r.right <= ring.right + 1 && r.top >= ring.top - 1 && r.bottom <= ring.bottom + 1;
    });
    return inside.map((el) => `${el.tagName.toLowerCase()} "${el.textContent.trim()}"`).join(', ') || 'nothing';
  }, null, { timeout: 20_000 }).then((h) => h.jsonValue(), () => 'no highlight');
  await page.close();
  return found;
}

async function main() {
  const fixtures = await startFixtures();
  const withExt = await launchChromium(extensionDir('chromium'), fixtures);
  const anchor = await launchChromium(null, fixtures, { extension: false });
  try {
    const a = await openPadded(withExt, PAD, { extension: true });
    const b = await openPadded(anchor, PAD, { extension: false });
    const extra = [];
    const own = [];
    const withMs = [];
    for (let r = 0; r < WARMUP + RUNS; r += 1) {
      let x;
      let y;
      if (r % 2) { y = await change(b, r); x = await change(a, r); } else { x = await change(a, r); y = await change(b, r); }
      if (r < WARMUP) continue;
      extra.push(x - y);
      own.push(y);
      withMs.push(x);
    }
    const perChange = median(extra);
    const pageOwn = median(own);
    const mean = extra.reduce((s, v) => s + v, 0) / extra.length;
    const where = `PredictHQ token list padded to ${a.size.elements} elements (${a.size.nodes} nodes), one text change per ${WINDOW_MS} ms window`;
    figure({
      id: 'live.content_script_per_change',
      label: 'live page, one text change: extra main-thread time of the content script',
      value: round(perChange), unit: 'ms', goal: 2, min: round(Math.min(...extra)), max: round(Math.max(...extra)), runs: extra.length,
      note: `${where}; page's own ${round(pageOwn)} ms per change (with the extension ${round(median(withMs))} ms), ${round(perChange / pageOwn)}× the page's own; mean extra ${round(mean)} ms`,
    });
    figure({
      id: 'live.content_script_share',
      label: 'live page: share of the main thread taken by the content script',
      value: round((100 * mean) / WINDOW_MS), unit: '%', goal: 5, runs: extra.length,
      note: `mean extra time per change over each ${WINDOW_MS} ms window`,
    });
    const highlighted = await longPage(withExt);
    const ok = /^button "Create New Token"$/.test(highlighted);
    figure({
      id: 'long_page.highlight',
      label: `long page (${LONG_PAD} rows above and below the controls): the walkthrough highlights Create New Token`,
      value: ok ? 1 : 0, unit: 'pass', goal: 1, better: 'higher',
      note: `highlighted: ${highlighted}`,
    });
  } finally {
    await withExt.close();
    await anchor.close();
    await fixtures.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
