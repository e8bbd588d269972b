// End-to-end checks of the self-hosted PlanningSpace walkthrough: adding the server in the options page with the browser's permission, the walk to a new API key and its capture, in Chromium and Firefox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
  pressKeysOnDisplay,
  sleep,
  startFixtures,
  waitForHighlight,
  waitForPanelStep,
  withTimeout,
} from './harness.mjs';

const VENDOR = 'planningspace';
const HOST = 'planning.example-energy.test';
const OTHER_HOST = 'planning.other-company.test';
const SERVER = `https://${HOST}`;
const TENANT_HOME = `${SERVER}/ACME/`;
const WEB_APP = `${SERVER}/ACME/PlanningSpace/`;
const GENERATE_PAGE = `${WEB_APP}#/generateApiKey`;
const TEST = { timeout: 60_000 };

const LAUNCH_WEB = { css: 'a', text: 'PlanningSpace Web' };
const USER_MENU = { css: 'button[aria-haspopup="menu"]', text: 'Dana Reyes' };
const GENERATE_ITEM = { css: '[role="menu"] [role="menuitem"]', text: 'Generate API key' };
const CREATE = { css: 'button', text: 'Create key' };
const COPY = { css: 'button', text: 'Copy' };
const KEY_FIELD = '#api-key';
const CAPTURE = `keywarden-capture[data-vendor="${VENDOR}"]`;
const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SERVER_ITEM = `#server-list li[data-host="${HOST}"]`;

// Chromium shows a native dialog for the permission: it exists only in a real window, and the
// Deny button has the focus at first. Firefox grants optional permissions without a prompt when
// this preference is off and the request comes from a click.
const LAUNCH_OPTIONS = {
  chromium: { window: true },
  firefox: { prefs: { 'extensions.webextOptionalPermissionPrompts': false } },
};
const PROMPT_SETTLE_MS = 1_500;

let fixtures;
let fixturesError;
before(async () => {
  try {
    fixtures = await startFixtures();
  } catch (error) {
    fixturesError = error;
  }
});
after(async () => {
  await fixtures?.close();
});

/** Waits for step `step` to be highlighted around `target` and shown in the panel; returns the panel. */
async function expectStep(tab, step, target) {
  await waitForHighlight(tab, { vendor: VENDOR, step, target });
  const { panel, dialog } = await waitForPanelStep(tab, step);
  assert.ok(dialog.title, `the panel dialog for "${step}" has an accessible title`);
  for (const label of ['Back', 'Next', 'Dismiss']) {
    assert.ok(dialog.buttons.includes(label), `the panel for "${step}" has a "${label}" button (saw ${dialog.buttons})`);
  }
  return panel;
}

/** Opens the tenant website, follows the open-web step into PlanningSpace Web and returns when the app has loaded. */
async function enterWebApp(tab, t) {
  const started = Date.now();
  await tab.goto(TENANT_HOME);
  await expectStep(tab, 'open-web', LAUNCH_WEB);
  t.diagnostic(`open-web shown ${Date.now() - started} ms after loading the tenant website`);
  await tab.click(LAUNCH_WEB);
  await tab.waitFor(() => location.pathname === '/ACME/PlanningSpace/' && document.readyState === 'complete', null, {
    what: 'PlanningSpace Web to load',
  });
  const loaded = Date.now();
  await tab.waitForSelector(USER_MENU);
  return loaded;
}

// What the panel's dialog says, as rendered, and whether it marks its step as not found.
function panelText() {
  const dialog = document.querySelector('[role="dialog"]');
  if (!dialog) return null;
  return { step: dialog.getAttribute('data-step'), missing: dialog.hasAttribute('data-missing'), text: dialog.innerText };
}

/** The extension page the worker opened on install, found among the browser's tabs. */
async function findOptionsTab(browser) {
  const wanted = `${browser.extensionOrigin}/options.html`;
  // Firefox may open the page in the blank start-up tab without telling the driver, which then
  // still reports that tab as about:blank: ask each tab where it is.
  const where = async (page) => {
    if (page.url().startsWith(wanted)) return page.url();
    if (browser.name === 'chromium') return page.url();
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

async function openTab(browser) {
  const page = await withTimeout(
    browser.name === 'chromium' ? browser.context.newPage() : browser.browser.newPage(),
    STEP_TIMEOUT,
    'open tab',
  );
  return new Tab(browser.name, page);
}

function bringToFront(tab) {
  return withTimeout(tab.page.bringToFront(), STEP_TIMEOUT, 'bring tab to front');
}

/** Picks an option of a <select> the way a user does. */
function choose(tab, css, value) {
  const choice = tab.kind === 'chromium' ? tab.page.selectOption(css, value, { timeout: STEP_TIMEOUT }) : tab.page.select(css, value);
  return withTimeout(choice, STEP_TIMEOUT, `choose ${value} in ${css}`);
}

/**
 * Where the key shown in the page's read-only field also appears: in the document's markup (the
 * field holds it as a property, never as an attribute), in another field, in any keywarden
 * element's attributes, or in the address or title.
 */
function keyLeaksInPage(tab) {
  return tab.evaluate((css) => {
    const field = document.querySelector(css);
    const secret = field?.value.trim();
    if (!secret) return { secret: null, leaks: ['no key found in the page'] };
    const leaks = [];
    if (document.documentElement.outerHTML.includes(secret)) leaks.push('document markup');
    for (const other of document.querySelectorAll('input, textarea')) {
      if (other !== field && other.value.includes(secret)) leaks.push(`another field (${other.id || other.name || other.type})`);
    }
    for (const el of document.querySelectorAll('*')) {
      if (!el.localName.startsWith('keywarden-')) continue;
      for (const attr of el.attributes) if (attr.value.includes(secret)) leaks.push(`${el.localName}[${attr.name}]`);
    }
    if (location.href.includes(secret)) leaks.push('address');
    if (document.title.includes(secret)) leaks.push('title');
    return { secret, leaks };
  }, KEY_FIELD);
}

async function expectNoLeak(tab, key) {
  const { secret, leaks } = await keyLeaksInPage(tab);
  assert.equal(secret, key);
  assert.deepEqual(leaks, [], 'the key appears only in the page\'s own key field');
  const panel = await tab.panelFrameNow();
  if (panel) {
    const inPanel = await panel.evaluate((s) => document.documentElement.outerHTML.includes(s), key);
    assert.equal(inPanel, false, 'the key does not appear in the panel');
  }
}

/** Presses Create key and returns the key the page then shows. */
async function createKey(tab) {
  await tab.click(CREATE);
  const key = await tab.waitFor((css) => document.querySelector(css)?.value || null, KEY_FIELD, { what: 'the new key' });
  assert.match(key, KEY_PATTERN);
  return key;
}

/** Expects nothing of the extension in the page, after giving it time to act. */
async function expectNothingInjected(tab, where) {
  await sleep(2_000);
  assert.deepEqual(await injectedSnapshot(tab), { elements: [], panelFrames: [] }, `nothing is injected into ${where}`);
}

/** Asks the Chromium worker whether the server's origin is granted and a content script is registered for it. */
function chromiumRegistration(browser, host) {
  return browser.serviceWorker.evaluate(async (h) => {
    const pattern = `https://${h}/*`;
    const granted = await chrome.permissions.contains({ origins: [pattern] });
    const scripts = await chrome.scripting.getRegisteredContentScripts();
    return { granted, registered: scripts.some((s) => s.matches.includes(pattern)) };
  }, host);
}

const BROWSERS = (process.env.KEYWARDEN_BROWSERS || 'chromium,firefox').split(',').map((b) => b.trim());

for (const name of BROWSERS) {
  describe(`${name}: PlanningSpace`, () => {
    let browser;
    let launchError;
    let options;
    let tab;

    // A failed launch is reported by every test (counted as failures, not cancellations).
    before(async () => {
      try {
        if (fixturesError) throw fixturesError;
        browser = await launchBrowser(name, fixtures, LAUNCH_OPTIONS[name]);
        options = await findOptionsTab(browser);
        tab = await openTab(browser);
      } catch (error) {
        launchError = error;
      }
    }, { timeout: 120_000 });

    after(async () => {
      await browser?.close();
    }, { timeout: 30_000 });

    const ready = () => {
      if (launchError) throw launchError;
    };

    it('stays out of the server before it is added', TEST, async () => {
      ready();
      await bringToFront(tab);
      const { status, headers } = await tab.goto(GENERATE_PAGE);
      assert.equal(status, 200);
      assert.equal(headers['content-security-policy'], CSP);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      await tab.waitForSelector({ css: 'h1', text: 'Generate API Key' });
      await createKey(tab);
      await expectNothingInjected(tab, `${GENERATE_PAGE} before the server is added`);
    });

    it('adds the server in the options page with the browser\'s permission', TEST, async (t) => {
      ready();
      await bringToFront(options);
      await options.waitForSelector('#add-server');
      const listing = await options.evaluate(() => document.querySelector('#server-list')?.textContent ?? null);
      assert.ok(listing !== null, 'the options page lists the servers');
      assert.equal(await options.evaluate((css) => document.querySelector(css), SERVER_ITEM), null, 'the server is not listed yet');
      await choose(options, '#server-vendor', VENDOR);
      await options.type('#server-url', WEB_APP);
      const started = Date.now();
      await options.click({ css: '#add-server button[type="submit"]', text: 'Add server' });
      if (name === 'chromium') {
        // The native prompt opens with Deny focused: Tab moves to Allow, space presses it.
        await sleep(PROMPT_SETTLE_MS);
        await pressKeysOnDisplay(browser.display, ['Tab', 'space']);
      }
      const statuses = () =>
        options.evaluate(() => [...document.querySelectorAll('[role="status"]')].map((el) => el.textContent.trim()).filter(Boolean));
      try {
        await options.waitForSelector(SERVER_ITEM);
      } catch (error) {
        const said = await statuses().catch(() => []);
        throw new Error(`${error.message}; the options page says ${JSON.stringify(said)}`);
      }
      t.diagnostic(`server listed ${Date.now() - started} ms after the click`);
      const said = await statuses();
      assert.ok(said.some((text) => text.startsWith(`${HOST} added`)), `the options page confirms the server (it says ${JSON.stringify(said)})`);
      const item = await options.evaluate((css) => document.querySelector(css).textContent, SERVER_ITEM);
      assert.match(item, /PlanningSpace/, 'the listed server names its product');
      if (name === 'chromium') {
        const registration = await poll(async () => {
          const r = await chromiumRegistration(browser, HOST);
          return r.granted && r.registered ? r : null;
        }, { what: `the permission and a content script registration for ${HOST}` });
        assert.deepEqual(registration, { granted: true, registered: true });
      }
    });

    it('says where "Generate API key" is while the user menu is closed', TEST, async (t) => {
      ready();
      // A tab of its own, so this walk's progress does not carry over into the next test.
      const own = await openTab(browser);
      try {
        await bringToFront(own);
        const loaded = await enterWebApp(own, t);
        const early = await own.panelFrameNow();
        const earlyText = early ? await early.evaluate(panelText).catch(() => null) : null;
        assert.ok(!earlyText?.missing, 'the panel does not report the item missing at once');
        const missing = await poll(
          async () => {
            const panel = await own.panelFrameNow();
            const seen = panel ? await panel.evaluate(panelText) : null;
            return seen?.step === 'open-generate' && seen.missing ? seen : null;
          },
          { timeout: 12_000, what: 'the panel to report that "Generate API key" is not on screen (data-missing)' },
        ).catch(async (error) => {
          const seen = await injectedSnapshot(own).catch(() => null);
          throw new Error(`${error.message}; the page holds ${JSON.stringify(seen)}`);
        });
        const waited = Date.now() - loaded;
        t.diagnostic(`missing-item panel shown ${waited} ms after the app loaded`);
        assert.ok(waited >= 2_000, `the missing-item panel waits before it nags (shown after ${waited} ms)`);
        assert.match(missing.text, /open the menu under your name/i);
        const stray = await own.evaluate(() => document.querySelectorAll('keywarden-highlight').length);
        assert.equal(stray, 0, 'nothing is highlighted while the item is missing');

        await own.click(USER_MENU);
        const panel = await expectStep(own, 'open-generate', GENERATE_ITEM);
        const shown = await panel.evaluate(panelText);
        assert.equal(shown.missing, false, 'the panel no longer reports the item missing once the menu is open');
      } finally {
        await withTimeout(own.page.close(), STEP_TIMEOUT, 'close tab').catch(() => {});
      }
    });

    it('walks from the tenant website to a new key and captures it', TEST, async (t) => {
      ready();
      await bringToFront(tab);
      const started = Date.now();
      await enterWebApp(tab, t);
      await tab.click(USER_MENU);
      await expectStep(tab, 'open-generate', GENERATE_ITEM);

      await tab.click(GENERATE_ITEM);
      await tab.waitFor(() => location.hash === '#/generateApiKey', null, { what: 'the app to route to #/generateApiKey' });
      await tab.waitForSelector({ css: 'h1', text: 'Generate API Key' });

      const createPanel = await expectStep(tab, 'create-key', CREATE);
      const createText = await createPanel.evaluate(panelText);
      assert.match(createText.text, /REPLACES/, 'the panel warns that a new key replaces the old one');

      const key = await createKey(tab);
      await expectStep(tab, 'copy-key', COPY);
      const capture = await tab.waitForSelector(CAPTURE);
      const field = await tab.boundingBox(KEY_FIELD);
      assert.ok(
        distance(capture, field) <= 200,
        `the capture control ${describeBox(capture)} sits next to the key ${describeBox(field)}`,
      );
      assert.equal(await tab.evaluate((css) => document.querySelector(css).getAttribute('data-state'), CAPTURE), 'ready');
      await expectNoLeak(tab, key);

      const { x, y } = centre(await tab.waitForSelector(CAPTURE));
      await tab.mouseClick(x, y);
      await tab.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'received', CAPTURE, {
        what: 'the capture control to report data-state="received"',
      });
      await expectNoLeak(tab, key);
      t.diagnostic(`whole walk ${Date.now() - started} ms`);
    });

    it('stays out of a server that was never added', TEST, async () => {
      ready();
      await bringToFront(tab);
      const tenant = `https://${OTHER_HOST}/ACME/`;
      assert.equal((await tab.goto(tenant)).status, 200);
      await tab.waitForSelector(LAUNCH_WEB);
      await expectNothingInjected(tab, tenant);
      const page = `https://${OTHER_HOST}/ACME/PlanningSpace/#/generateApiKey`;
      assert.equal((await tab.goto(page)).status, 200);
      await tab.waitForSelector({ css: 'h1', text: 'Generate API Key' });
      await createKey(tab);
      await expectNothingInjected(tab, page);
    });
  });
}
