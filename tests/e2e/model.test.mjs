// One page model, one truth: the content script itself (extension/content.js) reads every saved recognition case under tests/data/pages/<vendor>/ in a real browser, and must report exactly the golden model beside it, which the native rules are held to as well (tests/cases.rs).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, withTimeout } from './harness.mjs';
import { BROWSERS, findOptionsTab, launchForSuite, openTab, serveFixtures } from './flow.mjs';

const PAGES = path.join(REPO_ROOT, 'tests', 'data', 'pages');
const CONTENT = readFileSync(path.join(REPO_ROOT, 'extension', 'content.js'), 'utf8');
const TEST = { timeout: 180_000 };

/** Every case with its HTML and golden model, in a stable order. */
function cases() {
  const out = [];
  for (const vendor of readdirSync(PAGES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const file of readdirSync(path.join(PAGES, vendor)).filter((f) => f.endsWith('.html')).sort()) {
      const base = path.join(PAGES, vendor, file);
      out.push({
        name: `${vendor}/${file}`,
        html: readFileSync(base, 'utf8'),
        golden: JSON.parse(readFileSync(base.replace(/\.html$/, '.model.json'), 'utf8')),
      });
    }
  }
  return out;
}

/**
 * In the page: an extension API that only records what the content script sends, so its first
 * report (sent as soon as it loads) can be read back. The page has no server behind it and nothing
 * else answers there; the script under test is the shipped file, unchanged.
 */
const STUB = `(() => {
  globalThis.keywardenSent = [];
  globalThis.chrome = {
    runtime: {
      id: 'model-test',
      sendMessage(message) { globalThis.keywardenSent.push(message); return Promise.resolve(undefined); },
      onMessage: { addListener() {} },
      getURL: (p) => p,
    },
    i18n: { getMessage: () => '' },
  };
})()`;

/** JSON with sorted keys, so two equal elements print alike. */
function canonical(value) {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** The page model content.js reports for `html`, read in `tab`. */
async function reported(tab, html) {
  // A document with no server behind it, so no CSP governs its inline styles: a data: document in
  // Chromium (where Playwright's setContent races the page's own load), the blank page written
  // over in Firefox (whose WebDriver BiDi refuses top-level data: navigations).
  // The long cases are up to 0.9 MB (2.7 MB as a data: URL): their loads get a longer bound.
  const load = html.length > 200_000 ? 40_000 : 10_000;
  if (tab.kind === 'chromium') {
    await withTimeout(tab.page.goto(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`), load, 'load the page');
  } else {
    await withTimeout(tab.page.goto('about:blank'), 10_000, 'about:blank');
    await withTimeout(tab.page.setContent(html), load, 'write the page');
  }
  await withTimeout(tab.page.evaluate(STUB), 5_000, 'stub');
  await withTimeout(tab.page.evaluate(CONTENT), 5_000, 'content script');
  const sent = await withTimeout(tab.page.evaluate('globalThis.keywardenSent'), 5_000, 'read reports');
  const report = sent.find((m) => m?.body?.type === 'report');
  assert.ok(report, 'the content script reports the page as it loads');
  return report.body.page;
}

const fixtures = serveFixtures();

for (const name of ['chromium', 'firefox']) {
  describe(`${name}: the content script reports the golden page models`, { skip: !BROWSERS.includes(name) }, () => {
    let tab;
    const session = launchForSuite(name, fixtures, {
      async setup(browser) {
        // The options page keywarden opens on install would take over a tab opened before it.
        await findOptionsTab(browser);
        tab = await openTab(browser);
      },
    });

    it('every saved case reads the same in the browser as in its golden model', TEST, async () => {
      session.ready();
      const all = cases();
      assert.ok(all.length >= 32, `at least 8 cases per vendor, found ${all.length}`);
      const wrong = [];
      for (const c of all) {
        const page = await reported(tab, c.html).catch((error) => {
          throw new Error(`${c.name}: ${error.message}`);
        });
        const got = { title: page.title, elements: page.elements };
        const want = { title: c.golden.title, elements: c.golden.elements };
        try {
          assert.deepStrictEqual(got, want);
        } catch {
          const at = want.elements.findIndex((e, i) => canonical(e) !== canonical(got.elements[i]));
          wrong.push(`${c.name}: ${got.elements.length} elements (golden ${want.elements.length}); first difference at `
            + `${at}: got ${canonical(got.elements[at])}, golden ${canonical(want.elements[at])}`
            + (got.title === want.title ? '' : `; title ${JSON.stringify(got.title)} vs ${JSON.stringify(want.title)}`));
        }
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${all.length} pages read differently:\n${wrong.join('\n')}`);
    });
  });
}
