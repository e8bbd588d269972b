// End-to-end checks of the popup in Chromium and Firefox, driven by role and accessible name: the empty state, search, this site's keys first, copy, the detail view with rename, notes, revoke, reveal, delete and undo across a reopened popup, and the lock screen.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, STEP_TIMEOUT, poll, withTimeout } from './harness.mjs';
import {
  expectAccessible,
  BROWSERS,
  bringToFront,
  byLabel,
  byRole,
  fill,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openTab,
  pressControl,
  serveFixtures,
  setUpVault,
  waitForVault,
  saveNewToken,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const PASSPHRASE = 'correct horse battery staple';
const WRONG_PASSPHRASE = 'incorrect horse battery staple';
const TEST = { timeout: 60_000 };
const CRYPTO_TIMEOUT = 30_000;
const SHOTS = path.join(REPO_ROOT, 'target', 'screenshots');

const fixtures = serveFixtures();

// ---------------------------------------------------------------------------
// What the popup shows

/** The keys the popup lists: per group its heading and the rows' names, in order. */
function listed(tab) {
  return tab.evaluate(() => {
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    return [...document.querySelectorAll('#entries .group')].map((g) => ({
      heading: norm([...(g.querySelector('h2')?.querySelectorAll('span') ?? [])].map((s) => s.textContent).join(' ')),
      vendor: g.getAttribute('data-vendor'),
      rows: [...g.querySelectorAll('li[data-entry-id] .name')].map((n) => norm(n.textContent)),
    }));
  });
}

/** The detail view's fields, by label. */
function detailFields(tab) {
  return tab.evaluate(() => {
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    return Object.fromEntries([...document.querySelectorAll('#detail .fields .field')].map((f) => [norm(f.querySelector('dt').textContent), norm(f.querySelector('dd').textContent)]));
  });
}

function inPage(tab, secret) {
  return tab.evaluate((s) => document.documentElement.outerHTML.includes(s) || [...document.querySelectorAll('input, textarea')].some((f) => f.value.includes(s)), secret);
}

/**
 * Checks the popup's state `name` with axe-core in the light and the dark scheme (none may have a
 * violation), and writes its screenshot in each: target/screenshots/<browser>-<name>[-dark].png.
 */
async function screenshot(tab, name) {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${tab.kind}-${name}.png`);
  // Firefox's driver cannot switch the scheme of one page (look.test.mjs starts a browser per
  // scheme there): its popup is checked in the scheme it was started with.
  const switchable = typeof tab.page.emulateMedia === 'function';
  for (const scheme of switchable ? ['light', 'dark'] : ['light']) {
    if (switchable) await withTimeout(tab.page.emulateMedia({ colorScheme: scheme }), 5_000, `emulate ${scheme}`);
    await expectAccessible(tab, `the popup, ${name} (${scheme})`);
    const element = await withTimeout(tab.page.$('body'), STEP_TIMEOUT, 'find body');
    const shot = scheme === 'light' ? file : file.replace(/\.png$/, '-dark.png');
    await withTimeout(element.screenshot({ path: shot }), STEP_TIMEOUT, `screenshot ${name}`);
  }
  if (switchable) await withTimeout(tab.page.emulateMedia({ colorScheme: 'light' }), 5_000, 'emulate light');
  return file;
}

// ---------------------------------------------------------------------------


for (const name of BROWSERS) {
  describe(`${name}: popup`, () => {
    let browser;
    let options;
    let vendor;
    let popup;
    const tokens = {};
    let brokenAt = null;

    const { ready } = launchForSuite(name, fixtures, {
      async setup(launched) {
        browser = launched;
        options = await findOptionsTab(browser);
        vendor = await openTab(browser);
      },
    });

    const step = (title, opts, fn) =>
      it(title, opts, async () => {
        ready();
        if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
        try {
          await fn();
        } catch (error) {
          brokenAt = title;
          throw error;
        }
      });

    /**
     * Opens popup.html as a page while `active` stays the active tab (so the popup sees that
     * tab's site). Chromium: a tab of its own, opened behind. Firefox: the options tab goes to
     * popup.html (its driver cannot open moz-extension addresses).
     */
    async function openPopup(active = vendor) {
      if (browser.name === 'chromium') {
        if (!popup) {
          popup = await openTab(browser);
          await popup.goto(`${browser.extensionOrigin}/popup.html`);
        }
        await bringToFront(active);
        await loadExtensionPage(popup);
        return popup;
      }
      await bringToFront(active);
      await loadExtensionPage(options, 'popup.html');
      // Keys go to the tab in front; the popup has read which tab was active when it loaded.
      await bringToFront(options);
      popup = options;
      return popup;
    }

    /** Closes the popup (Chromium: its tab; Firefox: the tab goes back to the options page). */
    async function closePopup() {
      if (browser.name === 'chromium') {
        await withTimeout(popup.page.close(), STEP_TIMEOUT, 'close popup').catch(() => {});
      } else {
        await loadExtensionPage(options, 'options.html');
      }
      popup = null;
    }

    step('1. with a vault and no keys, the popup lists the vendors with the way to each key page', { timeout: 90_000 }, async () => {
      await setUpVault(options, PASSPHRASE);
      const tab = await openPopup(vendor);
      await waitForVault(tab, 'unlocked');
      await byRole(tab, 'heading', 'No keys saved yet');
      const links = await tab.evaluate(() =>
        [...document.querySelectorAll('#vendor-links li')].map((li) => ({
          vendor: li.getAttribute('data-vendor'),
          href: li.querySelector('a')?.getAttribute('href') ?? null,
          text: li.textContent.replace(/\s+/g, ' ').trim(),
        })),
      );
      const by = Object.fromEntries(links.map((l) => [l.vendor, l]));
      assert.deepEqual(Object.keys(by).sort(), ['gotransverse', 'planningspace', 'predicthq', 'predictiveindex']);
      assert.equal(by.predicthq.href, 'https://control.predicthq.com/tokens');
      assert.equal(by.predictiveindex.href, 'https://app.predictiveindex.com/');
      assert.match(by.gotransverse.text, /gotransverse\.com/);
      await byRole(tab, 'link', 'PredictHQ');
      await byRole(tab, 'button', 'Add your server in Settings', { within: '#vendor-links li[data-vendor="planningspace"]' });
      await screenshot(tab, 'empty');
      await closePopup();
    });

    step('2. this site\'s keys come first, newest first, and the search filters as the admin types', TEST, async () => {
      tokens.alpha = await saveNewToken(vendor, 'e2e alpha');
      tokens.bravo = await saveNewToken(vendor, 'e2e bravo');
      let tab = await openPopup(vendor);
      await waitForVault(tab, 'unlocked', { also: (v) => v.entries.length === 2 });
      let groups = await listed(tab);
      assert.equal(groups.length, 1, JSON.stringify(groups));
      assert.match(groups[0].heading, /^PredictHQ This site · control\.predicthq\.com$/);
      assert.deepEqual(groups[0].rows, ['e2e bravo', 'e2e alpha'], 'newest first');
      assert.match(await tab.evaluate(() => document.querySelector('#tab-state')?.textContent ?? ''), /PredictHQ/, 'the tab line names the vendor');

      const search = await byRole(tab, 'searchbox', 'Search keys');
      await tab.type(search, 'alp');
      const filtered = await poll2(tab, (g) => g.length === 1 && g[0].rows.length === 1);
      assert.deepEqual(filtered[0].rows, ['e2e alpha'], 'typing filters at once');
      const focused = (sel) => document.activeElement === document.querySelector(sel);
      assert.ok(await tab.evaluate(focused, search), 'the search box keeps the focus while the list changes');
      await tab.type(search, 'zzz');
      await tab.waitFor(() => document.querySelector('#no-match')?.textContent ?? null, null, { what: 'the no-match line' });
      await screenshot(tab, 'no-match');
      await fill(tab, { role: 'searchbox', name: 'Search keys' }, 'events');
      const byScope = await poll2(tab, (g) => g.length === 1);
      assert.deepEqual(byScope[0].rows.sort(), ['e2e alpha', 'e2e bravo'], 'scopes are searched too');
      await fill(tab, { role: 'searchbox', name: 'Search keys' }, '');
      await screenshot(tab, 'list');

      // Seen from another tab, the same keys are a PredictHQ group, not "this site".
      await closePopup();
      const other = await openTab(browser);
      try {
        tab = await openPopup(browser.name === 'chromium' ? other : options);
        await waitForVault(tab, 'unlocked', { also: (v) => v.entries.length === 2 });
        groups = await listed(tab);
        assert.deepEqual(groups.map((g) => g.heading), ['PredictHQ control.predicthq.com']);
        await closePopup();
      } finally {
        await withTimeout(other.page.close(), STEP_TIMEOUT, 'close tab').catch(() => {});
      }
    });

    step('3. Copy puts the key on the clipboard and says so beside the button', TEST, async () => {
      if (name === 'chromium') await browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
      const tab = await openPopup(vendor);
      await waitForVault(tab, 'unlocked', { also: (v) => v.entries.length === 2 });
      const copy = await pressControl(tab, 'button', 'Copy e2e alpha');
      const toast = await tab.waitFor(
        (sel) => document.querySelector(sel)?.parentElement.querySelector('.toast')?.textContent || null,
        copy,
        { what: 'the toast beside Copy' },
      );
      assert.match(toast, /^Copied( — clears in \d+ s)?$/);
      if (name === 'chromium') assert.equal(await tab.evaluate(() => navigator.clipboard.readText()), tokens.alpha);
      assert.equal(await inPage(tab, tokens.alpha), false, 'the key is not in the popup');
    });

    step('4. the detail view shows every field; rename, notes and revoke are kept', TEST, async () => {
      const tab = popup;
      await pressControl(tab, 'button', /^Details of e2e alpha/);
      await byRole(tab, 'region', 'e2e alpha');
      const fields = await detailFields(tab);
      assert.equal(fields.Vendor, 'PredictHQ');
      assert.equal(fields['Server / tenant'], 'control.predicthq.com');
      assert.equal(fields['Key name'], 'e2e alpha');
      assert.match(fields.Scopes, /Events/);
      assert.equal(fields['Captured on'], 'https://control.predicthq.com/tokens');
      assert.equal(fields.State, 'Active');
      assert.equal(fields.Notes, '—');
      assert.equal(fields['Last test'], 'Not tested yet');
      assert.match(fields.Created, /\d/);
      const back = await byRole(tab, 'button', 'All keys');
      assert.ok(await tab.evaluate((sel) => document.activeElement === document.querySelector(sel), back), 'the focus moves to Back');
      await screenshot(tab, 'detail');

      await fill(tab, { role: 'textbox', name: 'Name' }, 'e2e renamed');
      await pressControl(tab, 'button', 'Rename');
      await byRole(tab, 'region', 'e2e renamed');
      await fill(tab, { role: 'textbox', name: 'Notes' }, 'rotate in May');
      await pressControl(tab, 'button', 'Save notes');
      await tab.waitFor(() => document.querySelector('#detail [data-field="notes"] dd')?.textContent === 'rotate in May', null, { what: 'the saved notes' });
      await pressControl(tab, 'button', 'Mark revoked');
      await tab.waitFor(() => document.querySelector('#detail [data-field="state"] dd')?.textContent === 'Revoked', null, { what: 'state Revoked' });
      await pressControl(tab, 'button', 'Mark active again');
      await tab.waitFor(() => document.querySelector('#detail [data-field="state"] dd')?.textContent === 'Active', null, { what: 'state Active' });

      // Kept in the vault: a reopened popup shows the same.
      await closePopup();
      const again = await openPopup(vendor);
      await waitForVault(again, 'unlocked', { also: (v) => v.entries.length === 2 });
      await pressControl(again, 'button', /^Details of e2e renamed/);
      const kept = await detailFields(again);
      assert.equal(kept['Key name'], 'e2e renamed');
      assert.equal(kept.Notes, 'rotate in May');
      assert.equal(kept.State, 'Active');
    });

    step('5. Reveal shows the key in the popup only until Hide', TEST, async () => {
      const tab = popup;
      assert.equal(await inPage(tab, tokens.alpha), false);
      await pressControl(tab, 'button', 'Reveal');
      await tab.waitFor((t) => document.querySelector('#secret-value')?.textContent === t, tokens.alpha, { what: 'the revealed key' });
      // The button is named by what it does next; it has no pressed state as well ("Hide, pressed").
      assert.equal(await tab.evaluate((sel) => document.querySelector(sel).getAttribute('aria-pressed'), await byRole(tab, 'button', 'Hide')), null);
      await pressControl(tab, 'button', 'Hide');
      await tab.waitFor(() => document.querySelector('#secret-value')?.getAttribute('data-revealed') === 'false', null, { what: 'the key masked again' });
      assert.equal(await inPage(tab, tokens.alpha), false, 'hidden: the key left the page');
      assert.match(await tab.evaluate(() => document.querySelector('#secret-value').textContent), /^•••• .{4}$/);
    });

    step('6. Delete can be undone, also after the popup was closed and opened again', TEST, async () => {
      const tab = popup;
      await pressControl(tab, 'button', 'Delete');
      await waitForVault(tab, 'unlocked', { also: (v) => v.entries.length === 1 });
      await byRole(tab, 'button', 'Undo deleting e2e renamed');
      // The bar counts the seconds down; the count is a timer, which screen readers read when
      // asked but do not announce at each tick; the deletion is said once, in the status line.
      await tab.evaluate(() => {
        window.keywardenLiveChanges = [];
        const live = '[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]';
        new MutationObserver((records) => {
          for (const r of records) {
            const el = r.target.nodeType === Node.ELEMENT_NODE ? r.target : r.target.parentElement;
            if (el?.closest(live)) window.keywardenLiveChanges.push(el.closest(live).id || el.closest(live).className);
          }
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      const undoBar = () => tab.evaluate(() => {
        const live = '[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"]';
        const bar = document.querySelector('.undo-bar');
        const timer = bar?.querySelector('[role="timer"]');
        const button = bar?.querySelector('button');
        return bar && {
          text: bar.querySelector('.undo-what')?.textContent.replace(/\s+/g, ' ').trim(),
          left: timer?.textContent,
          timerLive: timer?.getAttribute('aria-live') ?? 'off',
          liveInside: bar.querySelectorAll(live).length,
          liveAround: bar.parentElement.closest(live) !== null,
          button: button?.getAttribute('aria-label'),
          buttonText: button?.textContent,
          status: document.querySelector('#page-status')?.textContent,
        };
      });
      const secondsOf = (text) => Number(/(\d+)/.exec(text ?? '')?.[1]);
      const first = await undoBar();
      assert.match(first.left, /^\d+ seconds? left to undo$/, JSON.stringify(first));
      assert.ok(secondsOf(first.left) <= 30 && secondsOf(first.left) >= 15, first.left);
      assert.match(first.text, /^Deleted PredictHQ “e2e renamed”\. \d+ seconds left to undo$/, first.text);
      assert.equal(first.timerLive, 'off', 'a timer is not announced at every tick');
      assert.equal(first.liveInside + Number(first.liveAround), 0, 'the bar is in no live region');
      assert.match(first.status, /^Key deleted\. You can undo this for \d+ seconds\.$/, 'said once in the status line');
      const later = await poll(async () => {
        const now = await undoBar();
        return now && secondsOf(now.left) <= secondsOf(first.left) - 2 && now;
      }, { what: 'the undo bar counting down' });
      assert.equal(later.button, first.button, 'the Undo button keeps its accessible name while counting');
      assert.equal(later.buttonText, 'Undo');
      assert.equal(later.status, first.status);
      assert.deepEqual(await tab.evaluate(() => window.keywardenLiveChanges), [], 'no live region changed while counting down');
      await screenshot(tab, 'undo');
      await closePopup();
      const again = await openPopup(vendor);
      await waitForVault(again, 'unlocked', { also: (v) => v.entries.length === 1 });
      await pressControl(again, 'button', 'Undo deleting e2e renamed');
      const view = await waitForVault(again, 'unlocked', { also: (v) => v.entries.length === 2 });
      assert.ok(view.entries.some((e) => e.text.includes('e2e renamed')), JSON.stringify(view.entries));
      assert.equal(await again.evaluate(() => document.querySelector('.undo-bar') === null), true);
    });

    step('7. the lock screen: focused field, a wrong passphrase said beside it with the typing kept, busy while unlocking', TEST, async () => {
      const tab = popup;
      await pressControl(tab, 'button', 'Lock');
      await waitForVault(tab, 'locked');
      const field = await byLabel(tab, 'Passphrase');
      assert.ok(await tab.evaluate((sel) => document.activeElement === document.querySelector(sel), field), 'the passphrase field has the focus');
      // Record every busy state the form goes through, so it is seen however fast the worker answers.
      await tab.evaluate(() => {
        const form = document.querySelector('#unlock');
        window.keywardenBusySeen = [];
        new MutationObserver(() => {
          const b = form.querySelector('button[type="submit"]');
          window.keywardenBusySeen.push({ busy: form.getAttribute('aria-busy'), disabled: b.disabled, text: b.textContent });
        }).observe(form, { attributes: true, subtree: true, childList: true, characterData: true });
      });
      await tab.type(field, WRONG_PASSPHRASE);
      await pressControl(tab, 'button', 'Unlock');
      const error = await tab.waitFor(() => document.querySelector('#unlock-error')?.textContent || null, null, { timeout: CRYPTO_TIMEOUT, what: 'the error beside the field' });
      assert.match(error, /wrong passphrase/i);
      const kept = await byLabel(tab, 'Passphrase');
      assert.equal(await tab.evaluate((sel) => document.querySelector(sel).value, kept), WRONG_PASSPHRASE, 'the typed text is kept');
      assert.equal(await tab.evaluate((sel) => document.querySelector(sel).getAttribute('aria-invalid'), kept), 'true');
      const seen = await tab.evaluate(() => window.keywardenBusySeen);
      assert.ok(seen.some((s) => s.busy === 'true' && s.disabled && s.text === 'Unlocking…'), `busy while unlocking (${JSON.stringify(seen)})`);
      await screenshot(tab, 'lock');
      await fill(tab, { label: 'Passphrase' }, PASSPHRASE);
      await pressControl(tab, 'button', 'Unlock');
      await waitForVault(tab, 'unlocked', { timeout: CRYPTO_TIMEOUT, also: (v) => v.entries.length === 2 });
      await closePopup();
    });

    step('8. a key revealed in the popup is masked when the vault is locked elsewhere', TEST, async () => {
      if (name !== 'chromium') return; // Firefox shows the popup in the options tab: no second page to lock from.
      const tab = await openPopup(vendor);
      await waitForVault(tab, 'unlocked', { also: (v) => v.entries.length === 2 });
      await pressControl(tab, 'button', /^Details of e2e bravo/);
      await pressControl(tab, 'button', 'Reveal');
      await tab.waitFor((t) => document.querySelector('#secret-value')?.textContent === t, tokens.bravo, { what: 'the revealed key' });
      await bringToFront(options);
      await loadExtensionPage(options, 'options.html');
      await pressControl(options, 'button', 'Lock now');
      await waitForVault(options, 'locked');
      await waitForVault(tab, 'locked', { what: 'in the popup, without a click there' });
      assert.equal(await inPage(tab, tokens.bravo), false, 'the revealed key left the popup');
      await closePopup();
    });
  });
}

/** Waits until the popup's groups satisfy `test` and returns them. */
function poll2(tab, test) {
  return poll(
    async () => {
      const groups = await listed(tab);
      return test(groups) ? groups : null;
    },
    { what: 'the list to show what the search asks for' },
  );
}
