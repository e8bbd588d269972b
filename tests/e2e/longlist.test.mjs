// End-to-end check of a popup with more keys than it draws at once, in Chromium and Firefox: 100 rows first and a "Show N more" button that counts the rest, then every key after pressing it, with screenshots of the button in light and dark.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { KEYWARDEN_TOOL as TOOL, REPO_ROOT, STEP_TIMEOUT, sleep, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  chainedSteps,
  fill,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openPopup,
  pressControl,
  serveFixtures,
  waitForVault,
} from './flow.mjs';

const TEST = { timeout: 90_000 };
const CRYPTO_TIMEOUT = 60_000;
const SHOTS = path.join(REPO_ROOT, 'target', 'screenshots');
const PASSPHRASE = 'a long list of keys, one passphrase';
/** More than two batches of 100 rows, so the button shows up twice with different counts. */
const ENTRIES = 250;
/** The names `keywarden-tool vault-image` gives its generated entries. */
const ALL_NAMES = Array.from({ length: ENTRIES }, (_, i) => `integration ${i} nightly export`).sort();

const fixtures = serveFixtures();

/** The names of the rows the popup draws, in order, and its "Show more" button's text (null without one). */
function drawn(tab) {
  return tab.evaluate(() => ({
    rows: [...document.querySelectorAll('#entries li[data-entry-id] .name')].map((n) => n.textContent.trim()),
    ids: new Set([...document.querySelectorAll('#entries li[data-entry-id]')].map((li) => li.getAttribute('data-entry-id'))).size,
    more: document.querySelector('#show-more')?.textContent.replace(/\s+/g, ' ').trim() ?? null,
    moreIsButton: document.querySelector('#show-more')?.localName === 'button',
  }));
}

/** The index of the row whose details button has the focus, or -1. */
function focusedRow(tab) {
  return tab.evaluate(() => {
    const rows = [...document.querySelectorAll('#entries li[data-entry-id]')];
    const active = document.activeElement;
    return active?.matches('button.open') ? rows.indexOf(active.closest('li')) : -1;
  });
}

/** Waits until the popup draws `count` rows, and returns what it draws. */
async function waitForRows(tab, count, what) {
  await tab.waitFor((n) => document.querySelectorAll('#entries li[data-entry-id]').length === n, count, { what });
  return drawn(tab);
}

/** Presses the "Show N more" button with real input, found by its role and name. */
function pressShowMore(tab) {
  return pressControl(tab, 'button', /^Show \d+ more \(\d+ not shown\)$/);
}

/** A screenshot of the popup's view with the "Show more" button scrolled into it. */
async function shootButton(tab, name) {
  mkdirSync(SHOTS, { recursive: true });
  await tab.evaluate(() => document.querySelector('#show-more').scrollIntoView({ block: 'end' }));
  await sleep(100);
  await withTimeout(tab.page.screenshot({ path: path.join(SHOTS, `${name}.png`) }), 15_000, `screenshot ${name}`);
}

for (const name of BROWSERS) {
  describe(`${name}: popup with a long list`, () => {
    let browser;
    let options;
    let popup;
    const session = launchForSuite(name, fixtures, {
      async setup(launched) {
        browser = launched;
        options = await findOptionsTab(browser);
      },
    });
    const step = chainedSteps(() => session.ready(), TEST);

    step(`1. a vault of ${ENTRIES} keys, unlocked in the popup, draws the first 100 and a button that counts the rest`, async () => {
      // The storage image a vault of ENTRIES generated keys leaves, written through an extension page.
      const image = JSON.parse(execFileSync(TOOL, ['vault-image', String(ENTRIES), PASSPHRASE], { maxBuffer: 64 * 1024 * 1024 }).toString());
      await bringToFront(options);
      await options.evaluate(async (items) => {
        const ext = globalThis.browser ?? globalThis.chrome;
        await ext.storage.session.clear();
        await ext.storage.local.clear();
        await ext.storage.local.set(items);
      }, image);
      if (name === 'chromium') {
        popup = await openPopup(browser);
      } else {
        // The popup at the toolbar popup's width, in the extension tab (the driver cannot open moz-extension addresses).
        await withTimeout(options.page.setViewport({ width: 360, height: 640 }), STEP_TIMEOUT, 'viewport');
        await loadExtensionPage(options, 'popup.html');
        popup = options;
      }
      await waitForVault(popup, 'locked');
      await fill(popup, { label: 'Passphrase' }, PASSPHRASE);
      await popup.press('Enter');
      await waitForVault(popup, 'unlocked', { timeout: CRYPTO_TIMEOUT, also: (v) => v.entries.length > 0, what: 'with its list drawn' });
      const first = await waitForRows(popup, 100, 'the first 100 rows');
      assert.equal(first.ids, 100, 'each row a key of its own');
      assert.equal(first.more, `Show 100 more (${ENTRIES - 100} not shown)`);
      assert.ok(first.moreIsButton, 'the count is on a button');
      if (name === 'chromium') {
        for (const scheme of ['light', 'dark']) {
          await withTimeout(popup.page.emulateMedia({ colorScheme: scheme }), 5_000, `emulate ${scheme}`);
          assert.equal(await popup.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), scheme === 'dark');
          await shootButton(popup, `popup-show-more-${scheme}`);
        }
        await withTimeout(popup.page.emulateMedia({ colorScheme: 'light' }), 5_000, 'emulate light');
      } else {
        // BiDi cannot emulate the colour scheme: Firefox is shot in its default (light) one.
        await shootButton(popup, 'firefox-popup-show-more-light');
      }
    });

    step('2. each press draws the next 100, keeping the rows already drawn, until every key is listed', async () => {
      const before = await drawn(popup);
      await pressShowMore(popup);
      const second = await waitForRows(popup, 200, '200 rows after one press');
      assert.deepEqual(second.rows.slice(0, 100), before.rows, 'the first 100 rows stay, in their order');
      assert.equal(second.more, `Show ${ENTRIES - 200} more (${ENTRIES - 200} not shown)`);
      assert.equal(await focusedRow(popup), 100, 'the focus goes on to the first row added (the 101st), not back to the top');
      await pressShowMore(popup);
      const all = await waitForRows(popup, ENTRIES, `all ${ENTRIES} rows after a second press`);
      assert.deepEqual(all.rows.slice(0, 200), second.rows, 'the first 200 rows stay, in their order');
      assert.equal(all.more, null, 'no button once every key is drawn');
      assert.equal(all.ids, ENTRIES);
      assert.deepEqual([...all.rows].sort(), ALL_NAMES, 'every key of the vault, each once');
      assert.equal(await focusedRow(popup), 200, 'the focus goes on to the 201st row');
    });

    step('3. the popup opened again starts from 100 rows', async () => {
      if (name === 'chromium') {
        await loadExtensionPage(popup);
      } else {
        await loadExtensionPage(options, 'popup.html');
      }
      await waitForVault(popup, 'unlocked', { also: (v) => v.entries.length > 0 });
      const again = await waitForRows(popup, 100, 'the first 100 rows again');
      assert.equal(again.more, `Show 100 more (${ENTRIES - 100} not shown)`);
    });
  });
}
