// End-to-end checks of the PredictHQ walkthrough and key capture, run against the built extension in Chromium and Firefox.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { injectedSnapshot, poll } from './harness.mjs';
import {
  BROWSERS,
  expectShownOnlyIn,
  expectStrictHeaders,
  expectUntouched,
  launchForSuite,
  serveFixtures,
  startGuide,
  vendorFlow,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const VENDOR = 'predicthq';
const TEST = { timeout: 60_000 };

const TOKENS_LINK = { css: 'nav a[href="/tokens"]', text: 'API Tokens' };
const NAME_INPUT = '#token-name';
const SCOPES = 'fieldset';
const CREATE = { css: 'button', text: 'Create Token' };
const CREATE_NEW = { css: 'button', text: 'Create New Token' };
const COPY = { css: 'button', text: 'Copy Token' };
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{40}$/;

const { expectStep, captureState, expectReceived, expectSetupOffered, expectCaptureBeside } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

/**
 * The steps performed in any tab since `since`, as the worker keeps them in its tab records
 * (Chromium, through the service worker): a function to call each time.
 */
function performedSince(browser, since) {
  return () => browser.serviceWorker.evaluate(async (from) => {
    const all = await chrome.storage.session.get(null);
    return Object.entries(all)
      .filter(([k]) => k.startsWith('tab:'))
      .flatMap(([, record]) => record?.progress?.memory ?? [])
      .filter((seen) => seen.at >= from)
      .map((seen) => seen.step);
  }, since);
}

/** Fills in the token form and walks through the scopes step up to the "Create Token" highlight. */
async function fillTokenForm(tab, name, create = CREATE) {
  await expectStep(tab, 'name-token', NAME_INPUT);
  await tab.type(NAME_INPUT, name);
  const panel = await expectStep(tab, 'choose-scopes', SCOPES, 'intersects');
  await panel.click({ css: 'button', text: 'Next' });
  await expectStep(tab, 'create-token', create);
}

/** Creates a token, waits for the copy step and the capture control, and returns the new token. */
async function createToken(tab, name) {
  await fillTokenForm(tab, name);
  await tab.click(CREATE);
  await expectStep(tab, 'copy-token', COPY);
  const token = await tab.waitFor(() => document.querySelector('code')?.textContent.trim(), null, { what: 'the new token' });
  assert.match(token, TOKEN_PATTERN);
  await expectCaptureBeside(tab, 'code', 'the token');
  await expectNoLeak(tab, token);
  return token;
}

/** Waits a moment and expects no highlight, panel or pill drawn on the page. */
async function expectNothingDrawn(tab, why) {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { elements } = await injectedSnapshot(tab);
  const drawn = elements.filter((el) => el.visible && ['keywarden-highlight', 'keywarden-panel', 'keywarden-pill'].includes(el.name));
  assert.deepEqual(drawn, [], why);
}

/** Expects the token in the page's own <code> element and nowhere else in the page. */
function expectNoLeak(tab, token) {
  return expectShownOnlyIn(tab, 'code', token, 'the token appears only in the page\'s own <code> element');
}

for (const name of BROWSERS) {
  describe(name, () => {
    // A fresh install opens keywarden's options page; it settles before the first test navigates.
    const session = launchForSuite(name, fixtures, { settle: 2_000 });
    let tab;
    beforeEach(async () => {
      tab = await session.newTab();
    }, { timeout: 20_000 });

    it('serves the fixture on the vendor host with the strict headers', TEST, async () => {
      await expectStrictHeaders(tab, `${APP}/tokens`);
      assert.equal(await tab.evaluate(() => location.host), 'control.predicthq.com');
      await tab.waitForSelector(CREATE);
      await tab.click(CREATE);
      await tab.waitForSelector('#token-name-error:not([hidden])');
      assert.equal(await tab.evaluate(() => document.querySelector('code')), null, 'an empty name creates nothing');
    });

    it('draws nothing on the dashboard by itself, but guides from there when asked', TEST, async () => {
      await tab.goto(`${APP}/`);
      await tab.waitForSelector(TOKENS_LINK);
      await expectNothingDrawn(tab, 'the dashboard is not a key page');
      await startGuide(session, tab);
      await expectStep(tab, 'open-tokens', TOKENS_LINK);
    });

    it('walks from the dashboard to a new token and captures it from its own control', TEST, async () => {
      await tab.goto(`${APP}/`);
      await tab.waitForSelector(TOKENS_LINK);
      await startGuide(session, tab);
      await expectStep(tab, 'open-tokens', TOKENS_LINK);
      await tab.evaluate(() => {
        window.sameDocument = true;
      });
      await tab.click(TOKENS_LINK);
      await tab.waitFor(() => location.pathname === '/tokens' && window.sameDocument === true, null, {
        what: 'the app to route to /tokens without reloading',
      });

      const token = await createToken(tab, 'e2e nightly sync');
      await expectSetupOffered(session, tab);
      await expectNoLeak(tab, token);
    });

    it('starts with "Create New Token" in the token list', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      await tab.waitForSelector({ css: 'td', text: 'Reporting Client | nightly-export' });
      await expectStep(tab, 'new-token', CREATE_NEW);
    });

    it('finds "Create New Token" between 2,000 rows above it and 2,000 tokens below it', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list&pad=2000`);
      await tab.waitForSelector({ css: 'td', text: 'ingest-1999' });
      // Not the sidebar's "API Tokens" (the page the admin is on), but the button after the rows.
      await expectStep(tab, 'new-token', CREATE_NEW);
      await tab.click(CREATE_NEW);
      await createToken(tab, 'e2e long list');
    });

    it('remembers the admin\'s own press of Create Token, never a script\'s click', TEST, async (t) => {
      if (name !== 'chromium') {
        t.skip('reads the tab records in storage.session through the service worker, which only Chromium exposes');
        return;
      }
      const performed = performedSince(session.browser, Date.now());
      await tab.goto(`${APP}/tokens?state=list`);
      await expectStep(tab, 'new-token', CREATE_NEW);
      // The page's own script opens the form: it does what the page wants, but performs no step.
      await tab.evaluate(() => [...document.querySelectorAll('button')].find((b) => /Create New Token/.test(b.textContent)).click());
      await fillTokenForm(tab, 'e2e memory');
      assert.deepEqual(await performed(), [], 'a script\'s click is not the admin\'s');
      await tab.click(CREATE);
      await expectStep(tab, 'copy-token', COPY);
      await poll(async () => (await performed()).includes('create-token'), { what: 'the worker to remember Create Token' });
    });

    it('remembers Create Token pressed from the keyboard on a control made of a div with a button role', TEST, async (t) => {
      if (name !== 'chromium') {
        t.skip('reads the tab records in storage.session through the service worker, which only Chromium exposes');
        return;
      }
      const performed = performedSince(session.browser, Date.now());
      await tab.goto(`${APP}/tokens?state=list&divs=1`);
      await expectStep(tab, 'new-token', CREATE_NEW);
      await tab.click(CREATE_NEW);
      await fillTokenForm(tab, 'e2e keyboard', { css: '#create-token-div', text: 'Create Token' });
      await tab.evaluate(() => document.getElementById('create-token-div').focus());
      await tab.press('Enter');
      await expectStep(tab, 'copy-token', COPY);
      await poll(async () => (await performed()).includes('create-token'), { what: 'the worker to remember Create Token pressed with Enter' });
    });

    it('hands a fresh token over when the page\'s own "Copy Token" is pressed', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      await expectStep(tab, 'new-token', CREATE_NEW);
      await tab.click(CREATE_NEW);
      const token = await createToken(tab, 'e2e warehouse');
      assert.notEqual(await captureState(tab), 'received');
      await tab.click(COPY);
      await expectReceived(tab);
      await expectNoLeak(tab, token);
    });

    it('stays out of look-alike hosts', TEST, async () => {
      await expectUntouched(tab, 'https://control.predicthq.com.phish.test/', TOKENS_LINK);
      await expectUntouched(tab, 'https://predicthq-control.test/tokens', CREATE);
    });

    it('stays out of a page that belongs to no vendor', TEST, async () => {
      await expectUntouched(tab, 'https://example.test/', 'form button');
    });

    // Runs last: a dismissal may be remembered for the rest of the browser session.
    it('dismisses the walkthrough with Escape inside the panel', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      const panel = await expectStep(tab, 'new-token', CREATE_NEW);
      await panel.press('[role="dialog"]', 'Escape');
      await poll(
        async () => {
          const { elements } = await injectedSnapshot(tab);
          return !elements.some((el) => el.visible && ['keywarden-highlight', 'keywarden-panel'].includes(el.name));
        },
        { what: 'the highlight and the panel to disappear' },
      );
    });
  });
}
