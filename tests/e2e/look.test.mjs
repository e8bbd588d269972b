// How keywarden looks, in light and dark: axe-core finds no accessibility violation in the popup, the options page and the step panel in each of its states, the panel frame follows its content, screenshots of each go to target/screenshots/, and the lock shortcut locks the vault.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, poll, pressKeysOnDisplay, sleep, waitForPanelStep, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  chainedSteps,
  decodePng,
  entryFor,
  expectAccessible,
  fill,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openPopup,
  openTab,
  pressControl,
  saveNewToken,
  serveFixtures,
  setUpVault,
  unfold,
  vaultEntries,
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

const { CAPTURE, expectStep, clickCapture, expectSetupOffered } = vendorFlow(VENDOR);
const CONTENT_JS = readFileSync(path.join(REPO_ROOT, 'extension', 'content.js'), 'utf8');
/** A number constant declared in content.js (`const NAME = 123;`). */
const contentConstant = (name) => Number(new RegExp(`const ${name} = (\\d+);`).exec(CONTENT_JS)[1]);
const PANEL_MIN_H = contentConstant('PANEL_MIN_H');
const PANEL_MAX_H = contentConstant('PANEL_MAX_H');
const PANEL_FIXED_H = contentConstant('PANEL_H');
const DESKTOP = { width: 1280, height: 800 };
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

// The save control and the pill live in closed shadow roots, out of axe's reach: their colours are checked here.
it('the save control reads at 4.5:1 or more in every state and scheme', () => {
  const palette = /const PALETTE = \{([\s\S]*?)\n {2}\};/.exec(CONTENT_JS);
  assert.ok(palette, 'content.js declares its PALETTE');
  const pairs = [...palette[1].matchAll(/(\w+): \['(#[0-9a-f]{6})', '(#[0-9a-f]{6})'\]/g)];
  assert.equal(pairs.length, 6, 'three states in two schemes');
  for (const [, state, text, background] of pairs) {
    assert.ok(contrast(text, background) >= 4.5, `${state}: ${text} on ${background} is ${contrast(text, background).toFixed(2)}:1`);
  }
});

it('the folded pill reads at 4.5:1 or more', () => {
  const pill = /function showPill[\s\S]*?color: '(#[0-9a-f]{3,6})', background: '(#[0-9a-f]{6})'/.exec(CONTENT_JS);
  assert.ok(pill, 'content.js sets the pill\'s colours');
  const hex = (c) => (c.length === 4 ? `#${[...c.slice(1)].map((d) => d + d).join('')}` : c);
  assert.ok(contrast(hex(pill[1]), pill[2]) >= 4.5, `${pill[1]} on ${pill[2]} is ${contrast(hex(pill[1]), pill[2]).toFixed(2)}:1`);
});

/** The page's accessibility tree as assistive technology gets it (closed shadow roots included): its buttons' names. */
async function buttonNames(tab) {
  const cdp = await tab.page.context().newCDPSession(tab.page);
  try {
    const { nodes } = await withTimeout(cdp.send('Accessibility.getFullAXTree'), 10_000, 'accessibility tree');
    return nodes.filter((n) => n.role?.value === 'button' && !n.ignored).map((n) => n.name?.value ?? '');
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** The share of `box`'s pixels (a screenshot clip of `tab`) within 12 of the colour `hex`, decoded in the extension page `decoder`. */
async function shareOfColour(tab, decoder, box, hex) {
  const png = await withTimeout(tab.page.screenshot({ clip: box }), 10_000, 'screenshot clip');
  const { data } = await decodePng(decoder, png);
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let near = 0;
  for (let i = 0; i < data.length; i += 4) if (want.every((c, k) => Math.abs(data[i + k] - c) <= 12)) near += 1;
  return near / (data.length / 4);
}

/** The step panel frame's height against its content's, inside the frame and as the page places it. */
async function panelFit(tab, panel) {
  const inside = await panel.evaluate(() => ({
    frame: innerHeight,
    scrolls: document.documentElement.scrollHeight,
    content: document.querySelector('[role="dialog"]').scrollHeight,
  }));
  const view = await tab.evaluate(() => document.documentElement.clientHeight);
  return { ...inside, max: Math.min(PANEL_MAX_H, view - 16) };
}

/**
 * Waits until the panel frame has taken its content's height (the panel reports it through the
 * worker), then expects the content unclipped and no large blank under it; past the maximum the
 * frame stops there and its content scrolls. Returns the measures.
 */
async function expectFitted(tab, panel, what) {
  let last = null;
  try {
    return await poll(
      async () => {
        last = await panelFit(tab, panel);
        const wanted = Math.max(PANEL_MIN_H, Math.min(last.content, last.max));
        return Math.abs(last.frame - wanted) <= 2 ? last : null;
      },
      { what: `${what}: the panel frame to follow its content` },
    ).then((fit) => {
      if (fit.content <= fit.max) {
        assert.ok(fit.scrolls <= fit.frame, `${what}: the content (${fit.scrolls} px) fits its frame (${fit.frame} px)`);
        assert.ok(fit.frame - fit.content <= 8 || fit.frame === PANEL_MIN_H, `${what}: ${fit.frame - fit.content} px of blank under the content`);
      } else {
        assert.equal(fit.frame, fit.max, `${what}: a panel taller than the view stops at ${fit.max} px`);
      }
      return fit;
    });
  } catch (error) {
    throw new Error(`${error.message}; saw ${JSON.stringify(last)}`);
  }
}

/** A screenshot of the page with the panel, in each scheme, after axe found nothing in the panel. */
const panelShots = (tab, name) => (scheme) => shoot(tab, `${name}-${scheme}`);

// Chromium runs in a window on its own X display: the browser takes extension shortcuts from
// real key presses only, and headless Chromium has no window to press them in.
describe('chromium: look', { skip: !BROWSERS.includes('chromium') }, () => {
  let browser;
  let options;
  let vendor;
  const session = launchForSuite('chromium', fixtures, {
    options: { window: true },
    async setup(launched) {
      browser = launched;
      options = await findOptionsTab(browser);
      vendor = await openTab(browser);
    },
  });
  // Each step builds on the ones before it.
  const step = chainedSteps(() => session.ready(), TEST);

  /** Walks PredictHQ's token form from its first step to the new token; returns the copy step's panel. */
  async function createToken(name) {
    await bringToFront(vendor);
    await vendor.goto(`${APP}/tokens`);
    const first = await expectStep(vendor, 'name-token', NAME_INPUT);
    await vendor.type(NAME_INPUT, name);
    const scopes = await expectStep(vendor, 'choose-scopes', SCOPES, 'intersects');
    await scopes.click({ css: 'button', text: 'Next' });
    await expectStep(vendor, 'create-token', CREATE);
    await vendor.click(CREATE);
    await vendor.waitForSelector(CAPTURE);
    return { first, panel: await expectStep(vendor, 'copy-token', COPY) };
  }

  step('the options page and the popup without a vault', async () => {
    await bringToFront(options);
    await loadExtensionPage(options);
    await waitForVault(options, 'new');
    await inBothSchemes(options, options, 'the options page without a vault', (scheme) =>
      shoot(options, `options-new-${scheme}`, { fullPage: true }),
    );
    await checkPopup(browser, 'new', 'new');
  });

  step('the step panel on a key page before any vault exists: it says so first and offers "Set up the vault"', async () => {
    await bringToFront(vendor);
    await vendor.goto(`${APP}/tokens`);
    const panel = await expectStep(vendor, 'name-token', NAME_INPUT);
    const shown = await panel.evaluate(() => ({
      first: document.querySelector('details[open] li')?.className ?? '',
      text: document.querySelector('details li.no-vault')?.textContent ?? '',
      setup: [...document.querySelectorAll('button[data-action="setup"]')].filter((b) => !b.hidden).map((b) => b.textContent),
    }));
    assert.equal(shown.first, 'no-vault', 'the missing vault comes first among the prerequisites, shown open');
    assert.match(shown.text, /No keywarden vault yet/);
    assert.deepEqual(shown.setup, ['Set up the vault']);
    const fit = await expectFitted(vendor, panel, 'the first step without a vault');
    // Taller than the fixed frame it once had: this step used to be clipped.
    assert.ok(fit.content > PANEL_FIXED_H, `the first step without a vault is a long one (${fit.content} px)`);
    await inBothSchemes(vendor, panel, 'the step panel without a vault', panelShots(vendor, 'panel-novault'));
  });

  step('the save control without a vault says plainly, in its error colours, that nothing is kept', async () => {
    const { panel } = await createToken('look without a vault');
    await vendor.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'novault', CAPTURE, {
      what: 'the save control in its no-vault state',
    });
    const names = await buttonNames(vendor);
    assert.ok(names.some((n) => n.startsWith('No vault: NOT kept')), `the save control says "No vault: NOT kept…" (buttons: ${names})`);
    await expectFitted(vendor, panel, 'the copy step without a vault');
    const box = await vendor.waitForSelector(CAPTURE);
    for (const scheme of SCHEMES) {
      await useScheme(vendor, scheme);
      const red = scheme === 'dark' ? '#fca5a5' : '#b91c1c';
      const share = await shareOfColour(vendor, options, box, red);
      assert.ok(share > 0.5, `the no-vault control is drawn in ${red} (${(share * 100).toFixed(0)}% of its pixels)`);
    }
    await useScheme(vendor, 'light');
    await inBothSchemes(vendor, panel, 'the step panel beside a key that cannot be kept', panelShots(vendor, 'overlay-novault'));
    // The options tab the suite holds would be reused by "open the setup": make it the popup meanwhile.
    await loadExtensionPage(options, 'popup.html');
    await expectSetupOffered(session, vendor);
    await loadExtensionPage(options, 'options.html');
  });

  step('the step panel, highlight and save control on a vendor page', async () => {
    await setUpVault(options, PASSPHRASE);
    await inBothSchemes(options, options, 'the options page unlocked', (scheme) =>
      shoot(options, `options-unlocked-${scheme}`, { fullPage: true }),
    );
    const { first, panel } = await createToken('look and feel');
    await inBothSchemes(vendor, first, 'the step panel');
    await inBothSchemes(vendor, panel, 'the step panel beside a new key', (scheme) => shoot(vendor, `overlay-${scheme}`));
  });

  step('the panel folds into its pill where no free space is left, and unfolds beside the target', async () => {
    // Views ever smaller, down to a small laptop window's, until the key row and its buttons
    // leave no room for the panel.
    const folded = () => vendor.evaluate(() => document.querySelector('keywarden-panel')?.hasAttribute('data-folded') ?? false);
    try {
      let size = null;
      for (const [width, height] of [[900, 600], [800, 520], [720, 460], [640, 420]]) {
        await withTimeout(vendor.page.setViewportSize({ width, height }), 5_000, 'small view');
        if (await poll(folded, { timeout: 2_000, what: 'fold' }).catch(() => false)) {
          size = `${width}×${height}`;
          break;
        }
      }
      assert.ok(size, 'the panel folds into its pill in a small view');
      const pill = await vendor.waitForSelector('keywarden-pill');
      const copy = await vendor.boundingBox(COPY);
      const apart = (a, b) => a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      assert.ok(apart(pill, copy), 'the pill leaves the Copy Token button uncovered');
      const names = await buttonNames(vendor);
      assert.ok(names.includes('PredictHQ · Step 6 of 6: show keywarden’s step guide'), `the pill is named after the step (buttons: ${names})`);
      for (const scheme of SCHEMES) {
        await useScheme(vendor, scheme);
        await shoot(vendor, `overlay-pill-${scheme}`);
      }
      await useScheme(vendor, 'light');
      await unfold(vendor);
      const { panel } = await waitForPanelStep(vendor, 'copy-token');
      const box = await vendor.evaluate(() => document.querySelector('keywarden-panel').getBoundingClientRect().toJSON());
      assert.ok(apart(box, await vendor.boundingBox(COPY)), 'the unfolded panel leaves the Copy Token button in view');
      assert.ok(apart(box, await vendor.boundingBox('code')), 'the unfolded panel leaves the key in view');
      assert.ok(apart(box, await vendor.waitForSelector(CAPTURE)), 'the unfolded panel leaves the save control in view');
      // Where the view has no room for all of it, the unfolded panel is shorter and scrolls.
      const fit = await panelFit(vendor, panel);
      assert.ok(fit.frame >= PANEL_MIN_H, `the unfolded panel is ${fit.frame} px tall`);
      assert.ok(fit.frame >= fit.content || fit.scrolls > fit.frame, `the unfolded panel shows or scrolls to all its content (${JSON.stringify(fit)})`);
      await shoot(vendor, 'overlay-unfolded-light');
    } finally {
      await withTimeout(vendor.page.setViewportSize(DESKTOP), 5_000, 'desktop view');
    }
  });

  step('the panel frame follows its content, clamped to the view, and only the worker sizes it', async () => {
    const panel = (await waitForPanelStep(vendor, 'copy-token')).panel;
    const roomy = await expectFitted(vendor, panel, 'the copy step');
    const host = () => vendor.evaluate(() => document.querySelector('keywarden-panel').getBoundingClientRect().toJSON());
    // The page forges size messages to the panel frame and to itself: nothing moves or grows.
    const before = await host();
    await vendor.evaluate(() => {
      const forged = { v: 2, body: { type: 'panel_fit', panel: 'f'.repeat(32), height: 2000 } };
      window.postMessage(forged, '*');
      for (let i = 0; i < window.frames.length; i += 1) window.frames[i].postMessage(forged, '*');
      window.postMessage({ v: 2, body: { type: 'fit', height: 2000 } }, '*');
    });
    await sleep(500);
    assert.deepEqual(await host(), before, 'messages from the page neither move nor size the panel');
    // A view shorter than the content: the frame stops at the view less a margin and scrolls.
    const short = Math.max(PANEL_MIN_H + 200, Math.min(roomy.content - 40, 600));
    await withTimeout(vendor.page.setViewportSize({ width: DESKTOP.width, height: short }), 5_000, 'short view');
    try {
      await unfold(vendor);
      const clamped = await expectFitted(vendor, panel, `the copy step in a view ${short} px tall`);
      assert.ok(clamped.scrolls > clamped.frame, 'the clamped panel scrolls to the rest of its content');
      const { top, bottom } = await host();
      assert.ok(top >= 0 && bottom <= short, `the clamped panel (${top}–${bottom}) stays in the view`);
    } finally {
      await withTimeout(vendor.page.setViewportSize(DESKTOP), 5_000, 'desktop view');
    }
    await expectFitted(vendor, panel, 'the copy step back in the desktop view');
  });

  step('the save control refused, then saved; the panel\'s note names the entry and the key\'s last four characters', async () => {
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
    const token = await vendor.evaluate(() => document.querySelector('code').textContent.trim());
    await clickCapture(vendor);
    await vendor.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'saved', CAPTURE, {
      timeout: 30_000,
      what: 'the key to be saved',
    });
    const { panel } = await waitForPanelStep(vendor, 'saved');
    // The pointer over the note keeps it open while it is read (it closes by itself otherwise).
    const note = await vendor.evaluate(() => document.querySelector('keywarden-panel').getBoundingClientRect().toJSON());
    await withTimeout(vendor.page.mouse.move(note.x + note.width / 2, note.y + note.height / 2), 5_000, 'hover the note');
    const title = await panel.evaluate(() => document.getElementById('kw-title').textContent.trim());
    const body = await panel.evaluate(() => document.getElementById('kw-body').textContent.trim());
    assert.ok(title.endsWith(token.slice(-4)), `the note "${title}" ends with the key's last four characters`);
    const name = /^Saved: (.+) …[\x21-\x7e]{1,4}$/.exec(title)?.[1];
    assert.ok(name?.includes('look and feel'), `the note "${title}" names the entry after the token`);
    assert.ok(body.includes(`“${name}”`) && /Next:/.test(body), `the note says where the key is and what comes next: "${body}"`);
    await expectFitted(vendor, panel, 'the note after a save');
    await inBothSchemes(vendor, panel, 'the note after a save', panelShots(vendor, 'overlay-saved'));
    const entry = entryFor(await vaultEntries(options), token);
    assert.ok(entry.text.includes(name), `the vault lists the entry the note names ("${name}"): ${entry.text}`);
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
      await fill(popup, { label: 'Passphrase' }, PASSPHRASE);
      await pressControl(popup, 'button', 'Unlock');
      await waitForVault(popup, 'unlocked', { timeout: 30_000 });
    } finally {
      await withTimeout(popup.page.close(), 5_000, 'close popup').catch(() => {});
    }
    const last = await poll(async () => (await icons()).at(-1)?.accepted && (await icons()).at(-1), { what: 'the icon after unlocking' });
    assert.equal(last.path, 'icons/keywarden-16.png', 'the toolbar shows the open mark again');
  });
});

// Firefox: the same pages through WebDriver BiDi, which cannot emulate media features: one
// browser per scheme, set by the pref that overrides the scheme web content sees (extension pages
// and the panel frame follow it too). Puppeteer lists the panel's moz-extension frame among the
// page's frames over BiDi and evaluates in it, although the frame sits in a closed shadow root
// and its URL is reported as about:blank (the harness asks the frame for its own location).
for (const scheme of SCHEMES) {
  describe(`firefox: look (${scheme})`, { skip: !BROWSERS.includes('firefox') }, () => {
    let browser;
    let options;
    let vendor;
    const { ready } = launchForSuite('firefox', fixtures, {
      options: { prefs: { 'layout.css.prefers-color-scheme.content-override': scheme === 'dark' ? 0 : 1 } },
      async setup(launched) {
        browser = launched;
        options = await findOptionsTab(launched);
        vendor = await openTab(launched);
      },
    });
    // Each step builds on the ones before it.
    const step = chainedSteps(ready, TEST);

    /** Loads `file` into the suite's extension tab and checks it in this browser's scheme. */
    async function checkPage(file, state, what) {
      await bringToFront(options);
      // The popup at the toolbar popup's width; the options page in a desktop window.
      const size = file === 'popup.html' ? { width: 360, height: 640 } : DESKTOP;
      await withTimeout(options.page.setViewport(size), 5_000, 'viewport');
      await loadExtensionPage(options, file);
      await waitForVault(options, state, { timeout: 30_000 });
      assert.equal(await seenScheme(options), scheme, `${what} sees the ${scheme} scheme`);
      await expectAccessible(options, `${what} (${scheme})`);
      await shoot(options, `firefox-${file.replace('.html', '')}-${state}-${scheme}`, { fullPage: true });
    }

    step('the options page and the popup without a vault', async () => {
      await checkPage('options.html', 'new', 'the options page without a vault');
      await checkPage('popup.html', 'new', 'the popup without a vault');
    });

    step('the step panel on a key page without a vault', async () => {
      await bringToFront(vendor);
      await vendor.goto(`${APP}/tokens`);
      const panel = await expectStep(vendor, 'name-token', NAME_INPUT);
      assert.equal(await seenScheme(panel), scheme, `the step panel sees the ${scheme} scheme`);
      assert.match(await panel.evaluate(() => document.querySelector('li.no-vault')?.textContent ?? ''), /No keywarden vault yet/);
      await expectFitted(vendor, panel, 'the first step without a vault');
      await expectAccessible(panel, `the step panel without a vault (${scheme})`);
      await shoot(vendor, `firefox-panel-novault-${scheme}`);
    });

    step('the popup and the options page unlocked with a key, then locked', async () => {
      await loadExtensionPage(options, 'options.html');
      await setUpVault(options, PASSPHRASE);
      await saveNewToken(vendor, `look in firefox ${scheme}`);
      const { panel } = await waitForPanelStep(vendor, 'saved');
      await expectAccessible(panel, `the note after a save (${scheme})`);
      await shoot(vendor, `firefox-overlay-saved-${scheme}`);
      await checkPage('options.html', 'unlocked', 'the options page unlocked with a key');
      await checkPage('popup.html', 'unlocked', 'the popup unlocked with a key');
      const reply = await options.evaluate(() => (globalThis.browser ?? globalThis.chrome).runtime.sendMessage({ v: 2, body: { type: 'lock' } }));
      assert.notEqual(reply?.body?.type, 'error', `the vault locks (${JSON.stringify(reply)})`);
      await checkPage('popup.html', 'locked', 'the popup locked');
      await checkPage('options.html', 'locked', 'the options page locked');
    });
  });
}
