// What the vendor and vault test files have in common: one suite per browser around the fixture server, walkthrough steps, the capture control, leak checks, pages keywarden must leave alone, extra tabs, and finding the extension pages' controls by role and accessible name as a screen reader does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, it } from 'node:test';
import {
  CSP,
  STEP_TIMEOUT,
  Tab,
  centre,
  describeBox,
  distance,
  injectedSnapshot,
  launchBrowser,
  poll,
  secretLeaks,
  sleep,
  startFixtures,
  waitForHighlight,
  waitForPanelStep,
  withTimeout,
} from './harness.mjs';

/** The browsers to run each suite in: KEYWARDEN_BROWSERS, comma-separated, or both. */
export const BROWSERS = (process.env.KEYWARDEN_BROWSERS || 'chromium,firefox').split(',').map((b) => b.trim());

// ---------------------------------------------------------------------------
// Suites

/**
 * Starts the fixture server before a test file's suites and stops it after them; call it at the
 * top level of the file. A server that fails to start is reported by every suite's launch.
 */
export function serveFixtures() {
  const served = { fixtures: null, error: null };
  before(async () => {
    try {
      served.fixtures = await startFixtures();
    } catch (error) {
      served.error = error;
    }
  });
  after(async () => {
    await served.fixtures?.close();
  });
  return served;
}

/**
 * Adds the hooks of one browser's suite; call it inside that suite's describe. Before the tests
 * it launches `name` against `served` fixtures with the launcher `options`, waits `settle` ms
 * (a fresh install opens keywarden's options page, which may want to settle before the first
 * test navigates) and runs `setup(browser)`; after them it closes the browser and runs
 * `teardown()`.
 *
 * A failed start is kept rather than thrown, so that every test reports it (counted as failures,
 * not cancellations): `ready()` throws it, and `newTab()` throws it or opens a fresh tab.
 */
export function launchForSuite(name, served, { options, settle = 0, setup, teardown } = {}) {
  const session = {
    browser: null,
    error: null,
    ready() {
      if (session.error) throw session.error;
    },
    /**
     * An extension page kept open for the whole suite to talk to the worker through: the tab of
     * the options page keywarden opened on install, turned into popup.html (so that a later
     * "open the vault setup" is seen as a new options tab).
     */
    extensionTab: null,
    async newTab() {
      session.ready();
      if (!session.extensionTab) {
        session.extensionTab = await findOptionsTab(session.browser);
        session.browser.newTab.keep(session.extensionTab);
        await loadExtensionPage(session.extensionTab, 'popup.html');
      }
      return session.browser.newTab();
    },
  };
  before(async () => {
    try {
      if (served.error) throw served.error;
      session.browser = await launchBrowser(name, served.fixtures, options);
      if (settle) await sleep(settle);
      await setup?.(session.browser);
    } catch (error) {
      session.error = error;
    }
  }, { timeout: 120_000 });
  after(async () => {
    await session.browser?.close();
    await teardown?.();
  }, { timeout: 30_000 });
  return session;
}

/**
 * Tests that build on each other, in order: `step(title, fn)` adds one; once a step fails, the
 * later ones fail at once naming it instead of running on a broken state. `ready` is the suite's
 * (it throws a failed launch), `defaults` the tests' options.
 */
export function chainedSteps(ready, defaults = {}) {
  let brokenAt = null;
  return (title, fn) =>
    it(title, defaults, async (t) => {
      ready();
      if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
      try {
        await fn(t);
      } catch (error) {
        brokenAt = title;
        throw error;
      }
    });
}

// ---------------------------------------------------------------------------
// A vendor's walkthrough and capture control

/**
 * The helpers that depend on the vendor: its highlighted steps and its capture control (whose
 * selector is `CAPTURE`).
 */
export function vendorFlow(vendor) {
  const CAPTURE = `keywarden-capture[data-vendor="${vendor}"]`;

  /**
   * Waits for step `step` to be highlighted around `target` (with relation 'intersects', over
   * it) and shown in the panel with a title and its Back, Next and Dismiss buttons; returns the panel.
   */
  async function expectStep(tab, step, target, relation = 'contains') {
    await waitForHighlight(tab, { vendor, step, target, relation });
    const { panel, dialog } = await waitForPanelStep(tab, step);
    assert.ok(dialog.title, `the panel dialog for "${step}" has an accessible title`);
    for (const label of ['Back', 'Not now', `Don’t guide me on ${dialog.vendorName}`]) {
      assert.ok(dialog.buttons.includes(label), `the panel for "${step}" has a "${label}" button (saw ${dialog.buttons})`);
    }
    await unfold(tab);
    return panel;
  }

  /** The capture control's data-state, or null without one. */
  function captureState(tab) {
    return tab.evaluate((css) => document.querySelector(css)?.getAttribute('data-state') ?? null, CAPTURE);
  }

  /** Waits until the worker has received the key. */
  async function expectReceived(tab) {
    await tab.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'received', CAPTURE, {
      what: 'the capture control to report data-state="received"',
    });
  }

  /** Waits until the worker has taken the key: "received" (no vault set up yet, as in a fresh test profile) or "saved". */
  async function expectHandedOver(tab) {
    await tab.waitFor((css) => ['received', 'saved'].includes(document.querySelector(css)?.getAttribute('data-state')), CAPTURE, {
      what: 'the capture control to report data-state="received"',
    });
  }

  /** Expects the capture control within 200 px of `target`, the element that shows the secret (`what` names it). */
  async function expectCaptureBeside(tab, target, what) {
    const capture = await tab.waitForSelector(CAPTURE);
    const shown = await tab.boundingBox(target);
    assert.ok(distance(capture, shown) <= 200, `the capture control ${describeBox(capture)} sits next to ${what} ${describeBox(shown)}`);
  }

  /**
   * The capture control covers none of the vendor's controls matched by `css` (its Copy, Download,
   * Close): the admin can still press every one of them.
   */
  async function expectCaptureClearOf(tab, css) {
    await tab.waitForSelector(CAPTURE);
    const overlaps = await tab.evaluate(({ capture, css }) => {
      const c = document.querySelector(capture).getBoundingClientRect();
      return [...document.querySelectorAll(css)]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && c.left < r.right && c.right > r.left && c.top < r.bottom && c.bottom > r.top;
        })
        .map((el) => el.textContent.trim() || el.getAttribute('aria-label'));
    }, { capture: CAPTURE, css });
    assert.deepEqual(overlaps, [], 'the capture control covers none of the vendor\'s controls');
  }

  /** Scrolls the capture control to the middle of the view and clicks it with the mouse. */
  async function clickCapture(tab) {
    await tab.evaluate((css) => document.querySelector(css).scrollIntoView({ block: 'center' }), CAPTURE);
    const { x, y } = centre(await tab.waitForSelector(CAPTURE));
    await tab.mouseClick(x, y);
  }

  /**
   * Clicks `target`, a control that leaves the key behind, after the key was handed over: only a key
   * stored in the vault ("saved") leaves silently; a key merely received still brings keywarden's
   * question, which is accepted here.
   */
  async function leaveAfterCapture(tab, target) {
    const state = await captureState(tab);
    const dialogs = watchDialogs(tab);
    dialogs.answer('accept');
    try {
      await tab.click(target);
      await sleep(300);
      if (state === 'saved') assert.deepEqual(dialogs.seen, [], 'a key saved in the vault is left without a question');
      for (const d of dialogs.seen) assert.match(d.message, /not been saved to keywarden/);
    } finally {
      dialogs.stop();
    }
  }

  /**
   * Without a vault: the control says plainly, before any click, that nothing is kept; clicking it
   * opens keywarden's vault setup in a new tab, and the key stays on the page.
   */
  async function expectSetupOffered(session, tab) {
    await tab.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'novault', CAPTURE, {
      what: 'the capture control to say that without a vault nothing is kept (data-state="novault")',
    });
    const before = await optionsTabCount(session.browser);
    await clickCapture(tab);
    await poll(async () => (await optionsTabCount(session.browser)) > before, { what: 'the vault setup to open in a new tab' });
    // Closed again, so the next test sees a new one open (the browser reuses an open options tab).
    await optionsTabCount(session.browser, { close: true });
    await bringToFront(tab);
    assert.equal(await captureState(tab), 'novault', 'the control still says nothing is kept');
  }

  return { CAPTURE, expectStep, captureState, expectReceived, expectHandedOver, expectSetupOffered, expectCaptureBeside, expectCaptureClearOf, clickCapture, leaveAfterCapture };
}

/**
 * Creates a PredictHQ token named `name` in `tab`, saves it with keywarden's control into the
 * vault (set up and unlocked, or locked) and returns the token.
 */
export async function saveNewToken(tab, name, { timeout = 30_000 } = {}) {
  const { CAPTURE, clickCapture } = vendorFlow('predicthq');
  await bringToFront(tab);
  assert.equal((await tab.goto('https://control.predicthq.com/tokens')).status, 200);
  await tab.type('#token-name', name);
  await tab.click({ css: 'button', text: 'Create Token' });
  const token = await tab.waitFor(() => document.querySelector('code')?.textContent.trim(), null, { what: 'the new token' });
  await tab.waitForSelector(CAPTURE);
  await clickCapture(tab);
  await tab.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'saved', CAPTURE, {
    timeout,
    what: 'the capture control to say saved',
  });
  return token;
}

/** Presses Next in the panel of `step`. */
export async function next(tab, step) {
  const { panel } = await waitForPanelStep(tab, step);
  await unfold(tab);
  await panel.click({ css: 'button', text: 'Next' });
}

/**
 * When the panel is folded into its pill (no free space beside the vendor's controls), clicks
 * the pill as the admin would, so the panel shows.
 */
export async function unfold(tab) {
  const folded = await tab.evaluate(() => document.querySelector('keywarden-panel')?.hasAttribute('data-folded') ?? false);
  if (!folded) return;
  const pill = await tab.waitForSelector('keywarden-pill');
  await tab.mouseClick(pill.x + pill.width / 2, pill.y + pill.height / 2);
  await tab.waitFor(() => !document.querySelector('keywarden-panel')?.hasAttribute('data-folded'), null, { what: 'the panel to unfold' });
}

/**
 * Starts the walkthrough in `tab` the way the popup's "Create a new … key" does: from an
 * extension page (the options page keywarden opened on install, kept by the suite's `session`),
 * while `tab` is the active tab, asks the worker to guide in the active tab.
 */
export async function startGuide(session, tab) {
  const options = session.extensionTab ?? (await findOptionsTab(session.browser));
  await bringToFront(tab);
  const reply = await options.evaluate(async () => {
    const ext = globalThis.browser ?? globalThis.chrome;
    const [active] = await ext.tabs.query({ active: true, currentWindow: true });
    return ext.runtime.sendMessage({ v: 2, body: { type: 'resume', tab: active.id } });
  });
  assert.equal(reply?.body?.type, 'done', `the worker starts the walkthrough (replied ${JSON.stringify(reply)})`);
}

/**
 * Records the page's JavaScript dialogs in `seen` and answers each with the current answer
 * ('dismiss' until `answer('accept')`); `stop()` stops listening.
 */
export function watchDialogs(tab) {
  const seen = [];
  const state = { answer: 'dismiss' };
  const handler = async (dialog) => {
    seen.push({ type: dialog.type(), message: dialog.message() });
    try {
      await (state.answer === 'accept' ? dialog.accept() : dialog.dismiss());
    } catch {
      // Already handled by the driver.
    }
  };
  tab.page.on('dialog', handler);
  return {
    seen,
    answer(value) {
      state.answer = value;
    },
    stop() {
      tab.page.off('dialog', handler);
    },
  };
}

// ---------------------------------------------------------------------------
// What the page holds

/** Loads `url` and expects it served with status 200, the fixtures' strict CSP and nosniff. */
export async function expectStrictHeaders(tab, url) {
  const { status, headers } = await tab.goto(url);
  assert.equal(status, 200);
  assert.equal(headers['content-security-policy'], CSP);
  assert.equal(headers['x-content-type-options'], 'nosniff');
}

/**
 * Expects `secret` shown by the element `selector` (a <code> element's text or a field's value)
 * and nowhere else in the page; `message` says where it may appear.
 */
export async function expectShownOnlyIn(tab, selector, secret, message) {
  const { secret: shown, leaks } = await secretLeaks(tab, selector);
  assert.equal(shown, secret);
  assert.deepEqual(leaks, [], message);
}

/** Expects `secret` nowhere in the step panel, when one is open (a panel that goes away meanwhile holds nothing). */
export async function expectNotInPanel(tab, secret, message) {
  const panel = await tab.panelFrameNow();
  if (panel) {
    const inPanel = await panel.evaluate((s) => document.documentElement.outerHTML.includes(s), secret).catch(() => false);
    assert.equal(inPanel, false, message);
  }
}

/** Expects nothing of the extension in the page: no element of its own and no panel frame. */
export async function expectNothingInjected(tab, why) {
  assert.deepEqual(await injectedSnapshot(tab), { elements: [], panelFrames: [] }, why);
}

/** Gives the extension time to act, then expects nothing of it in the page; `where` names the page. */
export async function expectLeftAlone(tab, where) {
  await sleep(2_000);
  await expectNothingInjected(tab, `nothing is injected into ${where}`);
}

/** Loads a page, waits until it has rendered `ready`, gives the extension time, and expects nothing of it there. */
export async function expectUntouched(tab, url, ready) {
  const { status } = await tab.goto(url);
  assert.equal(status, 200, `${url} is served`);
  await tab.waitForSelector(ready);
  await expectLeftAlone(tab, url);
}

// ---------------------------------------------------------------------------
// Extension pages and extra tabs

/** Opens one more tab, leaving the others open. */
export async function openTab(browser) {
  const page = await withTimeout(
    browser.name === 'chromium' ? browser.context.newPage() : browser.browser.newPage(),
    STEP_TIMEOUT,
    'open tab',
  );
  return new Tab(browser.name, page);
}

export function bringToFront(tab) {
  return withTimeout(tab.page.bringToFront(), STEP_TIMEOUT, 'bring tab to front');
}

/** The options page the extension opens on install, found among the browser's tabs. */
export async function findOptionsTab(browser) {
  const wanted = `${browser.extensionOrigin}/options.html`;
  // Firefox may open the page in the blank start-up tab without telling the driver, which then
  // still reports that tab as about:blank: ask each tab where it is.
  const where = async (page) => {
    if (page.url().startsWith(wanted) || browser.name === 'chromium') return page.url();
    return withTimeout(page.evaluate(() => location.href), 2_000, 'tab location').catch(() => page.url());
  };
  const page = await poll(
    async () => {
      const pages = browser.name === 'chromium' ? browser.context.pages() : await browser.browser.pages();
      for (const p of pages) if ((await where(p)).startsWith(wanted)) return p;
      return null;
    },
    { timeout: 20_000, what: `the options page the extension opens on install (${wanted})` },
  );
  return new Tab(browser.name, page);
}

/** Chromium: the popup as the toolbar shows it, popup.html in a tab of its own at the popup's width. */
export async function openPopup(browser, { height = 640 } = {}) {
  const popup = await openTab(browser);
  await withTimeout(popup.page.setViewportSize({ width: 360, height }), STEP_TIMEOUT, 'popup size');
  await popup.goto(`${browser.extensionOrigin}/popup.html`);
  await popup.waitForSelector('section#vault[data-state]');
  return popup;
}

/**
 * Decodes `png` (a Buffer) in the extension page `tab` and returns its size and RGBA bytes.
 * Extension pages may draw data: images, which vendor pages' CSP forbids.
 */
export function decodePng(tab, png) {
  return tab.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = new OffscreenCanvas(img.width, img.height);
    const g = canvas.getContext('2d');
    g.drawImage(img, 0, 0);
    return { width: img.width, height: img.height, data: Array.from(g.getImageData(0, 0, img.width, img.height).data) };
  }, png.toString('base64'));
}

/** How many tabs show keywarden's options page; with `close`, closes them. */
export async function optionsTabCount(browser, { close = false } = {}) {
  const wanted = `${browser.extensionOrigin}/options.html`;
  const pages = browser.name === 'chromium' ? browser.context.pages() : await browser.browser.pages();
  let count = 0;
  for (const p of pages) {
    const at = await withTimeout(p.evaluate(() => location.href), 2_000, 'tab location').catch(() => p.url());
    if (!at.startsWith(wanted)) continue;
    count += 1;
    if (close) await withTimeout(p.close(), STEP_TIMEOUT, 'close options tab').catch(() => {});
  }
  return count;
}

// ---------------------------------------------------------------------------
// Finding controls as assistive technology does

/**
 * In the page: finds the one element a screen reader announces with `role` (or one of an array of
 * roles) and the accessible name `name` (exact, after collapsing white space) or matching
 * `pattern`; with `label` instead of a role, the one form field (input, select, textarea) whose
 * label says `name`, whatever its type: password and file inputs have no ARIA role, and are found
 * by the label read out for them. Marks it with data-e2e-target and returns { css } for it (with
 * `read`, and its `value`), { count } when several match, or null when none does.
 *
 * Roles are the explicit `role` or the element's implicit one (HTML-AAM); the name is, in that
 * order, aria-labelledby, aria-label, the field's <label> (for= or around it), the text content
 * for roles named from their content (button, link, heading, option, …; aria-hidden text left
 * out; an input button's value), then title, then a field's placeholder. Hidden elements count
 * for nothing. `within` (a selector, or the { role, name } of one element, found the same way)
 * limits the search to that element; `under` (a heading's name or { pattern }) to the part of the
 * page after that heading, up to the next heading of its level or above.
 */
function markControl({ role, label, name, pattern, flags, within, under, read }) {
  const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
  const FIELD_ROLES = { button: 'button', submit: 'button', reset: 'button', image: 'button', checkbox: 'checkbox', radio: 'radio',
    range: 'slider', number: 'spinbutton', search: 'searchbox', text: 'textbox', email: 'textbox', tel: 'textbox', url: 'textbox' };
  const implicit = (el) => {
    const tag = el.localName;
    if (tag === 'button') return 'button';
    if (tag === 'a' || tag === 'area') return el.hasAttribute('href') ? 'link' : null;
    if (tag === 'textarea') return 'textbox';
    if (tag === 'input') return FIELD_ROLES[(el.getAttribute('type') ?? 'text').toLowerCase()] ?? null;
    if (tag === 'select') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
    if (tag === 'option') return 'option';
    if (/^h[1-6]$/.test(tag)) return 'heading';
    if (tag === 'ul' || tag === 'ol') return 'list';
    if (tag === 'li') return el.parentElement?.matches('ul, ol') ? 'listitem' : null;
    if (tag === 'dialog') return 'dialog';
    const named = el.hasAttribute('aria-labelledby') || el.hasAttribute('aria-label');
    if (tag === 'section') return named ? 'region' : null;
    if (tag === 'form') return named ? 'form' : null;
    return null;
  };
  const roleOf = (el) => el.getAttribute('role')?.split(/\s+/)[0] || implicit(el);
  const roles = [role].flat();
  const FROM_CONTENT = new Set(['button', 'link', 'heading', 'option', 'cell', 'columnheader', 'rowheader', 'tab', 'menuitem',
    'menuitemcheckbox', 'menuitemradio', 'checkbox', 'radio', 'switch', 'treeitem', 'tooltip']);
  const isField = (el) => el.matches('input:not([type="hidden" i]), select, textarea');
  // Text as read aloud: what is aria-hidden (icons) is left out.
  const spoken = (el) => {
    if (!el) return '';
    const copy = el.cloneNode(true);
    for (const h of copy.querySelectorAll('[aria-hidden="true"]')) h.remove();
    return copy.textContent;
  };
  const labelsOf = (el) => {
    const found = el.id ? [...document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`)] : [];
    const around = el.closest('label');
    if (around && !found.includes(around)) found.push(around);
    return found;
  };
  const accessibleName = (el, fieldsOnly) => {
    const by = el.getAttribute('aria-labelledby');
    if (by) return norm(by.split(/\s+/).map((id) => spoken(document.getElementById(id))).join(' '));
    if (el.hasAttribute('aria-label') && norm(el.getAttribute('aria-label'))) return norm(el.getAttribute('aria-label'));
    if (isField(el) || el.localName === 'button') {
      const labels = labelsOf(el);
      if (labels.length) return norm(labels.map(spoken).join(' '));
    }
    if (fieldsOnly) return '';
    if (el.matches('input[type="submit" i], input[type="reset" i], input[type="button" i]')) return norm(el.value);
    if (FROM_CONTENT.has(roleOf(el))) {
      const text = norm(spoken(el));
      if (text) return text;
    }
    if (el.hasAttribute('title')) return norm(el.getAttribute('title'));
    if (el.matches('input, textarea') && el.hasAttribute('placeholder')) return norm(el.getAttribute('placeholder'));
    return '';
  };
  const hidden = (el) => el.closest('[hidden], [aria-hidden="true"]') !== null || el.getClientRects().length === 0;
  const matches = (wanted, n) => (typeof wanted === 'string' ? n === wanted : new RegExp(wanted.pattern, wanted.flags).test(n));
  const shown = (root) => [...root.querySelectorAll('*')].filter((el) => !hidden(el));
  let scope = document.documentElement;
  if (typeof within === 'string') scope = document.querySelector(within);
  else if (within) {
    const around = shown(scope).filter((el) => roleOf(el) === within.role && matches(within.name, accessibleName(el)));
    if (around.length > 1) return { count: around.length, scope: true };
    scope = around[0];
  }
  if (!scope) return null;
  let candidates = shown(scope);
  if (under) {
    const level = (h) => Number(h.getAttribute('aria-level') ?? h.localName.slice(1));
    const heading = candidates.find((el) => roleOf(el) === 'heading' && matches(under, accessibleName(el)));
    if (!heading) return null;
    const after = (a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    const end = candidates.find((el) => after(heading, el) && !heading.contains(el) && roleOf(el) === 'heading' && level(el) <= level(heading));
    candidates = candidates.filter((el) => after(heading, el) && (!end || after(el, end)));
  }
  const wanted = pattern === undefined ? name : { pattern, flags };
  const found = candidates
    .filter((el) => (label ? isField(el) && matches(wanted, accessibleName(el, true)) : roles.includes(roleOf(el)) && matches(wanted, accessibleName(el))))
    .filter((el) => getComputedStyle(el).visibility !== 'hidden');
  if (found.length !== 1) return found.length ? { count: found.length } : null;
  window.keywardenE2eMarks = (window.keywardenE2eMarks ?? 0) + 1;
  const mark = String(window.keywardenE2eMarks);
  found[0].setAttribute('data-e2e-target', mark);
  return read ? { css: `[data-e2e-target="${mark}"]`, value: found[0].value } : { css: `[data-e2e-target="${mark}"]` };
}

/**
 * Waits for the one element `query` finds (see markControl) and returns a selector for it, or with
 * `read` { css, value }, both read in one look; several are an error.
 */
async function findControl(tab, query, what, { within, under, timeout = STEP_TIMEOUT } = {}, { read = false } = {}) {
  const { name, ...rest } = query;
  const asQuery = (m) => (m instanceof RegExp ? { pattern: m.source, flags: m.flags } : m);
  const text = name instanceof RegExp ? { pattern: name.source, flags: name.flags } : { name };
  const scope = within && typeof within === 'object' ? { role: within.role, name: asQuery(within.name) } : within;
  const full = { ...rest, ...text, within: scope, under: under === undefined ? undefined : asQuery(under), read };
  const inside = typeof within === 'object' ? `the ${within.role} named ${within.name}` : within;
  const where = `${within ? ` in ${inside}` : ''}${under ? ` under the heading ${under}` : ''}`;
  const found = await tab.waitFor(markControl, full, { timeout, what: `${what}${where}` });
  if (found.scope) throw new Error(`${found.count} elements are ${inside}: the name does not tell them apart`);
  if (found.count) throw new Error(`${found.count} elements are ${what}${where}: the name does not tell them apart`);
  return read ? found : found.css;
}

/**
 * Waits for the one element with `role` and accessible name `name` (a string for an exact match,
 * or a RegExp) and returns a selector for it. `within` is the { role, name } of the element to
 * search inside (a region, say; found anew at each look, so a page drawn again is no trouble) or a
 * selector; `under` a heading's name, to search the part of the page that heading opens.
 */
export function byRole(tab, role, name, { within, under, timeout } = {}) {
  return findControl(tab, { role, name }, `a ${role} named ${name}`, { within, under, timeout });
}

/**
 * Waits for the one form field labelled `label` (a string or a RegExp), as a screen reader names
 * it, of any type (password and file inputs included, which have no role), and returns a selector for it.
 */
export function byLabel(tab, label, { within, under, timeout } = {}) {
  return findControl(tab, { label: true, name: label }, `a field labelled ${label}`, { within, under, timeout });
}

/**
 * Activates the control with `role` and `name` with real input: a mouse click in Chromium; in
 * Firefox, focus and Enter (its driver's click does not return when the click redraws the page).
 * Returns a selector for the control.
 */
export async function pressControl(tab, role, name, options) {
  const css = await byRole(tab, role, name, options);
  if (tab.kind === 'chromium') {
    await tab.click(css);
    return css;
  }
  const focused = await tab.evaluate((sel) => {
    window.focus();
    document.querySelector(sel).focus();
    return document.activeElement === document.querySelector(sel);
  }, css);
  assert.ok(focused, `${name} takes the focus`);
  await tab.press('Enter');
  return css;
}

/**
 * Replaces the text of a field, found by `{ role, name }` or by `{ label }` (with `within` or
 * `under` as byRole takes them): emptied, then typed key by key. Returns a selector for the field.
 */
export async function fill(tab, { role, name, label, ...where }, text) {
  const css = label === undefined ? await byRole(tab, role, name, where) : await byLabel(tab, label, where);
  await tab.evaluate((sel) => {
    const field = document.querySelector(sel);
    field.value = '';
    field.dispatchEvent(new Event('input', { bubbles: true }));
  }, css);
  if (text) await tab.type(css, text);
  return css;
}

/**
 * Picks the option whose value is `value` in the combobox or listbox named `name` (by its label),
 * the way a user does, once the option is there, and checks that the choice took (Puppeteer's
 * select quietly picks nothing when the option is missing). Returns a selector for the choice.
 */
export async function chooseByRole(tab, name, value, options = {}) {
  const query = { role: ['combobox', 'listbox'], name };
  const what = `a combobox or listbox named ${name}`;
  const css = await findControl(tab, query, what, options);
  await tab.waitFor(([sel, v]) => [...(document.querySelector(sel)?.options ?? [])].some((o) => o.value === v), [css, value], {
    what: `the option ${value} in the choice ${name}`,
  });
  const choice = tab.kind === 'chromium' ? tab.page.selectOption(css, value, { timeout: STEP_TIMEOUT }) : tab.page.select(css, value);
  await withTimeout(choice, STEP_TIMEOUT, `choose ${value} in ${name}`);
  // Found again: the choice may have the page drawn anew, with a control of the same name.
  const now = await findControl(tab, query, what, options, { read: true });
  assert.equal(now.value, value, `${name} shows the option chosen`);
  return now.css;
}

// ---------------------------------------------------------------------------
// The vault as extension pages show it

/**
 * Loads `file` (popup.html, options.html, options.html#settings) into an extension tab, or reloads
 * it when `file` is null, from inside the page: Firefox's driver cannot navigate to moz-extension
 * addresses.
 * Returns once the new document has drawn its vault section.
 */
export async function loadExtensionPage(tab, file = null) {
  await tab.evaluate((f) => {
    window.keywardenTestStale = true;
    setTimeout(() => {
      const to = f && new URL(f, location.href);
      // Only the fragment differs (options.html to options.html#settings): set it, then load anew.
      if (to && to.pathname === location.pathname && to.hash) {
        location.hash = to.hash;
        location.reload();
      } else if (to) location.href = to.href;
      else location.reload();
    }, 0);
    return true;
  }, file);
  await tab.waitFor(
    (f) =>
      !window.keywardenTestStale &&
      document.readyState === 'complete' &&
      (!f || `${location.pathname}${location.hash}`.endsWith(`/${f}`)) &&
      document.querySelector('section#vault[data-state]') !== null,
    file,
    { what: `${file ?? 'the extension page'} to load and draw its vault section` },
  );
}

/** What the vault section of an extension page shows. */
export function vaultView(tab) {
  return tab.evaluate(() => {
    const section = document.querySelector('section#vault');
    const norm = (s) => s.replace(/\s+/g, ' ').trim();
    return {
      state: section?.getAttribute('data-state') ?? null,
      text: section ? norm(section.textContent) : '',
      status: norm(document.querySelector('#page-status')?.textContent ?? ''),
      entries: [...document.querySelectorAll('#entries li[data-entry-id]')].map((li) => ({
        id: li.getAttribute('data-entry-id'),
        vendor: li.getAttribute('data-vendor'),
        text: norm(li.textContent),
        actions: [...li.querySelectorAll('button[data-action]')].map((b) => b.getAttribute('data-action')),
      })),
    };
  });
}

/** Waits until the vault section is in `state` and returns what it shows; the error tells what it showed instead. */
export async function waitForVault(tab, state, { timeout = STEP_TIMEOUT, also = () => true, what = '' } = {}) {
  let last = null;
  try {
    return await poll(
      async () => {
        last = await vaultView(tab);
        return last.state === state && also(last) ? last : null;
      },
      { timeout, what: `section#vault[data-state="${state}"]${what ? ` ${what}` : ''}` },
    );
  } catch (error) {
    throw new Error(`${error.message}; saw ${JSON.stringify(last)}`);
  }
}

/** The entry whose hint ends the way `token` does ("…abcd" in the options page, "•••• abcd" in the popup). */
export function entryFor(entries, token) {
  const hint = `…${token.slice(-4)}`;
  const masked = `•••• ${token.slice(-4)}`;
  const matching = entries.filter((e) => e.text.includes(hint) || e.text.includes(masked));
  assert.equal(matching.length, 1, `exactly one entry shows the hint ${hint} (entries: ${JSON.stringify(entries)})`);
  return matching[0];
}

/**
 * Creates the vault with `passphrase` in the options page `options` (as an admin does) and waits
 * until it is unlocked; Argon2 calibration makes this take seconds.
 */
export async function setUpVault(options, passphrase, { timeout = 45_000 } = {}) {
  await bringToFront(options);
  await loadExtensionPage(options);
  await waitForVault(options, 'new');
  await fill(options, { label: 'Passphrase' }, passphrase);
  await fill(options, { label: 'Repeat it' }, passphrase);
  await pressControl(options, 'button', 'Create vault');
  return waitForVault(options, 'unlocked', { timeout });
}

/** Reloads the options page and returns the entries its unlocked vault lists. */
export async function vaultEntries(options) {
  await bringToFront(options);
  await loadExtensionPage(options);
  return (await waitForVault(options, 'unlocked')).entries;
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in `scope` (a tab or a frame) and expects no violation; a failure lists each rule
 * with the elements it found. Evaluated through the driver, so the extension pages' CSP allows it.
 */
export async function expectAccessible(scope, what) {
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
