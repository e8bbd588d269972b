// Keyboard focus, with real Tab presses in Chromium and Firefox: the popup in each state, the options page and the step panel are walked control by control in reading order, each control shows a focus ring of 2 px or more at 3:1 against what lies behind it, nothing is skipped or traps the focus, and the save control (in a closed shadow root) is reached from the page and draws its ring.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { waitForPanelStep, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  chainedSteps,
  decodePng,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openPopup,
  openTab,
  saveNewToken,
  serveFixtures,
  setUpVault,
  unfold,
  vendorFlow,
  waitForVault,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const PASSPHRASE = 'correct horse battery staple';
const TEST = { timeout: 90_000 };
const { CAPTURE, expectStep } = vendorFlow('predicthq');
const fixtures = serveFixtures();

/**
 * In the page: the controls keyboard focus may land on, in document order, each with a name to
 * report, its box and its unfocused outline and shadow. Kept on `window` for the walk that follows.
 */
function listTabbable() {
  // At rest: a field the page focused on opening (the unlock passphrase) is measured unfocused.
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  const css = 'a[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable="true"]';
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({ visibilityProperty: true, checkVisibilityCSS: true });
  };
  const radios = new Set();
  const list = [...document.querySelectorAll(css)].filter((el) => {
    if (el.disabled || el.tabIndex < 0 || el.closest('[inert]') || !shown(el)) return false;
    if (el.localName === 'summary' && el.parentElement?.querySelector(':scope > summary') !== el) return false;
    if (el.localName === 'input' && el.type === 'radio' && el.name) {
      const group = `${el.form?.id ?? ''}/${el.name}`;
      const checked = document.querySelector(`input[type=radio][name="${el.name}"]:checked`);
      if (radios.has(group) || (checked && checked !== el)) return false;
      radios.add(group);
    }
    return true;
  });
  window.keywardenTabbable = list;
  const style = (el) => {
    const cs = getComputedStyle(el);
    return { outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`, shadow: cs.boxShadow };
  };
  return list.map((el) => {
    const r = el.getBoundingClientRect();
    const name = (el.getAttribute('aria-label') || el.textContent || el.id || el.getAttribute('type') || '').replace(/\s+/g, ' ').trim().slice(0, 40);
    return { what: `${el.localName}${el.id ? `#${el.id}` : ''} "${name}"`, box: { x: r.x, y: r.y, width: r.width, height: r.height }, rest: style(el) };
  });
}

/**
 * In the page: which listed control has the focus (-1 for none of them) and how it is drawn:
 * its outline (style, width, colour, offset), its box shadow, and the colour behind its ring
 * (the first opaque background among its ancestors, else the canvas of the scheme).
 */
function focusedNow() {
  const el = document.activeElement;
  // Firefox keeps the active element when Tab moves on to the browser's own controls.
  if (!document.hasFocus()) return { index: -1, what: 'the browser, out of the page' };
  const index = window.keywardenTabbable.indexOf(el);
  if (index < 0) return { index, what: el ? el.localName : 'nothing' };
  const cs = getComputedStyle(el);
  let behind = null;
  for (let n = el.parentElement; n && !behind; n = n.parentElement) {
    const bg = getComputedStyle(n).backgroundColor;
    if (!/rgba\(.*, 0\)$/.test(bg) && bg !== 'transparent') behind = bg;
  }
  behind ??= matchMedia('(prefers-color-scheme: dark)').matches ? 'rgb(18, 18, 18)' : 'rgb(255, 255, 255)';
  return {
    index,
    visible: el.matches(':focus-visible'),
    outlineStyle: cs.outlineStyle,
    outlineWidth: parseFloat(cs.outlineWidth) || 0,
    outlineColor: cs.outlineColor,
    shadow: cs.boxShadow,
    behind,
    now: { outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`, shadow: cs.boxShadow },
  };
}

/** WCAG's contrast ratio of two CSS rgb()/rgba() colours (alpha ignored: rings are opaque). */
function contrast(a, b) {
  const luminance = (css) => {
    const [r, g, bl] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Does `b` come after `a` in reading order: further down, or in the same row and further right? */
function readsAfter(a, b) {
  const overlap = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const sameRow = overlap > 0.5 * Math.min(a.height, b.height);
  return sameRow ? b.x >= a.x - 1 : b.y >= a.y + 1;
}

/** Gives `tab`'s page the keyboard again: a fresh tab in front for a moment, then `tab`. */
async function refocus(tab) {
  const opener = tab.kind === 'chromium' ? tab.page.context() : tab.page.browser();
  const other = await withTimeout(opener.newPage(), 10_000, 'open a tab');
  await withTimeout(other.bringToFront(), 10_000, 'bring the other tab to front');
  await withTimeout(tab.page.bringToFront(), 10_000, 'bring the tab back to front');
  await withTimeout(other.close(), 10_000, 'close the other tab');
}

/**
 * Walks `scope` (a tab or the panel frame) with real Tab presses from the top of its document and
 * checks the order, the ring of every control and that every control is reached once before the
 * focus leaves. Returns what was focused, in order.
 */
async function walk(tab, scope, what, { expect = null } = {}) {
  const controls = await scope.evaluate(listTabbable);
  assert.ok(controls.length > 0, `${what}: something to focus`);
  // Start from the document itself: the next Tab goes to its first control.
  await scope.evaluate(() => {
    window.focus();
    const body = document.body;
    body.tabIndex = -1;
    body.focus();
    body.removeAttribute('tabindex');
  });
  const order = [];
  const problems = [];
  for (let press = 0; press < controls.length + 1; press += 1) {
    await tab.press('Tab');
    const now = await scope.evaluate(focusedNow);
    if (now.index < 0) {
      if (order.length < controls.length) problems.push(`Tab ${press + 1} left the controls (to ${now.what}) before reaching them all`);
      break;
    }
    if (order.includes(now.index)) {
      // Past the last control the browser may start over at the first: that is no trap.
      if (order.length === controls.length && now.index === order[0]) break;
      problems.push(`Tab ${press + 1} came back to ${controls[now.index].what}: the focus is trapped`);
      break;
    }
    const control = controls[now.index];
    const previous = order.length ? controls[order.at(-1)] : null;
    if (previous && !readsAfter(previous.box, control.box)) problems.push(`${control.what} is focused after ${previous.what}, which reads after it`);
    order.push(now.index);
    // The ring: an outline of 2 px or more (or a box shadow the control lacks at rest), at 3:1 against what lies behind.
    const changed = now.now.outline !== control.rest.outline || now.now.shadow !== control.rest.shadow;
    const outlined = now.outlineStyle !== 'none' && now.outlineStyle !== 'auto' && now.outlineWidth >= 2;
    if (!now.visible) problems.push(`${control.what} does not match :focus-visible after a Tab`);
    if (!changed || !outlined) problems.push(`${control.what} shows no focus ring of 2 px or more (outline ${now.now.outline}, shadow ${now.now.shadow})`);
    else if (contrast(now.outlineColor, now.behind) < 3) {
      problems.push(`${control.what}: its ring ${now.outlineColor} on ${now.behind} is ${contrast(now.outlineColor, now.behind).toFixed(2)}:1`);
    }
  }
  // Past the last control Firefox moves the focus into its own toolbar, where it would stay for
  // the next walk: another tab brought to the front and this one again give the page the focus back.
  if (!(await scope.evaluate(() => document.hasFocus()))) await refocus(tab);
  const missed = controls.filter((_, i) => !order.includes(i)).map((c) => c.what);
  if (missed.length) problems.push(`never focused: ${missed.join(', ')}`);
  assert.deepEqual(problems, [], `${what}: keyboard focus (order: ${order.map((i) => controls[i].what).join(' → ')})`);
  const seen = order.map((i) => controls[i].what);
  if (expect) for (const want of expect) assert.ok(seen.some((s) => s.includes(want)), `${what}: ${want} is in the tab order (${seen})`);
  return seen;
}

/** Presses Tab from the page until the save control has the focus; returns what had the focus on the way. */
async function tabToCapture(tab) {
  const passed = [];
  for (let press = 1; press <= 40; press += 1) {
    await tab.press('Tab');
    const at = await tab.evaluate(() => document.activeElement?.localName ?? '');
    if (at === 'keywarden-capture') return passed;
    passed.push(at);
  }
  throw new Error('Tab from the page never reached the save control');
}

/**
 * Compares screenshot clips around `box` (8 px beyond it) focused and at rest, band by band
 * (each band the pixels 1, 2, … 6 px outside the box): returns how many bands changed in 70% of
 * their pixels or more (the ring's width in px), and the median contrast between a changed pixel
 * focused and the same pixel at rest, in those bands.
 */
async function ringChange(decoder, box, focusedShot, restShot) {
  const [on, off] = [await decodePng(decoder, focusedShot), await decodePng(decoder, restShot)];
  const m = 8;
  const bands = Array.from({ length: 7 }, () => ({ all: 0, ratios: [] }));
  for (let y = 0; y < on.height; y += 1) {
    for (let x = 0; x < on.width; x += 1) {
      const dx = Math.max(m - x, x - (m + Math.round(box.width) - 1), 0);
      const dy = Math.max(m - y, y - (m + Math.round(box.height) - 1), 0);
      const d = Math.max(dx, dy);
      if (d < 1 || d > 6) continue;
      const i = (y * on.width + x) * 4;
      const a = `rgb(${on.data[i]}, ${on.data[i + 1]}, ${on.data[i + 2]})`;
      const b = `rgb(${off.data[i]}, ${off.data[i + 1]}, ${off.data[i + 2]})`;
      bands[d].all += 1;
      if (a !== b) bands[d].ratios.push(contrast(a, b));
    }
  }
  const ring = bands.filter((band) => band.all && band.ratios.length >= 0.7 * band.all);
  const ratios = ring.flatMap((band) => band.ratios).sort((x, y) => x - y);
  return { width: ring.length, contrast: ratios.length ? ratios[Math.floor(ratios.length / 2)] : 1 };
}

async function clip(tab, box) {
  const m = 8;
  return withTimeout(tab.page.screenshot({ clip: { x: box.x - m, y: box.y - m, width: box.width + 2 * m, height: box.height + 2 * m } }), 10_000, 'screenshot clip');
}

for (const name of BROWSERS) {
describe(`${name}: keyboard focus`, () => {
  let browser;
  let options;
  let vendor;
  const session = launchForSuite(name, fixtures, {
    async setup(launched) {
      browser = launched;
      options = await findOptionsTab(browser);
      vendor = await openTab(browser);
    },
  });
  // Each step builds on the ones before it.
  const step = chainedSteps(() => session.ready(), TEST);

  /**
   * Opens the popup, waits for `state`, optionally does `then(popup)`, and walks it. Chromium: a
   * tab of its own at the popup's width. Firefox (whose driver cannot open moz-extension
   * addresses): the options tab goes to popup.html, and back to the options page after.
   */
  async function walkPopup(state, what, { then, expect } = {}) {
    const firefox = browser.name !== 'chromium';
    const popup = firefox ? options : await openPopup(browser);
    try {
      if (firefox) {
        await bringToFront(options);
        await loadExtensionPage(options, 'popup.html');
      }
      await waitForVault(popup, state, { timeout: 30_000 });
      await then?.(popup);
      return await walk(popup, popup, what, { expect });
    } finally {
      if (firefox) await loadExtensionPage(options, 'options.html');
      else await withTimeout(popup.page.close(), 5_000, 'close popup').catch(() => {});
    }
  }

  step('the popup and the options page without a vault', async () => {
    await walkPopup('new', 'the popup without a vault');
    await bringToFront(options);
    await loadExtensionPage(options);
    await waitForVault(options, 'new');
    await walk(options, options, 'the options page without a vault', { expect: ['#setup-passphrase', '#setup-confirm', 'Create vault'] });
  });

  step('the step panel and the save control', async () => {
    await setUpVault(options, PASSPHRASE);
    await walk(options, options, 'the options page unlocked');
    await bringToFront(vendor);
    await vendor.goto(`${APP}/tokens`);
    const first = await expectStep(vendor, 'name-token', '#token-name');
    await walk(vendor, first, 'the step panel', { expect: ['Before you start', 'Next', 'Not now'] });
    await vendor.type('#token-name', 'focus');
    await vendor.click({ css: 'button', text: 'Create Token' });
    await vendor.waitForSelector(CAPTURE);
    const { panel } = await waitForPanelStep(vendor, 'copy-token');
    await unfold(vendor);
    await walk(vendor, panel, 'the step panel beside a new key');
    // From the page, Tab reaches the save control: its ring changes the pixels around it.
    await vendor.evaluate(() => {
      const copy = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Copy Token');
      copy.focus();
    });
    const box = await vendor.waitForSelector(CAPTURE);
    const rest = await clip(vendor, box);
    // Beside the key it saves, the save control comes before the step panel in the tab order.
    const passed = await tabToCapture(vendor);
    assert.ok(!passed.includes('keywarden-panel'), `Tab reaches the save control before the panel (passed ${passed})`);
    const focused = await clip(vendor, box);
    const ring = await ringChange(options, box, focused, rest);
    assert.ok(ring.width >= 2, `the focused save control draws a ring ${ring.width} px wide around it`);
    assert.ok(ring.contrast >= 3, `its ring stands out at ${ring.contrast.toFixed(2)}:1 from what it covers`);
    // And the focus moves on: the save control does not keep it.
    await vendor.press('Tab');
    assert.notEqual(await vendor.evaluate(() => document.activeElement?.localName ?? ''), 'keywarden-capture', 'Tab leaves the save control');
  });

  step('the popup unlocked with a key, a key\'s detail view, and locked', async () => {
    await saveNewToken(vendor, 'focus alpha');
    await walkPopup('unlocked', 'the popup unlocked with a key', { expect: ['Copy'] });
    await walkPopup('unlocked', 'a key\'s detail view in the popup', {
      async then(popup) {
        // From the keyboard, as the walk goes: the entry's button focused, then Enter.
        const focused = await popup.evaluate(() => {
          const open = [...document.querySelectorAll('button')].find((b) => /^Details of focus alpha/.test(b.getAttribute('aria-label') ?? b.textContent.trim()));
          open?.focus();
          return open !== undefined && document.activeElement === open;
        });
        assert.ok(focused, 'the button that opens the detail view of focus alpha takes the focus');
        await popup.press('Enter');
        await popup.waitForSelector('#detail');
      },
    });
    await bringToFront(options);
    await loadExtensionPage(options);
    await waitForVault(options, 'unlocked', { also: (v) => v.entries.length > 0, what: 'with the saved key' });
    await walk(options, options, 'the options page unlocked with a key');
    await options.evaluate(() => chrome.runtime.sendMessage({ v: 2, body: { type: 'lock' } }));
    await walkPopup('locked', 'the popup locked', { expect: ['#unlock-passphrase', 'Unlock'] });
    await loadExtensionPage(options);
    await waitForVault(options, 'locked');
    await walk(options, options, 'the options page locked');
  });
});
}
