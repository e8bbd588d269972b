// End-to-end checks of the PredictHQ walkthrough and key capture, run against the built extension in Chromium and Firefox.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CSP,
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
} from './harness.mjs';

const APP = 'https://control.predicthq.com';
const VENDOR = 'predicthq';
const TEST = { timeout: 60_000 };

const TOKENS_LINK = { css: 'nav a[href="/tokens"]', text: 'API Tokens' };
const NAME_INPUT = '#token-name';
const SCOPES = 'fieldset';
const CREATE = { css: 'button', text: 'Create Token' };
const CREATE_NEW = { css: 'button', text: 'Create New Token' };
const COPY = { css: 'button', text: 'Copy Token' };
const CAPTURE = `keywarden-capture[data-vendor="${VENDOR}"]`;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{40}$/;

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

/** Waits for step `step` to be highlighted around `target` and shown in the panel. */
async function expectStep(tab, step, target, relation = 'contains') {
  await waitForHighlight(tab, { vendor: VENDOR, step, target, relation });
  const { panel, dialog } = await waitForPanelStep(tab, step);
  assert.ok(dialog.title, `the panel dialog for "${step}" has an accessible title`);
  for (const label of ['Back', 'Next', 'Dismiss']) {
    assert.ok(dialog.buttons.includes(label), `the panel for "${step}" has a "${label}" button (saw ${dialog.buttons})`);
  }
  return panel;
}

/** Fills in the token form and walks through the scopes step up to the "Create Token" highlight. */
async function fillTokenForm(tab, name) {
  await expectStep(tab, 'name-token', NAME_INPUT);
  await tab.type(NAME_INPUT, name);
  const panel = await expectStep(tab, 'choose-scopes', SCOPES, 'intersects');
  await panel.click({ css: 'button', text: 'Next' });
  await expectStep(tab, 'create-token', CREATE);
}

/** Creates a token, waits for the copy step and the capture control, and returns the new token. */
async function createToken(tab, name) {
  await fillTokenForm(tab, name);
  await tab.click(CREATE);
  await expectStep(tab, 'copy-token', COPY);
  const token = await tab.waitFor(() => document.querySelector('code')?.textContent.trim(), null, { what: 'the new token' });
  assert.match(token, TOKEN_PATTERN);
  const capture = await tab.waitForSelector(CAPTURE);
  const code = await tab.boundingBox('code');
  assert.ok(
    distance(capture, code) <= 200,
    `the capture control ${describeBox(capture)} sits next to the token ${describeBox(code)}`,
  );
  await expectNoLeak(tab, token);
  return token;
}

async function expectNoLeak(tab, token) {
  const { secret, leaks } = await secretLeaks(tab);
  assert.equal(secret, token);
  assert.deepEqual(leaks, [], 'the token appears only in the page\'s own <code> element');
}

function captureState(tab) {
  return tab.evaluate((css) => document.querySelector(css)?.getAttribute('data-state') ?? null, CAPTURE);
}

async function expectReceived(tab) {
  await tab.waitFor((css) => document.querySelector(css)?.getAttribute('data-state') === 'received', CAPTURE, {
    what: 'the capture control to report data-state="received"',
  });
}

/** Loads a page, waits until it has rendered `ready`, gives the extension time, and expects nothing of it there. */
async function expectUntouched(tab, url, ready) {
  const { status } = await tab.goto(url);
  assert.equal(status, 200, `${url} is served`);
  await tab.waitForSelector(ready);
  await sleep(2_000);
  assert.deepEqual(await injectedSnapshot(tab), { elements: [], panelFrames: [] }, `nothing is injected into ${url}`);
}

const BROWSERS = (process.env.KEYWARDEN_BROWSERS || 'chromium,firefox').split(',').map((b) => b.trim());

for (const name of BROWSERS) {
  describe(name, () => {
    let browser;
    let launchError;
    let tab;

    // A failed launch is reported by every test (counted as failures, not cancellations).
    before(async () => {
      try {
        if (fixturesError) throw fixturesError;
        browser = await launchBrowser(name, fixtures);
      } catch (error) {
        launchError = error;
      }
    }, { timeout: 120_000 });

    after(async () => {
      await browser?.close();
    }, { timeout: 30_000 });

    beforeEach(async () => {
      if (launchError) throw launchError;
      tab = await browser.newTab();
    }, { timeout: 20_000 });

    it('serves the fixture on the vendor host with the strict headers', TEST, async () => {
      const { status, headers } = await tab.goto(`${APP}/tokens`);
      assert.equal(status, 200);
      assert.equal(headers['content-security-policy'], CSP);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.equal(await tab.evaluate(() => location.host), 'control.predicthq.com');
      await tab.waitForSelector(CREATE);
      await tab.click(CREATE);
      await tab.waitForSelector('#token-name-error:not([hidden])');
      assert.equal(await tab.evaluate(() => document.querySelector('code')), null, 'an empty name creates nothing');
    });

    it('walks from the dashboard to a new token and captures it from its own control', TEST, async () => {
      await tab.goto(`${APP}/`);
      await expectStep(tab, 'open-tokens', TOKENS_LINK);
      await tab.evaluate(() => {
        window.sameDocument = true;
      });
      await tab.click(TOKENS_LINK);
      await tab.waitFor(() => location.pathname === '/tokens' && window.sameDocument === true, null, {
        what: 'the app to route to /tokens without reloading',
      });

      const token = await createToken(tab, 'e2e nightly sync');
      assert.notEqual(await captureState(tab), 'received');
      await tab.evaluate((css) => document.querySelector(css).scrollIntoView({ block: 'center' }), CAPTURE);
      const box = await tab.waitForSelector(CAPTURE);
      const { x, y } = centre(box);
      await tab.mouseClick(x, y);
      await expectReceived(tab);
      await expectNoLeak(tab, token);
    });

    it('starts with "Create New Token" in the token list', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      await tab.waitForSelector({ css: 'td', text: 'Reporting Client | nightly-export' });
      await expectStep(tab, 'new-token', CREATE_NEW);
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
      await tab.goto(`${APP}/`);
      const panel = await expectStep(tab, 'open-tokens', TOKENS_LINK);
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
