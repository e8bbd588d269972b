// How keywarden looks, in light and dark: axe-core finds no accessibility violation in the popup, the options page and the step panel, screenshots of each go to target/screenshots/, and the lock shortcut locks the vault.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, poll, pressKeysOnDisplay, sleep, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openTab,
  serveFixtures,
  setUpVault,
  vendorFlow,
  waitForVault,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const VENDOR = 'predicthq';
const PASSPHRASE = 'correct horse battery staple';
const NAME_INPUT = '#token-name';
const SCOPES = 'fieldset';
const CREATE = { css: 'button', text: 'Create Token' };
const COPY = { css: 'button', text: 'Copy Token' };
const SCHEMES = ['light', 'dark'];
const TEST = { timeout: 90_000 };
const SHOTS = path.join(REPO_ROOT, 'target', 'screenshots');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const { CAPTURE, expectStep, clickCapture } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

/** Chromium: emulates the system's colour scheme for `tab`'s page and every frame in it. */
async function useScheme(tab, scheme) {
  await withTimeout(tab.page.emulateMedia({ colorScheme: scheme }), 5_000, `emulate ${scheme}`);
  // Let a change of scheme repaint (and the content script recolour its control) before judging.
  await sleep(150);
}

/** The scheme `scope`'s document sees. */
function seenScheme(scope) {
  return scope.evaluate(() => (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
}

/**
 * Runs axe-core in `scope` (a tab or a frame) and expects no violation; a failure lists each rule
 * with the elements it found. Evaluated through the driver, so the extension pages' CSP allows it.
 */
async function expectAccessible(scope, what) {
  if (!(await scope.evaluate(() => Boolean(window.axe)))) await withTimeout(scope.frame.evaluate(AXE), 10_000, 'load axe');
  const result = await withTimeout(
    scope.frame.evaluate(async () => {
      const { violations } = await window.axe.run(document, { resultTypes: ['violations'] });
      return violations.map((v) => ({
        rule: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
      }));
    }),
    30_000,
    `axe in ${what}`,
  );
  assert.deepEqual(result, [], `${what}: axe-core violations\n${JSON.stringify(result, null, 2)}`);
}

/** Writes a screenshot of `tab` to target/screenshots/`name`.png. */
async function shoot(tab, name, options = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await withTimeout(tab.page.screenshot({ path: path.join(SHOTS, `${name}.png`), ...options }), 15_000, `screenshot ${name}`);
}

/** Checks `scope` in both schemes: the scheme is seen, axe finds nothing, and `shot` (if given) is taken. */
async function inBothSchemes(tab, scope, what, shot) {
  for (const scheme of SCHEMES) {
    await useScheme(tab, scheme);
    assert.equal(await seenScheme(scope), scheme, `${what} sees the ${scheme} scheme`);
    await expectAccessible(scope, `${what} (${scheme})`);
    if (shot) await shot(scheme);
  }
  await useScheme(tab, 'light');
}

/** The popup as the toolbar shows it: popup.html in a tab of its own, at the popup's width. */
async function openPopup(browser) {
  const popup = await openTab(browser);
  await withTimeout(popup.page.setViewportSize({ width: 360, height: 640 }), 5_000, 'popup size');
  await popup.goto(`${browser.extensionOrigin}/popup.html`);
  await popup.waitForSelector('section#vault[data-state]');
  return popup;
}

async function checkPopup(browser, state, label) {
  const popup = await openPopup(browser);
  try {
    await waitForVault(popup, state);
    await inBothSchemes(popup, popup, `the popup ${label}`, (scheme) => shoot(popup, `popup-${label}-${scheme}`, { fullPage: true }));
  } finally {
    await withTimeout(popup.page.close(), 5_000, 'close popup').catch(() => {});
  }
}

/**
 * Records, in the service worker, every toolbar icon the extension sets from now on: the 16 px
 * path and whether the browser accepted it. Returns a function that reads the record.
 */
async function watchIcons(browser) {
  await browser.serviceWorker.evaluate(() => {
    if (globalThis.iconsSet) return;
    globalThis.iconsSet = [];
    const set = chrome.action.setIcon.bind(chrome.action);
    chrome.action.setIcon = (details) => {
      const entry = { path: details.path?.[16] ?? null, accepted: null };
      globalThis.iconsSet.push(entry);
      return set(details).then(
        () => { entry.accepted = true; },
        (e) => { entry.accepted = false; throw e; },
      );
    };
  });
  return () => browser.serviceWorker.evaluate(() => globalThis.iconsSet);
}

/** Chromium's storage.session, read in the service worker: does it hold the vault's session key? */
function hasSessionKey(browser) {
  return browser.serviceWorker.evaluate(async () => 'vault:session' in (await chrome.storage.session.get('vault:session')));
}

/** WCAG's contrast ratio of two #rrggbb colours. */
function contrast(a, b) {
  const luminance = (hex) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// The save control lives in a closed shadow root, out of axe's reach: its colours are checked here.
it('the save control reads at 4.5:1 or more in every state and scheme', () => {
  const source = readFileSync(path.join(REPO_ROOT, 'extension', 'content.js'), 'utf8');
  const palette = /const PALETTE = \{([\s\S]*?)\n {2}\};/.exec(source);
  assert.ok(palette, 'content.js declares its PALETTE');
  const pairs = [...palette[1].matchAll(/(\w+): \['(#[0-9a-f]{6})', '(#[0-9a-f]{6})'\]/g)];
  assert.equal(pairs.length, 6, 'three states in two schemes');
  for (const [, state, text, background] of pairs) {
    assert.ok(contrast(text, background) >= 4.5, `${state}: ${text} on ${background} is ${contrast(text, background).toFixed(2)}:1`);
  }
});

// Chromium runs in a window on its own X display: the browser takes extension shortcuts from
// real key presses only, and headless Chromium has no window to press them in.
describe('chromium: look', { skip: !BROWSERS.includes('chromium') }, () => {
  let browser;
  let options;
  let vendor;
  let brokenAt = null;
  const { ready } = launchForSuite('chromium', fixtures, {
    options: { window: true },
    async setup(launched) {
      browser = launched;
      options = await findOptionsTab(browser);
      vendor = await openTab(browser);
    },
  });
  // Each step builds on the ones before it.
  const step = (title, fn) =>
    it(title, TEST, async () => {
      ready();
      if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
      try {
        await fn();
      } catch (error) {
        brokenAt = title;
        throw error;
      }
    });

  step('the options page and the popup without a vault', async () => {
    await bringToFront(options);
    await loadExtensionPage(options);
    await waitForVault(options, 'new');
    await inBothSchemes(options, options, 'the options page without a vault', (scheme) =>
      shoot(options, `options-new-${scheme}`, { fullPage: true }),
    );
    await checkPopup(browser, 'new', 'new');
  });

  step('the step panel, highlight and save control on a vendor page', async () => {
    await setUpVault(options, PASSPHRASE);
    await inBothSchemes(options, options, 'the options page unlocked', (scheme) =>
      shoot(options, `options-unlocked-${scheme}`, { fullPage: true }),
    );
    await bringToFront(vendor);
    await vendor.goto(`${APP}/tokens`);
    const first = await expectStep(vendor, 'name-token', NAME_INPUT);
    await inBothSchemes(vendor, first, 'the step panel');
    await vendor.type(NAME_INPUT, 'look and feel');
    const scopes = await expectStep(vendor, 'choose-scopes', SCOPES, 'intersects');
    await scopes.click({ css: 'button', text: 'Next' });
    await expectStep(vendor, 'create-token', CREATE);
    await vendor.click(CREATE);
    const panel = await expectStep(vendor, 'copy-token', COPY);
    await vendor.waitForSelector(CAPTURE);
    await inBothSchemes(vendor, panel, 'the step panel beside a new key', (scheme) => shoot(vendor, `overlay-${scheme}`));
    // A click that something of the page's catches is refused: the control turns to its error colours.
    const box = await vendor.waitForSelector(CAPTURE);
    await vendor.evaluate((b) => {
      const cover = document.createElement('div');
      cover.id = 'look-cover';
      Object.assign(cover.style, { position: 'fixed', left: `${b.x}px`, top: `${b.y}px`, width: `${b.width}px`, height: `${b.height}px`, zIndex: '2147483647' });
      // Last in the document at the control's z-index: drawn over it.
      document.documentElement.appendChild(cover);
    }, box);
    await vendor.mouseClick(box.x + box.width / 2, box.y + box.height / 2);
    await vendor.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'refused', CAPTURE, {
      what: 'the covered control to refuse the click',
    });
    await vendor.evaluate(() => document.getElementById('look-cover').remove());
    for (const scheme of SCHEMES) {
      await useScheme(vendor, scheme);
      await shoot(vendor, `overlay-refused-${scheme}`);
    }
    await useScheme(vendor, 'light');
    await clickCapture(vendor);
    await vendor.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'saved', CAPTURE, {
      timeout: 30_000,
      what: 'the key to be saved',
    });
    for (const scheme of SCHEMES) {
      await useScheme(vendor, scheme);
      await shoot(vendor, `overlay-saved-${scheme}`);
    }
    await useScheme(vendor, 'light');
  });

  step('the popup unlocked with a key', async () => {
    await checkPopup(browser, 'unlocked', 'unlocked');
  });

  step('the lock shortcut locks the vault and the toolbar shows it; the popup locked', async () => {
    assert.equal(await hasSessionKey(browser), true, 'unlocked before the shortcut');
    const icons = await watchIcons(browser);
    await bringToFront(vendor);
    await vendor.evaluate(() => window.focus());
    await pressKeysOnDisplay(browser.display, ['alt+shift+l']);
    await poll(async () => !(await hasSessionKey(browser)), { what: 'Alt+Shift+L to clear the session key' });
    const shown = await poll(async () => (await icons()).find((i) => i.accepted !== null), { what: 'the toolbar icon to be set' });
    assert.deepEqual(shown, { path: 'icons/keywarden-locked-16.png', accepted: true }, 'the toolbar shows the locked mark');
    await checkPopup(browser, 'locked', 'locked');
    // Unlocking from the popup brings the open mark back.
    const popup = await openPopup(browser);
    try {
      await popup.type('#unlock-passphrase', PASSPHRASE);
      await popup.click({ css: '#unlock button[type="submit"]', text: 'Unlock' });
      await waitForVault(popup, 'unlocked', { timeout: 30_000 });
    } finally {
      await withTimeout(popup.page.close(), 5_000, 'close popup').catch(() => {});
    }
    const last = await poll(async () => (await icons()).at(-1)?.accepted && (await icons()).at(-1), { what: 'the icon after unlocking' });
    assert.equal(last.path, 'icons/keywarden-16.png', 'the toolbar shows the open mark again');
  });
});

// Firefox: the same pages through WebDriver BiDi, which cannot emulate media features: one
// browser per scheme, set by the pref that overrides the scheme web content sees. Without a vault
// (setting one up is the vault test's business); the step panel's frame is out of Puppeteer's reach.
for (const scheme of SCHEMES) {
  describe(`firefox: look (${scheme})`, { skip: !BROWSERS.includes('firefox') }, () => {
    let options;
    const { ready } = launchForSuite('firefox', fixtures, {
      options: { prefs: { 'layout.css.prefers-color-scheme.content-override': scheme === 'dark' ? 0 : 1 } },
      async setup(launched) {
        options = await findOptionsTab(launched);
      },
    });

    it('the options page and the popup without a vault', TEST, async () => {
      ready();
      await bringToFront(options);
      for (const [file, what] of [['options.html', 'the options page'], ['popup.html', 'the popup']]) {
        await loadExtensionPage(options, file);
        await waitForVault(options, 'new');
        assert.equal(await seenScheme(options), scheme, `${what} sees the ${scheme} scheme`);
        await expectAccessible(options, `${what} without a vault (${scheme})`);
      }
    });
  });
}
