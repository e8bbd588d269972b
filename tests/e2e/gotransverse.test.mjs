// End-to-end checks of the Gotransverse walkthrough (Admin › Users › User Account Details › API Keys), the close guard, the missing-section note and key capture, in Chromium and Firefox.
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

const APP = 'https://partners.gotransverse.com';
const VENDOR = 'gotransverse';
const TEST = { timeout: 60_000 };
const LONG_TEST = { timeout: 120_000 };
const HEX32 = /^[0-9a-f]{32}$/;

const APP_MENU = 'button[aria-label="Application menu"]';
const ADMIN = { css: '[role="menuitem"]', text: 'Admin' };
const USERS = { css: 'nav.pane a', text: 'Users' };
const USERNAME_HEADER = { css: '#users th', text: 'Username' };
const MY_USERNAME = { css: '#users button', text: 'jordan.admin' };
const GENERATE = '#generate-key';
const NAME = '#key-name';
const DESCRIPTION = '#key-description';
const FINISH = { css: '.window-foot button', text: 'Finish' };
const COPY = '#copy-key';
const CLOSE = '#close-key-window';
const KEY = '#generated-key';
const CAPTURE = `keywarden-capture[data-vendor="${VENDOR}"]`;

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

async function expectStep(tab, step, target, relation = 'contains') {
  await waitForHighlight(tab, { vendor: VENDOR, step, target, relation });
  const { panel, dialog } = await waitForPanelStep(tab, step);
  assert.ok(dialog.title, `the panel dialog for "${step}" has an accessible title`);
  for (const label of ['Back', 'Next', 'Dismiss']) {
    assert.ok(dialog.buttons.includes(label), `the panel for "${step}" has a "${label}" button (saw ${dialog.buttons})`);
  }
  return panel;
}

async function next(tab, step) {
  const { panel } = await waitForPanelStep(tab, step);
  await panel.click({ css: 'button', text: 'Next' });
}

function panelBody(panel) {
  return panel.evaluate(() => document.querySelector('#kw-body')?.textContent.replace(/\s+/g, ' ').trim() ?? '');
}

/** Titles of the windows open now, bottom to top. */
function openWindows(tab) {
  return tab.evaluate(() => [...document.querySelectorAll('.window[role="dialog"] .window-head h2')].map((h) => h.textContent));
}

function captureState(tab) {
  return tab.evaluate((css) => document.querySelector(css)?.getAttribute('data-state') ?? null, CAPTURE);
}

/** The worker took the key: "received" (no vault set up yet, as in a fresh test profile) or "saved". */
async function expectReceived(tab) {
  await tab.waitFor((css) => ['received', 'saved'].includes(document.querySelector(css)?.getAttribute('data-state')), CAPTURE, {
    what: 'the capture control to report data-state="received"',
  });
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

async function clickCapture(tab) {
  const box = await tab.waitForSelector(CAPTURE);
  const { x, y } = centre(box);
  await tab.mouseClick(x, y);
}

/** Records the page's JavaScript dialogs and answers each with the current answer. */
function watchDialogs(tab) {
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

/** The new key in the Save generated key window, with the capture control beside it and no copy of it elsewhere. */
async function shownKey(tab) {
  const key = await tab.waitFor((css) => document.querySelector(css)?.textContent.trim() || null, KEY, { what: 'the generated key' });
  assert.match(key, HEX32);
  const capture = await tab.waitForSelector(CAPTURE);
  const code = await tab.boundingBox(KEY);
  assert.ok(distance(capture, code) <= 200, `the capture control ${describeBox(capture)} sits next to the key ${describeBox(code)}`);
  assert.deepEqual(await secretLeaks(tab, KEY), { secret: key, leaks: [] });
  return key;
}

/** Goes straight to User Management, opens the signed-in user and generates a key named `name`. */
async function openKeyWindow(tab, name) {
  await tab.goto(`${APP}/admin/users`);
  // Each click waits for its step: while a screen is still loading, the panel of the step before
  // may sit where the next control is about to appear.
  await expectStep(tab, 'open-username', USERNAME_HEADER);
  await tab.click(MY_USERNAME);
  await expectStep(tab, 'generate-key', GENERATE);
  await tab.click(GENERATE);
  await expectStep(tab, 'name-key', NAME);
  await tab.type(NAME, name);
  await expectStep(tab, 'describe-key', DESCRIPTION);
  await tab.click(FINISH);
  await expectStep(tab, 'save-key', COPY);
  return shownKey(tab);
}

async function expectNothingInjected(tab, why) {
  assert.deepEqual(await injectedSnapshot(tab), { elements: [], panelFrames: [] }, why);
}

async function expectUntouched(tab, url, ready) {
  const { status } = await tab.goto(url);
  assert.equal(status, 200, `${url} is served`);
  await tab.waitForSelector(ready);
  await sleep(2_000);
  await expectNothingInjected(tab, `nothing is injected into ${url}`);
}

const BROWSERS = (process.env.KEYWARDEN_BROWSERS || 'chromium,firefox').split(',').map((b) => b.trim());

for (const name of BROWSERS) {
  describe(`${name}: Gotransverse`, () => {
    let browser;
    let launchError;
    let tab;

    before(async () => {
      try {
        if (fixturesError) throw fixturesError;
        browser = await launchBrowser(name, fixtures);
        // A fresh install opens keywarden's options page; let that settle before the first test navigates.
        await sleep(2_000);
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

    it('serves the tenant with the strict headers and leaves Billing Accounts and its windows alone', TEST, async () => {
      const { status, headers } = await tab.goto(`${APP}/billing/accounts`);
      assert.equal(status, 200);
      assert.equal(headers['content-security-policy'], CSP);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      await tab.waitForSelector('#billing-accounts');
      await sleep(1_500);
      await expectNothingInjected(tab, 'the Billing Accounts page gets no overlay');
      await tab.click({ css: '#billing-accounts button', text: 'BA-00017' });
      assert.deepEqual(await openWindows(tab), ['Billing Account Details']);
      await sleep(1_500);
      await expectNothingInjected(tab, 'a billing account\'s window gets no overlay');
    });

    it('walks from the application menu to a new key, captures it and closes the window', LONG_TEST, async () => {
      await tab.goto(`${APP}/billing/accounts`);
      await tab.waitForSelector('#billing-accounts');
      await tab.click(APP_MENU);
      await expectStep(tab, 'open-admin', ADMIN);
      await tab.click(ADMIN);
      await expectStep(tab, 'open-users', USERS);
      await tab.click(USERS);
      // The grid loads late; the walkthrough points at the Username column.
      await expectStep(tab, 'open-username', USERNAME_HEADER);
      await tab.click(MY_USERNAME);
      // The API Keys section loads after the window opens.
      await expectStep(tab, 'generate-key', GENERATE);
      await tab.click(GENERATE);

      await expectStep(tab, 'name-key', NAME);
      await tab.type(NAME, 'billing-sync');
      await expectStep(tab, 'describe-key', DESCRIPTION);
      await tab.type(DESCRIPTION, 'Nightly invoice export to the warehouse');
      const panel = await expectStep(tab, 'choose-apis', '#available-api');
      const body = await panelBody(panel);
      for (const set of ['Billing', 'Dunning', 'Revenue Management', 'Configure Price Quote', 'Currex', 'Job Scheduler', 'Stored Value Service', 'Tax Essentials', 'Usage Processing']) {
        assert.ok(body.includes(set), `the API sets step names ${set}`);
      }
      await tab.click({ css: '#available-api li', text: 'Billing' });
      await next(tab, 'choose-apis');
      await expectStep(tab, 'finish-key', FINISH);
      await tab.click('button[aria-label="Move to Selected API"]');
      await tab.click({ css: '#available-api li', text: 'Usage Processing' });
      await tab.click('button[aria-label="Move to Selected API"]');
      assert.deepEqual(
        await tab.evaluate(() => [...document.querySelectorAll('#selected-api li')].map((li) => li.textContent)),
        ['Billing', 'Usage Processing'],
      );
      await tab.click(FINISH);

      await expectStep(tab, 'save-key', COPY);
      assert.deepEqual(await openWindows(tab), ['User Account Details', 'Save generated key']);
      await shownKey(tab);
      assert.notEqual(await captureState(tab), 'received');
      await clickCapture(tab);
      await expectReceived(tab);
      await shownKey(tab);

      await next(tab, 'save-key');
      await expectStep(tab, 'close-window', CLOSE);
      await leaveAfterCapture(tab, CLOSE);
      await tab.waitFor(() => document.querySelectorAll('.window').length === 1, null, { what: 'the key window to close' });
      await tab.waitForSelector({ css: '#api-keys td', text: 'billing-sync' });
      await expectStep(tab, 'generate-key', GENERATE);
    });

    it('hands the key over when "Copy to clipboard" is pressed', TEST, async () => {
      await openKeyWindow(tab, 'usage-feed');
      await tab.click(COPY);
      await expectReceived(tab);
    });

    it('asks before Close leaves an unsaved key: dismissing keeps the window, accepting closes it', TEST, async () => {
      await openKeyWindow(tab, 'dunning-bot');
      const dialogs = watchDialogs(tab);
      try {
        await tab.click(CLOSE);
        await poll(() => dialogs.seen.length === 1, { what: 'keywarden to ask before the key window closes' });
        assert.equal(dialogs.seen[0].type, 'confirm');
        assert.match(dialogs.seen[0].message, /shown only once and has not been saved to keywarden/);
        await sleep(500);
        assert.deepEqual(await openWindows(tab), ['User Account Details', 'Save generated key'], 'dismissed: the key window stays open');
        assert.notEqual(await captureState(tab), 'received');

        dialogs.answer('accept');
        await tab.click(CLOSE);
        await poll(() => dialogs.seen.length === 2, { what: 'the second question' });
        await tab.waitFor(() => document.querySelectorAll('.window').length === 1, null, { what: 'the key window to close' });
        assert.deepEqual(await openWindows(tab), ['User Account Details']);
      } finally {
        dialogs.stop();
      }
    });

    it('explains a missing API Keys section after a few seconds, naming the Manage User API Key authority', TEST, async () => {
      await tab.goto(`${APP}/admin/users?as=casey.ops`);
      await expectStep(tab, 'open-username', USERNAME_HEADER);
      await tab.click({ css: '#users button', text: 'casey.ops' });
      const opened = Date.now();
      assert.deepEqual(await openWindows(tab), ['User Account Details']);
      await poll(async () => (await tab.evaluate(() => document.querySelectorAll('keywarden-highlight').length)) === 0, {
        what: 'the highlight to go when nothing on the page can be pointed at',
      });
      const seen = await poll(
        async () => {
          const panel = await tab.panelFrameNow();
          if (!panel) return null;
          const view = await panel.evaluate(() => {
            const dialog = document.querySelector('[role="dialog"]');
            if (!dialog?.hasAttribute('data-missing')) return null;
            return { step: dialog.getAttribute('data-step'), text: dialog.textContent.replace(/\s+/g, ' ') };
          });
          return view ? { view, at: Date.now() } : null;
        },
        { timeout: 12_000, what: 'the panel to report the missing API Keys section' },
      );
      assert.ok(seen.at - opened >= 3_000, `the note waits out the grace period (came after ${seen.at - opened} ms)`);
      assert.equal(seen.view.step, 'generate-key');
      assert.match(seen.view.text, /Manage User API Key/);
      assert.match(seen.view.text, /Not found/);
      const { elements } = await injectedSnapshot(tab);
      assert.ok(elements.some((el) => el.name === 'keywarden-panel' && el.visible), 'the note is on screen, without a highlight');
      assert.ok(!elements.some((el) => el.name === 'keywarden-highlight'), 'nothing is highlighted');
    });

    it('works on another tenant\'s subdomain', TEST, async () => {
      await tab.goto('https://acme.gotransverse.com/admin');
      await expectStep(tab, 'open-users', USERS);
    });

    it('stays out of look-alike hosts', TEST, async () => {
      await expectUntouched(tab, 'https://partners.gotransverse.com.evil.test/admin', USERS);
      await expectUntouched(tab, 'https://partners-gotransverse.test/admin/users', USERNAME_HEADER);
    });
  });
}
