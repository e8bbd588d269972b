// End-to-end checks against a hostile vendor page in Chromium and Firefox: an attacker's script in the PredictHQ page forges input and messages, restyles and covers the save control and plants keys, and keywarden saves only what the admin really clicked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIREFOX_EXTENSION_UUID, PanelFrame, distance, poll, sleep, waitForPanelStep } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  entryFor,
  expectShownOnlyIn,
  findOptionsTab,
  launchForSuite,
  openTab,
  serveFixtures,
  setUpVault,
  startGuide,
  vaultEntries,
  vendorFlow,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const COMPROMISED = `${APP}/compromised/`;
const VENDOR = 'predicthq';
const NAME_INPUT = '#token-name';
const CREATE = { css: 'button', text: 'Create Token' };
const COPY = { css: 'button', text: 'Copy Token' };
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{40}$/;
const PASSPHRASE = 'hostile pages get nothing from this vault';
// The attacker's own key-shaped strings: one planted in the page, one swapped in as the admin clicks.
const PLANTED = 'PLANTEDbyTheAttacker_0123456789abcdWXYZ-';
const SWAPPED = 'SWAPPEDbyTheAttacker0123456789abcdefWXYZq';
const TEST = { timeout: 60_000 };
const QUIET_MS = 1_500;

const { CAPTURE, captureState, clickCapture } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

/** The save control's box, data attributes and the computed styles a page could use to hide it. */
function controlLook(tab) {
  return tab.evaluate((css) => {
    const el = document.querySelector(css);
    if (!el) return null;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      box: { x: r.x, y: r.y, width: r.width, height: r.height },
      viewport: { width: document.documentElement.clientWidth, height: document.documentElement.clientHeight },
      state: el.getAttribute('data-state'),
      reason: el.getAttribute('data-reason'),
      foreign: ['class', 'id', 'hidden'].filter((a) => el.hasAttribute(a)),
      style: {
        opacity: cs.opacity, visibility: cs.visibility, transform: cs.transform, filter: cs.filter, clipPath: cs.clipPath,
        pointerEvents: cs.pointerEvents, mixBlendMode: cs.mixBlendMode, zIndex: cs.zIndex, display: cs.display,
        after: getComputedStyle(el, '::after').content,
      },
    };
  }, CAPTURE);
}

/** Waits until the save control shows data-state `state` (and data-reason `reason`) and returns how it looks. */
function waitForState(tab, state, reason) {
  return poll(async () => {
    const look = await controlLook(tab);
    return look?.state === state && (reason === undefined || look.reason === reason) ? look : null;
  }, { what: `the save control to show data-state="${state}"${reason ? ` data-reason="${reason}"` : ''}` });
}

/**
 * The label inside the save control's closed shadow root. Only Chromium's DevTools protocol
 * reaches into closed shadow roots; elsewhere null.
 */
async function controlText(browser, tab) {
  if (browser.name !== 'chromium') return null;
  const cdp = await browser.context.newCDPSession(tab.page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const find = (node, test) => {
      if (test(node)) return node;
      for (const child of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) {
        const hit = find(child, test);
        if (hit) return hit;
      }
      return null;
    };
    const host = find(root, (n) => n.localName === 'keywarden-capture');
    const button = host && find(host, (n) => n.localName === 'button');
    return button ? (button.children ?? []).map((c) => c.nodeValue ?? '').join('') : null;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** The content script's panel URL as runtime.getURL gives it there (Chromium: the dynamic one). */
async function contentScriptPanelUrl(browser, tab) {
  const cdp = await browser.context.newCDPSession(tab.page);
  const contexts = [];
  cdp.on('Runtime.executionContextCreated', (e) => contexts.push(e.context));
  try {
    await cdp.send('Runtime.enable');
    const ours = await poll(() => contexts.find((c) => c.auxData?.type === 'isolated' && c.name === 'keywarden'), {
      what: "the content script's isolated world",
    });
    const { result } = await cdp.send('Runtime.evaluate', { contextId: ours.id, expression: "chrome.runtime.getURL('panel.html')", returnByValue: true });
    return result.value;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

// Loads `url` by fetch, image and frame from the page's own script; the frame is judged by the driver.
function probeInPage(tab, url) {
  return tab.evaluate(async (u) => {
    const out = {};
    try {
      out.fetch = `status ${(await fetch(u)).status}`;
    } catch (error) {
      out.fetch = `failed: ${error.name}`;
    }
    out.img = await new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve('loaded');
      img.onerror = () => resolve('failed');
      img.src = u;
    });
    const frame = document.createElement('iframe');
    frame.name = 'probe-frame';
    frame.src = u;
    document.body.append(frame);
    return out;
  }, url);
}

/** Whether the frame the probe made shows panel.html (its dialog root), or an error page. */
async function probeFrameLoadedPanel(tab) {
  await sleep(1_000);
  const frame = tab.page.frames().find((f) => f.name() === 'probe-frame');
  assert.ok(frame, 'the probe frame exists');
  const url = frame.url();
  const hasPanel = await Promise.race([
    frame.evaluate(() => document.getElementById('root') !== null).catch(() => false),
    sleep(3_000).then(() => false),
  ]);
  return { url, hasPanel };
}

for (const name of BROWSERS) {
  describe(`${name}: hostile vendor page`, () => {
    let browser;
    let options;
    let vendor;
    let token = null;
    const consoleLines = [];
    let brokenAt = null;

    const { ready } = launchForSuite(name, fixtures, {
      async setup(launched) {
        browser = launched;
        options = await findOptionsTab(browser);
        vendor = await openTab(browser);
        vendor.page.on('console', (m) => consoleLines.push(m.text()));
        vendor.page.on('pageerror', (e) => consoleLines.push(String(e?.message ?? e)));
      },
    });

    /** One step of the scenario; after a failure the later steps say so rather than fail confusingly. */
    const step = (title, fn, { independent = false, ...opts } = {}) =>
      it(title, { ...TEST, ...opts }, async (t) => {
        ready();
        if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
        const started = Date.now();
        try {
          await fn(t);
        } catch (error) {
          if (!independent) brokenAt = title;
          throw error;
        } finally {
          t.diagnostic(`${title}: ${Date.now() - started} ms`);
        }
      });

    const attacker = (fn, arg) => vendor.evaluate(fn, arg);

    step('1. the admin sets the vault up in the options page', async () => {
      await setUpVault(options, PASSPHRASE);
      assert.deepEqual(await vaultEntries(options), []);
    }, { timeout: 90_000 });

    step('2. no web page can load the step panel by its extension address (Chromium)', async () => {
      const fixed = `chrome-extension://${browser.extensionId}/panel.html`;
      await bringToFront(vendor);
      await vendor.goto(`${APP}/compromised/`);
      await vendor.waitForSelector(NAME_INPUT);
      await vendor.panel();
      const dynamic = await contentScriptPanelUrl(browser, vendor);
      assert.match(dynamic, /^chrome-extension:\/\/[0-9a-f-]{36}\/panel\.html$/, 'the content script frames the panel by its per-session address');
      assert.ok(!dynamic.includes(browser.extensionId));
      // The probe can tell: the page's own script loads the per-session address it was given...
      assert.equal((await attacker((u) => window.attacker.probe(u), dynamic)).fetch, 'status 200', 'the probe sees a loadable address');
      // ...but neither the vendor page's script nor a plain page loads the fixed one.
      assert.deepEqual(await attacker((u) => window.attacker.probe(u), fixed), { fetch: 'failed: TypeError', img: 'failed' });
      const plain = await openTab(browser);
      try {
        await plain.goto('https://example.test/');
        assert.deepEqual(await probeInPage(plain, fixed), { fetch: 'failed: TypeError', img: 'failed' }, 'example.test cannot load the panel');
        const framed = await probeFrameLoadedPanel(plain);
        assert.equal(framed.hasPanel, false, `a frame at the fixed address shows no panel (it is at ${framed.url})`);
      } finally {
        await plain.page.close().catch(() => {});
      }
    }, { independent: true, skip: name !== 'chromium' && 'Chromium only: Firefox has no dynamic URLs; its moz-extension host is random per install' });

    step('3. forged clicks, pointer and key events on the save control and the copy button save nothing', async () => {
      await bringToFront(vendor);
      await vendor.goto(COMPROMISED);
      await vendor.type(NAME_INPUT, 'e2e hostile page');
      await vendor.click(CREATE);
      token = await vendor.waitFor(() => document.querySelector('code')?.textContent.trim(), null, { what: 'the new token' });
      assert.match(token, TOKEN_PATTERN);
      await attacker((text) => window.attacker.plant(text), PLANTED);
      await waitForState(vendor, 'ready');
      assert.equal(await attacker(() => window.attacker.forge()), true, 'the attacker found the save control');
      await sleep(QUIET_MS);
      assert.equal(await captureState(vendor), 'ready', 'no forged event started a save');
      assert.deepEqual(await vaultEntries(options), [], 'nothing was saved');
    });

    step('4. made-up messages to the panel frame neither drive it nor reach into it', async (t) => {
      await bringToFront(vendor);
      const { dialog } = await waitForPanelStep(vendor, 'copy-token');
      assert.ok(dialog.buttons.includes('Not now'), `the panel shows its buttons (saw ${dialog.buttons})`);
      const frames = await attacker(() => window.attacker.message());
      t.diagnostic(`the page sees ${frames} frame(s)`);
      await sleep(QUIET_MS);
      await waitForPanelStep(vendor, 'copy-token', { timeout: 1_000 });
      const loot = await attacker(() => window.attacker.loot());
      assert.deepEqual(loot.frames, [], 'nothing readable in the panel frame');
    });

    step('5. the page\'s restyling of the save control is undone', async () => {
      await bringToFront(vendor);
      const before = await controlLook(vendor);
      await attacker(() => window.attacker.restyle());
      const look = await poll(async () => {
        const l = await controlLook(vendor);
        return l && l.style.opacity === '1' && l.foreign.length === 0 && l.state === 'ready' ? l : null;
      }, { what: 'the save control to be pinned again' });
      assert.deepEqual(look.style, {
        opacity: '1', visibility: 'visible', transform: 'none', filter: 'none', clipPath: 'none', pointerEvents: 'auto',
        mixBlendMode: 'normal', zIndex: '2147483647', display: 'block', after: 'none',
      });
      assert.deepEqual(look.box, before.box, 'the control stays where it was');
      assert.ok(look.box.x >= 0 && look.box.y >= 0 && look.box.x + look.box.width <= look.viewport.width, 'on screen');
      const shown = await vendor.boundingBox('code');
      assert.ok(distance(look.box, shown) <= 200, 'beside the token');
    });

    step('6. a real click on a control the page covers or draws over is refused, and the control says why', async (t) => {
      await bringToFront(vendor);
      const refusedFor = async (setUp, reason, text, what) => {
        await attacker(setUp);
        await sleep(300);
        await clickCapture(vendor);
        await waitForState(vendor, 'refused', reason).catch(async (error) => {
          throw new Error(`${what}: ${error.message}; saw ${JSON.stringify(await controlLook(vendor))}`);
        });
        const label = await controlText(browser, vendor);
        if (label !== null) assert.equal(label, text, 'the control says why');
        await attacker(() => {
          window.attacker.uncover();
          window.attacker.pseudo(false);
        });
      };
      if (name === 'chromium') {
        // A cover that paints over the control but lets the click through: only Chromium's
        // IntersectionObserver v2 can tell.
        await refusedFor(() => window.attacker.cover('opaque'), 'obscured', 'Not saved: obscured', 'an opaque cover passing clicks through');
      } else {
        t.diagnostic('firefox: a cover with pointer-events: none cannot be detected there (no occlusion API)');
      }
      await refusedFor(() => window.attacker.cover('transparent'), 'covered', 'Not saved: something covers this button', 'a transparent cover forwarding clicks');
      await refusedFor(() => window.attacker.pseudo(true), 'obscured', 'Not saved: obscured', 'page CSS drawing over the control through ::after');
      // The vendor's own copy button also saves: not when the page has made it all but invisible.
      await attacker(() => window.attacker.fadeCopy(true));
      await vendor.click(COPY);
      await waitForState(vendor, 'refused', 'hidden');
      await attacker(() => window.attacker.fadeCopy(false));
      assert.deepEqual(await vaultEntries(options), [], 'nothing was saved');
    });

    step('7. a key the page swaps in as the admin clicks is not saved', async () => {
      await bringToFront(vendor);
      await sleep(300);
      await attacker((text) => window.attacker.swapOnPress(text), SWAPPED);
      await clickCapture(vendor);
      const look = await poll(async () => {
        const l = await controlLook(vendor);
        return ['error', 'saved', 'received'].includes(l?.state) ? l : null;
      }, { what: 'the capture to settle' });
      assert.equal(look.state, 'error', 'the worker refused the swapped key');
      await attacker(() => window.attacker.unswap());
      assert.deepEqual(await vaultEntries(options), [], 'nothing was saved');
    });

    step('8. once the page leaves the control alone, a real click saves the real token, shown by its last four characters', async () => {
      await bringToFront(vendor);
      await vendor.waitFor((t) => document.querySelector('code')?.textContent.trim() === t, token, { what: 'the real token back' });
      await sleep(QUIET_MS);
      await clickCapture(vendor);
      await waitForState(vendor, 'saved');
      const text = await controlText(browser, vendor);
      if (text !== null) assert.equal(text, `Saved ✓ …${token.slice(-4)}`, 'the control shows the last four characters');
      const entries = await vaultEntries(options);
      assert.equal(entries.length, 1, `one entry (${JSON.stringify(entries)})`);
      assert.equal(entryFor(entries, token).vendor, VENDOR);
      assert.ok(!entries[0].text.includes(`…${PLANTED.slice(-4)}`) && !entries[0].text.includes(`…${SWAPPED.slice(-4)}`));
    });

    step('9. the page\'s script reads nothing of the key or the vault from keywarden', async () => {
      await bringToFront(vendor);
      await attacker(() => window.attacker.runtime());
      const loot = await attacker(() => window.attacker.loot());
      const said = JSON.stringify(loot);
      const entries = await vaultEntries(options);
      await bringToFront(vendor);
      const panel = await vendor.panel();
      const nonce = new URL(panel.url()).hash.slice(1);
      for (const [what, secret] of [['the token', token], ['its hint', `…${token.slice(-4)}`], ['the entry id', entries[0].id], ['the panel nonce', nonce]]) {
        assert.ok(!said.includes(secret), `the page's script did not get ${what}: ${said.slice(0, 2000)}`);
      }
      assert.deepEqual(loot.shadowRoots, [], 'keywarden\'s shadow roots are made where the page cannot see them');
      assert.ok(loot.texts.every((s) => s === '' || s === 'no shadow root'), `keywarden elements show the page no text (${loot.texts})`);
      assert.equal(loot.runtime, 'no runtime', 'the page has no extension API');
      assert.deepEqual(loot.resources.filter((r) => /extension:/.test(r)), [], 'no extension address among the page\'s resources');
      assert.deepEqual(loot.messages.filter((m) => !m.includes('"origin":"https://control.predicthq.com"')), [], 'keywarden posts nothing to the page');
      await expectShownOnlyIn(vendor, 'code', token, 'the token appears only in the page\'s own <code> element');
      assert.deepEqual(consoleLines.filter((l) => l.includes(token) || l.includes(`…${token.slice(-4)}`)), [], 'nothing of the token in the console');
    });

    step('10. every panel frame keywarden makes carries a fresh 128-bit nonce', async () => {
      await bringToFront(vendor);
      const panel = await vendor.panel();
      const first = new URL(panel.url()).hash.slice(1);
      assert.match(first, /^[0-9a-f]{32}$/);
      const shown = await panel.evaluate(() => document.querySelector('[role="dialog"]')?.getAttribute('data-step'));
      assert.ok(shown, 'the panel shows a step');
      await attacker(() => window.attacker.dropPanel());
      const again = await poll(async () => {
        const p = await vendor.panelFrameNow();
        const hash = p && new URL(p.url()).hash.slice(1);
        return hash && hash !== first ? hash : null;
      }, { what: 'a new panel frame' });
      assert.match(again, /^[0-9a-f]{32}$/);
      await waitForPanelStep(vendor, shown);
    });

    step('11. a panel frame the page makes cannot steer the tab', async (t) => {
      if (name === 'chromium') {
        t.diagnostic('chromium: the page cannot load panel.html at all (step 2)');
        return;
      }
      await bringToFront(vendor);
      await vendor.goto(`${APP}/tokens`);
      // A key was saved in this tab already: the walkthrough waits to be asked for here.
      await vendor.waitForSelector(NAME_INPUT);
      await startGuide({ browser, extensionTab: options }, vendor);
      const { dialog } = await waitForPanelStep(vendor, 'name-token');
      // The page loads the panel itself, with a nonce of its own, and presses Next there.
      await vendor.evaluate((url) => {
        const f = document.createElement('iframe');
        f.name = 'attacker-frame';
        f.src = url;
        document.body.append(f);
      }, `moz-extension://${FIREFOX_EXTENSION_UUID}/panel.html#${'0'.repeat(32)}`);
      await sleep(QUIET_MS);
      const guessed = `#${'0'.repeat(32)}`;
      let forged = null;
      for (const frame of vendor.page.frames()) {
        const url = await vendor.frameUrl(frame);
        if (url.endsWith(`panel.html${guessed}`)) forged = new PanelFrame(frame, vendor, url);
      }
      assert.ok(forged, 'the page framed the panel itself');
      const shown = await forged.evaluate(() => document.querySelector('[role="dialog"]')?.getAttribute('data-step') ?? null);
      assert.equal(shown, null, 'the page\'s frame is not given the walkthrough');
      await forged.press({ css: 'button', text: 'Next' }, 'Enter').catch(() => {});
      await sleep(QUIET_MS);
      await waitForPanelStep(vendor, dialog.step, { timeout: 1_000 });
    });
  });
}
