// End-to-end checks of the Gotransverse walkthrough (Admin › Users › User Account Details › API Keys), the close guard, the missing-section note and key capture, in Chromium and Firefox.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { injectedSnapshot, poll, secretLeaks, sleep } from './harness.mjs';
import {
  BROWSERS,
  expectNothingInjected,
  expectStrictHeaders,
  expectUntouched,
  launchForSuite,
  next,
  serveFixtures,
  startGuide,
  vendorFlow,
  watchDialogs,
} from './flow.mjs';

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

const { expectStep, captureState, expectHandedOver, expectCaptureBeside, expectCaptureClearOf, expectSetupOffered, leaveAfterCapture } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

function panelBody(panel) {
  return panel.evaluate(() => document.querySelector('#kw-body')?.textContent.replace(/\s+/g, ' ').trim() ?? '');
}

/** Titles of the windows open now, bottom to top. */
function openWindows(tab) {
  return tab.evaluate(() => [...document.querySelectorAll('.window[role="dialog"] .window-head h2')].map((h) => h.textContent));
}

/** The new key in the Save generated key window, with the capture control beside it and no copy of it elsewhere. */
async function shownKey(tab) {
  const key = await tab.waitFor((css) => document.querySelector(css)?.textContent.trim() || null, KEY, { what: 'the generated key' });
  assert.match(key, HEX32);
  await expectCaptureBeside(tab, KEY, 'the key');
  assert.deepEqual(await secretLeaks(tab, KEY), { secret: key, leaks: [] });
  return key;
}

/** Goes straight to User Management, opens the signed-in user and generates a key named `name`. */
async function openKeyWindow(session, tab, name) {
  await tab.goto(`${APP}/admin/users`);
  await tab.waitForSelector(USERNAME_HEADER);
  await startGuide(session, tab);
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

for (const name of BROWSERS) {
  describe(`${name}: Gotransverse`, () => {
    // A fresh install opens keywarden's options page; it settles before the first test navigates.
    const session = launchForSuite(name, fixtures, { settle: 2_000 });
    let tab;
    beforeEach(async () => {
      tab = await session.newTab();
    }, { timeout: 20_000 });

    it('serves the tenant with the strict headers and leaves Billing Accounts and its windows alone', TEST, async () => {
      await expectStrictHeaders(tab, `${APP}/billing/accounts`);
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
      await startGuide(session, tab);
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
      await expectCaptureClearOf(tab, '[role=dialog] button');
      assert.notEqual(await captureState(tab), 'received');
      await expectSetupOffered(session, tab);
      await shownKey(tab);

      await next(tab, 'save-key');
      await expectStep(tab, 'close-window', CLOSE);
      await leaveAfterCapture(tab, CLOSE);
      await tab.waitFor(() => document.querySelectorAll('.window').length === 1, null, { what: 'the key window to close' });
      await tab.waitForSelector({ css: '#api-keys td', text: 'billing-sync' });
      await expectStep(tab, 'generate-key', GENERATE);
    });

    it('hands the key over when "Copy to clipboard" is pressed', TEST, async () => {
      await openKeyWindow(session, tab, 'usage-feed');
      await tab.click(COPY);
      await expectHandedOver(tab);
    });

    it('asks before Close leaves an unsaved key: dismissing keeps the window, accepting closes it', TEST, async () => {
      await openKeyWindow(session, tab, 'dunning-bot');
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
      await tab.waitForSelector(USERNAME_HEADER);
      await startGuide(session, tab);
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
      assert.equal(seen.view.step, 'generate-key-unavailable');
      assert.match(seen.view.text, /Manage User API Key/);
      assert.match(seen.view.text, /Not found/);
      const { elements } = await injectedSnapshot(tab);
      assert.ok(elements.some((el) => el.name === 'keywarden-panel' && el.visible), 'the note is on screen, without a highlight');
      assert.ok(!elements.some((el) => el.name === 'keywarden-highlight'), 'nothing is highlighted');
    });

    it('works on another tenant\'s subdomain', TEST, async () => {
      await tab.goto('https://acme.gotransverse.com/admin');
      await tab.waitForSelector(USERS);
      await startGuide(session, tab);
      await expectStep(tab, 'open-users', USERS);
    });

    it('stays out of look-alike hosts', TEST, async () => {
      await expectUntouched(tab, 'https://partners.gotransverse.com.evil.test/admin', USERS);
      await expectUntouched(tab, 'https://partners-gotransverse.test/admin/users', USERNAME_HEADER);
    });
  });
}
