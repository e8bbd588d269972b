// End-to-end checks of the clipboard that clears, in Chromium and Firefox: a key copied from the popup is cleared after the chosen delay with the popup closed (by the delay's timer, well before the 30 s fallback alarm), text copied since is left alone, "Clear clipboard now" empties it, and locking the vault takes keywarden's copy off the clipboard but leaves other text there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STEP_TIMEOUT, poll, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  byRole,
  chooseByRole,
  entryFor,
  fill,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openTab,
  pressControl,
  serveFixtures,
  setUpVault,
  vaultView,
  waitForVault,
  saveNewToken,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const PASSPHRASE = 'correct horse battery staple';
const OTHER_TEXT = 'copied by the admin after the key: not keywarden\'s to clear';
const DELAY_SECONDS = 10;
// The clipboard device's timer clears at the delay; the worker's alarm, no sooner than 30 s after
// the copy (Chrome's floor for alarms), makes good a lost timer. A clear must show by then.
const CLEARED_WITHIN = 40_000;
// A clear by the 10 s timer shows well before the alarm could have done it (30 s after the copy).
const TIMER_CLEARS_BEFORE = 25_000;
// Locking clears at once; this only bounds the wait (the clear delay is 30 s by then).
const LOCK_CLEARS_WITHIN = 10_000;
const TEST = { timeout: 120_000 };
/** The name of the options page's choice of delay, which its label gives it. */
const DELAY_CHOICE = 'Clear the clipboard after';
/** The name of the key the suite saves, which its Copy button in the popup names. */
const KEY_NAME = 'e2e clipboard';

const fixtures = serveFixtures();


/** The text of the page's status line. */
async function status(tab) {
  return (await vaultView(tab)).status;
}

/** Waits until the status line matches `pattern` and returns it. */
async function waitForStatus(tab, pattern, what) {
  let last = '';
  try {
    return await poll(async () => {
      last = await status(tab);
      return pattern.test(last) ? last : null;
    }, { what });
  } catch (error) {
    throw new Error(`${error.message}; #page-status said ${JSON.stringify(last)}`);
  }
}

/**
 * Chooses the clipboard delay in the options page (0: never) as an admin does, and waits until it
 * is saved.
 */
async function chooseDelay(options, seconds) {
  await bringToFront(options);
  await loadExtensionPage(options, 'options.html');
  await chooseByRole(options, DELAY_CHOICE, String(seconds), { under: 'Clipboard' });
  await waitForStatus(options, /^Saved:/, 'the saved clipboard delay in #page-status');
  await loadExtensionPage(options);
  const kept = await byRole(options, 'combobox', DELAY_CHOICE, { under: 'Clipboard' });
  assert.equal(await options.evaluate((sel) => document.querySelector(sel).value, kept), String(seconds), 'the choice is kept');
}

/** The clipboard's text, read in an extension page (which has the clipboardRead permission). */
function readClipboard(tab) {
  return tab.evaluate(() => navigator.clipboard.readText());
}

function writeClipboard(tab, text) {
  return tab.evaluate((t) => navigator.clipboard.writeText(t), text);
}

/** The pending clear the worker keeps in storage.session (a digest and a time), or null. */
function pendingClear(tab) {
  return tab.evaluate(async () => {
    const ext = globalThis.browser ?? globalThis.chrome;
    return (await ext.storage.session.get('clipboard')).clipboard ?? null;
  });
}

for (const name of BROWSERS) {
  describe(`${name}: clipboard`, () => {
    let browser;
    let options;
    let vendor;
    let token;
    let brokenAt = null;

    const { ready } = launchForSuite(name, fixtures, {
      async setup(launched) {
        browser = launched;
        if (browser.name === 'chromium') await browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
        options = await findOptionsTab(browser);
        vendor = await openTab(browser);
      },
    });

    const step = (title, opts, fn) =>
      it(title, opts, async (t) => {
        ready();
        if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
        try {
          await fn(t);
        } catch (error) {
          brokenAt = title;
          throw error;
        }
      });

    /**
     * Opens the popup as a page, presses Copy beside the saved token and returns what the popup
     * said, then closes it: Chromium closes the popup's tab; in Firefox (whose driver cannot open
     * extension addresses) the popup was loaded into the options tab, which goes back to the
     * options page, so the popup's document is gone either way. `beforeClose(popup)` runs first.
     */
    async function copyFromPopup(beforeClose = async () => {}) {
      return (await copyFromPopupAt(beforeClose)).said;
    }

    /** Like `copyFromPopup`, also returning when Copy was pressed (`copiedAt`, ms since the epoch). */
    async function copyFromPopupAt(beforeClose = async () => {}) {
      let popup;
      if (browser.name === 'chromium') {
        popup = await openTab(browser);
        await popup.goto(`${browser.extensionOrigin}/popup.html`);
      } else {
        popup = options;
        await loadExtensionPage(options, 'popup.html');
      }
      try {
        await bringToFront(popup);
        const view = await waitForVault(popup, 'unlocked', { also: (v) => v.entries.length === 1 });
        const entry = entryFor(view.entries, token);
        await byRole(popup, 'button', 'Clear clipboard now');
        await writeClipboard(popup, 'placed by the test before Copy');
        // Found first, so that the time taken is the press only.
        await byRole(popup, 'button', `Copy ${KEY_NAME}`);
        const copiedAt = Date.now();
        const copy = await pressControl(popup, 'button', `Copy ${KEY_NAME}`);
        const inRow = ([sel, id]) => document.querySelector(sel).closest('li[data-entry-id]')?.getAttribute('data-entry-id') === id;
        assert.ok(await popup.evaluate(inRow, [copy, entry.id]), `Copy ${KEY_NAME} is the button of the saved token's row`);
        const said = await popup.waitFor(
          (css) => document.querySelector(css)?.parentElement.querySelector('.toast')?.textContent || null,
          copy,
          { what: 'the toast beside Copy' },
        );
        assert.equal(await readClipboard(popup), token, 'the clipboard holds the token right after Copy');
        await beforeClose(popup);
        return { said, copiedAt };
      } finally {
        if (browser.name === 'chromium') await withTimeout(popup.page.close(), STEP_TIMEOUT, 'close popup tab').catch(() => {});
        else await loadExtensionPage(options, 'options.html');
        await bringToFront(options);
      }
    }

    step('1. sets the vault up, saves a token, and chooses a 10 s delay', TEST, async () => {
      await setUpVault(options, PASSPHRASE);
      token = await saveNewToken(vendor, KEY_NAME);
      await bringToFront(options);
      await loadExtensionPage(options);
      // The clipboard section is drawn after the vault section, from a reply of its own.
      const choice = await byRole(options, 'combobox', DELAY_CHOICE, { within: { role: 'region', name: 'Clipboard' } });
      const select = await options.evaluate((sel) => {
        const s = document.querySelector(sel);
        const label = s && document.querySelector(`label[for="${s.id}"]`);
        return s && { value: s.value, label: label?.textContent.trim(), choices: [...s.options].map((o) => o.textContent.trim()) };
      }, choice);
      assert.deepEqual(select, {
        value: '30',
        label: 'Clear the clipboard after',
        choices: ['Never', '10 seconds', '30 seconds', '1 minute', '2 minutes', '5 minutes'],
      }, 'the options page has a labelled delay choice, 30 s by default');
      await chooseDelay(options, DELAY_SECONDS);
    });

    step('2. a key copied from the popup is cleared after the delay, with the popup closed', TEST, async (t) => {
      const { said, copiedAt } = await copyFromPopupAt();
      assert.match(said, /^Copied — clears in 10 s/);
      const pending = await pendingClear(options);
      assert.ok(pending && /^[0-9a-f]{64}$/.test(pending.digest), `the worker keeps a digest (${JSON.stringify(pending)})`);
      assert.ok(!JSON.stringify(pending).includes(token), 'and not the token');
      let last;
      await poll(async () => {
        last = await readClipboard(options);
        return last === '';
      }, { timeout: CLEARED_WITHIN, what: 'the clipboard to be cleared' }).catch((error) => {
        throw new Error(`${error.message}; it still held ${last === token ? 'the token' : JSON.stringify(last)}`);
      });
      // Only the device's 10 s timer clears this early: the worker's fallback alarm fires no
      // sooner than 30 s after the copy.
      const clearedAfter = Date.now() - copiedAt;
      t.diagnostic(`cleared ${clearedAfter} ms after Copy`);
      assert.ok(clearedAfter < TIMER_CLEARS_BEFORE, `cleared ${clearedAfter} ms after Copy: the 10 s timer did not run, the 30 s alarm did`);
      assert.ok(clearedAfter >= (DELAY_SECONDS - 1) * 1_000, `cleared ${clearedAfter} ms after Copy, before the 10 s chosen`);
    });

    step('3. text the admin copies after the key is left on the clipboard', TEST, async () => {
      await copyFromPopup();
      await bringToFront(options);
      await writeClipboard(options, OTHER_TEXT);
      // The worker drops its record when its alarm has had the clear done, after the device's timer.
      await poll(async () => (await pendingClear(options)) === null, {
        timeout: CLEARED_WITHIN,
        what: 'the pending clear to be done',
      });
      assert.equal(await readClipboard(options), OTHER_TEXT, 'the clipboard still holds what was copied after the key');
    });

    step('4. "Clear clipboard now" in the popup empties the clipboard (with the delay set to never)', TEST, async () => {
      await chooseDelay(options, 0);
      const said = await copyFromPopup(async (popup) => {
        await pressControl(popup, 'button', 'Clear clipboard now');
        await waitForStatus(popup, /Clipboard cleared\.|did not|not answer/, 'the clear message in #page-status');
        assert.equal(await status(popup), 'Clipboard cleared.');
        assert.equal(await readClipboard(popup), '', 'the clipboard is empty');
      });
      assert.equal(said, 'Copied', 'with never, no clear is promised');
      assert.equal(await pendingClear(options), null, 'nothing is pending with never');
    });

    /** Presses the popup's Lock and waits for its lock screen. */
    async function lockInPopup(popup) {
      await pressControl(popup, 'button', 'Lock');
      await waitForVault(popup, 'locked');
    }

    /** Unlocks the vault again in the options page. */
    async function unlockInOptions() {
      await bringToFront(options);
      await loadExtensionPage(options, 'options.html');
      await waitForVault(options, 'locked');
      await fill(options, { label: 'Passphrase' }, PASSPHRASE);
      await pressControl(options, 'button', 'Unlock');
      await waitForVault(options, 'unlocked', { timeout: 30_000 });
    }

    step('5. locking the vault from the popup takes keywarden\'s copy off the clipboard at once', TEST, async (t) => {
      await chooseDelay(options, 30);
      let cleared;
      await copyFromPopup(async (popup) => {
        const lockedAt = Date.now();
        await lockInPopup(popup);
        let last;
        await poll(async () => {
          last = await readClipboard(popup);
          return last === '';
        }, { timeout: LOCK_CLEARS_WITHIN, what: 'the clipboard to be cleared by the lock' }).catch((error) => {
          throw new Error(`${error.message}; it still held ${last === token ? 'the token' : JSON.stringify(last)}`);
        });
        cleared = Date.now() - lockedAt;
      });
      t.diagnostic(`cleared ${cleared} ms after Lock`);
      assert.ok(cleared < LOCK_CLEARS_WITHIN, `cleared ${cleared} ms after Lock, long before the 30 s delay`);
      assert.equal(await pendingClear(options), null, 'no clear is left pending after the lock');
      await unlockInOptions();
    });

    step('6. locking leaves text the admin copied after the key on the clipboard', TEST, async () => {
      await copyFromPopup(async (popup) => {
        await writeClipboard(popup, OTHER_TEXT);
        await lockInPopup(popup);
        // The lock's clear, if it wrongly happened, is done by the time the worker dropped its record.
        await poll(async () => (await pendingClear(popup)) === null, { what: 'the pending clear to be dropped by the lock' });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.equal(await readClipboard(popup), OTHER_TEXT, 'the other text is still there after the lock');
      });
      await unlockInOptions();
    });
  });
}
