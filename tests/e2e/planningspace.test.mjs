// End-to-end checks of the self-hosted PlanningSpace walkthrough: adding the server in the options page with the browser's permission, the walk to a new API key and its capture, in Chromium and Firefox.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, STEP_TIMEOUT, poll, pressKeysOnDisplay, sleep, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  byRole,
  chooseByRole,
  expectLeftAlone,
  expectNotInPanel,
  expectShownOnlyIn,
  expectStrictHeaders,
  fill,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openTab,
  pressControl,
  serveFixtures,
  startGuide,
  vendorFlow,
} from './flow.mjs';

const VENDOR = 'planningspace';
const HOST = 'planning.example-energy.test';
const OTHER_HOST = 'planning.other-company.test';
const SERVER = `https://${HOST}`;
const TENANT_HOME = `${SERVER}/ACME/`;
const WEB_APP = `${SERVER}/ACME/PlanningSpace/`;
const GENERATE_PAGE = `${WEB_APP}#/generateApiKey`;
const TEST = { timeout: 60_000 };
const SHOTS = path.join(REPO_ROOT, 'target', 'screenshots');

const LAUNCH_WEB = { css: 'a', text: 'PlanningSpace Web' };
const USER_MENU = { css: 'button[aria-haspopup="menu"]', text: 'Dana Reyes' };
const GENERATE_ITEM = { css: '[role="menu"] [role="menuitem"]', text: 'Generate API key' };
const CREATE = { css: 'button', text: 'Create key' };
const COPY = { css: 'button', text: 'Copy' };
const KEY_FIELD = '#api-key';
const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SERVER_ITEM = `#server-list li[data-host="${HOST}"]`;
/** The name of the button that removes the server once it is listed. */
const REMOVE_SERVER = `Remove ${HOST}`;
/** The options page's section of self-hosted servers, by its role and name. */
const SERVERS = { role: 'region', name: 'Self-hosted servers' };

// Chromium shows a native dialog for the permission: it exists only in a real window, and the
// Deny button has the focus at first. Firefox grants optional permissions without a prompt when
// this preference is off and the request comes from a click.
const LAUNCH_OPTIONS = {
  chromium: { window: true },
  firefox: { prefs: { 'extensions.webextOptionalPermissionPrompts': false } },
};
const PROMPT_SETTLE_MS = 1_500;

const { CAPTURE, expectStep, expectReceived, expectCaptureBeside } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

/** Opens the tenant website, follows the open-web step into PlanningSpace Web and returns when the app has loaded. */
async function enterWebApp(session, tab, t) {
  const started = Date.now();
  await tab.goto(TENANT_HOME);
  await tab.waitForSelector(LAUNCH_WEB);
  await startGuide(session, tab);
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

/** Expects the key in the page's own read-only field and nowhere else, the step panel included. */
async function expectNoLeak(tab, key) {
  await expectShownOnlyIn(tab, KEY_FIELD, key, 'the key appears only in the page\'s own key field');
  await expectNotInPanel(tab, key, 'the key does not appear in the panel');
}

/** Presses Create key and returns the key the page then shows. */
async function createKey(tab) {
  await tab.click(CREATE);
  const key = await tab.waitFor((css) => document.querySelector(css)?.value || null, KEY_FIELD, { what: 'the new key' });
  assert.match(key, KEY_PATTERN);
  return key;
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

for (const name of BROWSERS) {
  describe(`${name}: PlanningSpace`, () => {
    let browser;
    let options;
    let tab;
    const { ready } = launchForSuite(name, fixtures, {
      options: LAUNCH_OPTIONS[name],
      async setup(launched) {
        browser = launched;
        options = await findOptionsTab(browser);
        tab = await openTab(browser);
      },
    });

    it('stays out of the server before it is added', TEST, async () => {
      ready();
      await bringToFront(tab);
      await expectStrictHeaders(tab, GENERATE_PAGE);
      await tab.waitForSelector({ css: 'h1', text: 'Generate API Key' });
      await createKey(tab);
      await expectLeftAlone(tab, `${GENERATE_PAGE} before the server is added`);
    });

    it('adds the server in the options page with the browser\'s permission', TEST, async (t) => {
      ready();
      await bringToFront(options);
      // Before a vault exists the page is the welcome: the servers are under "All settings".
      await pressControl(options, 'link', 'All settings');
      await byRole(options, 'button', 'Add server', { within: SERVERS });
      const listing = await options.evaluate(() => document.querySelector('#server-list')?.textContent ?? null);
      assert.ok(listing !== null, 'the options page lists the servers');
      assert.equal(await options.evaluate((css) => document.querySelector(css), SERVER_ITEM), null, 'the server is not listed yet');
      await chooseByRole(options, 'Product', VENDOR, { within: SERVERS });
      await fill(options, { role: 'textbox', name: 'Server address', within: SERVERS }, WEB_APP);
      // Found first, so that the time taken is from the press on.
      await byRole(options, 'button', 'Add server', { within: SERVERS });
      const started = Date.now();
      await pressControl(options, 'button', 'Add server', { within: SERVERS });
      if (name === 'chromium') {
        // The native prompt opens with Deny focused: Tab moves to Allow, space presses it.
        await sleep(PROMPT_SETTLE_MS);
        await pressKeysOnDisplay(browser.display, ['Tab', 'space']);
      }
      const statuses = () =>
        options.evaluate(() => [...document.querySelectorAll('[role="status"]')].map((el) => el.textContent.trim()).filter(Boolean));
      try {
        await byRole(options, 'button', REMOVE_SERVER, { within: SERVERS });
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

    it('the welcome links to the key page on the added server', TEST, async () => {
      ready();
      await bringToFront(options);
      await loadExtensionPage(options, 'options.html');
      const link = await options.waitFor(
        (name) => {
          const a = [...document.querySelectorAll('#welcome-vendors li[data-vendor="planningspace"] a')].find((el) => el.getAttribute('aria-label') === name);
          return a ? { href: a.getAttribute('href'), text: a.textContent.trim(), target: a.target } : null;
        },
        `PlanningSpace key page on ${HOST}/ACME`,
        { what: 'the welcome\'s link to PlanningSpace\'s key page on the added server' },
      );
      assert.deepEqual(link, { href: GENERATE_PAGE, text: `${HOST}/ACME`, target: '_blank' });
      const welcome = await withTimeout(options.page.$('#welcome'), STEP_TIMEOUT, 'find the welcome');
      mkdirSync(SHOTS, { recursive: true });
      await withTimeout(welcome.screenshot({ path: path.join(SHOTS, `${name}-welcome-server.png`) }), STEP_TIMEOUT, 'screenshot the welcome');
      // The address it links to is the server's key page (loaded from elsewhere, not as a fragment change).
      await bringToFront(tab);
      await tab.goto(TENANT_HOME);
      assert.equal((await tab.goto(link.href)).status, 200);
      await tab.waitForSelector({ css: 'h1', text: 'Generate API Key' });
    });

    it('points at the menu under the name while its "Generate API key" item is hidden', TEST, async (t) => {
      ready();
      // A tab of its own, so this walk's progress does not carry over into the next test.
      const own = await openTab(browser);
      try {
        await bringToFront(own);
        await enterWebApp({ browser, extensionTab: options }, own, t);
        // The menu is closed: the step points at the button that opens it, never says "missing".
        const closed = await expectStep(own, 'open-generate', USER_MENU);
        const before = await closed.evaluate(panelText);
        assert.equal(before.missing, false, 'the panel points at the user menu rather than reporting the item missing');
        assert.match(before.text, /open the menu under your name/i);

        await own.click(USER_MENU);
        const panel = await expectStep(own, 'open-generate', GENERATE_ITEM);
        const shown = await panel.evaluate(panelText);
        assert.equal(shown.missing, false, 'once the menu is open the step points at its item');
      } finally {
        await withTimeout(own.page.close(), STEP_TIMEOUT, 'close tab').catch(() => {});
      }
    });

    it('walks from the tenant website to a new key and captures it', TEST, async (t) => {
      ready();
      await bringToFront(tab);
      const started = Date.now();
      await enterWebApp({ browser, extensionTab: options }, tab, t);
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
      await expectCaptureBeside(tab, KEY_FIELD, 'the key');
      // No vault in this profile: the control says so before any click.
      assert.equal(await tab.evaluate((css) => document.querySelector(css).getAttribute('data-state'), CAPTURE), 'novault');
      await expectNoLeak(tab, key);

      // The page's own Copy hands the key over; with no vault the worker keeps nothing and says so.
      await tab.click(COPY);
      await expectReceived(tab);
      await expectNoLeak(tab, key);
      t.diagnostic(`whole walk ${Date.now() - started} ms`);
    });

    it('stays out of a server that was never added', TEST, async () => {
      ready();
      await bringToFront(tab);
      const tenant = `https://${OTHER_HOST}/ACME/`;
      assert.equal((await tab.goto(tenant)).status, 200);
      await tab.waitForSelector(LAUNCH_WEB);
      await expectLeftAlone(tab, tenant);
      const page = `https://${OTHER_HOST}/ACME/PlanningSpace/#/generateApiKey`;
      assert.equal((await tab.goto(page)).status, 200);
      await tab.waitForSelector({ css: 'h1', text: 'Generate API Key' });
      await createKey(tab);
      await expectLeftAlone(tab, page);
    });
  });
}
