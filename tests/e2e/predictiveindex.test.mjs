// End-to-end checks of the Predictive Index walkthroughs (older User Management layout and newer Open API layout) and key capture, in Chromium and Firefox.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { poll, secretLeaks, sleep } from './harness.mjs';
import {
  BROWSERS,
  expectNothingInjected,
  expectShownOnlyIn,
  expectStrictHeaders,
  expectUntouched,
  launchForSuite,
  next,
  serveFixtures,
  startGuide,
  vendorFlow,
  watchDialogs,
} from './flow.mjs';

const APP = 'https://app.predictiveindex.com';
const VENDOR = 'predictiveindex';
const TEST = { timeout: 60_000 };
const LONG_TEST = { timeout: 150_000 };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const USER_BUTTON = '#user-button';
const ADMINISTRATION = { css: '[role="menuitem"]', text: 'Administration' };
const USER_MANAGEMENT = { css: '.subnav a', text: 'User Management' };
const CREATE_NEW_USER = { css: 'button', text: 'Create New User' };
const CREATE_USER = { css: 'button', text: 'Create User' };
const NAME_HEADER = { css: '#users th', text: 'Name' };
const GENERATE = '#generate-key';
const COPY_ICON = '#copy-api-key';
const KEY_FIELD = '#api-key';
const CANCEL = { css: 'button', text: 'Cancel' };

const { expectStep, captureState, expectHandedOver, expectCaptureBeside, expectSetupOffered, leaveAfterCapture } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

/** What the panel shows besides its title: body, warning and prerequisites text. */
function panelTexts(panel) {
  return panel.evaluate(() => {
    const text = (css) => document.querySelector(css)?.textContent.replace(/\s+/g, ' ').trim() ?? '';
    const warning = document.querySelector('#kw-warning');
    return {
      body: text('#kw-body'),
      warning: warning && !warning.hidden ? text('#kw-warning') : '',
      prerequisites: text('details.prerequisites'),
    };
  });
}

/** The key PI shows in the user's API Key field (a field value, never markup), once generated. */
async function keyInField(tab) {
  const key = await tab.waitFor((css) => document.querySelector(css)?.value || null, KEY_FIELD, { what: 'the generated key in the API Key field' });
  assert.match(key, GUID);
  return key;
}

/** The key may live only in the API Key field's value: not in markup, another field, keywarden attributes, the address or the title. */
function expectNoLeakFromField(tab, key) {
  return expectShownOnlyIn(tab, KEY_FIELD, key, 'the key appears only in PI\'s own API Key field');
}

for (const name of BROWSERS) {
  describe(`${name}: Predictive Index`, () => {
    // A fresh install opens keywarden's options page; it settles before the first test navigates.
    const session = launchForSuite(name, fixtures, { settle: 2_000 });
    let tab;
    beforeEach(async () => {
      tab = await session.newTab();
    }, { timeout: 20_000 });

    it('serves the app on its host with the strict headers, and leaves the Assessments page alone', TEST, async () => {
      await expectStrictHeaders(tab, `${APP}/assessments`);
      await tab.waitForSelector('#assessments');
      await sleep(2_000);
      await expectNothingInjected(tab, 'an unrelated page of the app gets no overlay');
    });

    it('walks the older layout from the user menu to a new user\'s key and captures it', LONG_TEST, async () => {
      await tab.goto(`${APP}/assessments`);
      await tab.waitForSelector('#assessments');
      await tab.evaluate(() => {
        window.sameDocument = true;
      });
      await startGuide(session, tab);
      await tab.click(USER_BUTTON);
      let panel = await expectStep(tab, 'open-administration', ADMINISTRATION);
      const first = await panelTexts(panel);
      for (const fact of ['Account Admin', 'API Access', 'Sandbox']) {
        assert.ok(first.prerequisites.includes(fact), `the prerequisites mention ${fact}: ${first.prerequisites}`);
      }
      await tab.click(ADMINISTRATION);
      await expectStep(tab, 'open-user-management', USER_MANAGEMENT);
      await tab.click(USER_MANAGEMENT);
      await expectStep(tab, 'create-user', CREATE_NEW_USER);
      await tab.click(CREATE_NEW_USER);

      // The form renders late; each field is pointed at in turn.
      await expectStep(tab, 'first-name', '#first-name');
      await tab.type('#first-name', 'Data');
      await expectStep(tab, 'last-name', '#last-name');
      await tab.type('#last-name', 'Manager');
      panel = await expectStep(tab, 'email', '#email');
      const email = await panelTexts(panel);
      assert.match(email.warning, /No two users/, 'the email step warns that addresses are unique across PI');
      const address = `data.manager.${Date.now()}@northwind.example`;
      await tab.type('#email', address);
      await expectStep(tab, 'job-title', '#job-title');
      await tab.type('#job-title', 'MagicTools Connection');
      assert.deepEqual(
        await tab.evaluate(() => ['#first-name', '#last-name', '#email', '#job-title'].map((css) => document.querySelector(css).value)),
        ['Data', 'Manager', address, 'MagicTools Connection'],
        'typing is not disturbed as the walkthrough moves from field to field',
      );
      await expectStep(tab, 'default-folder', '#default-folder');
      await tab.type('#default-folder', '\\');
      await tab.click({ css: '#folder-options li', text: '\\Northwind Traders' });
      assert.equal(await tab.evaluate(() => document.querySelector('#default-folder').value), '\\Northwind Traders');
      await next(tab, 'default-folder');
      panel = await expectStep(tab, 'role', '#role');
      assert.match((await panelTexts(panel)).body, /Account Admin/);
      await tab.evaluate(() => {
        const select = document.querySelector('#role');
        select.value = 'Account Admin';
        select.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await next(tab, 'role');
      await expectStep(tab, 'submit-user', CREATE_USER);
      await tab.click(CREATE_USER);

      // Back on the list, PI confirms the new user; the walkthrough points at the names.
      await tab.waitForSelector({ css: '#users a', text: 'Data Manager' });
      await expectStep(tab, 'open-new-user', NAME_HEADER);
      await tab.click({ css: '#users a', text: 'Data Manager' });
      await expectStep(tab, 'generate-user-key', GENERATE);
      assert.equal(await tab.evaluate(() => window.sameDocument), true, 'the whole flow stays in one document');
      await tab.click(GENERATE);

      panel = await expectStep(tab, 'copy-user-key', COPY_ICON);
      assert.match((await panelTexts(panel)).body, /already saved/, 'the panel says PI saved the key on Generate');
      const key = await keyInField(tab);
      await expectCaptureBeside(tab, KEY_FIELD, 'the key');
      await expectNoLeakFromField(tab, key);
      assert.notEqual(await captureState(tab), 'received');
      await expectSetupOffered(session, tab);
      await expectNoLeakFromField(tab, key);

      // Save Changes stays disabled: Cancel is the way out.
      await next(tab, 'copy-user-key');
      panel = await expectStep(tab, 'leave-user', CANCEL);
      assert.match((await panelTexts(panel)).body, /Save Changes is greyed out, press Cancel/);
      assert.equal(await tab.evaluate(() => [...document.querySelectorAll('button')].find((b) => b.textContent === 'Save Changes').disabled), true);
      await leaveAfterCapture(tab, CANCEL);
      await tab.waitFor(() => location.pathname === '/administration/users', null, { what: 'the user list after Cancel' });
    });

    it('takes the key from PI\'s copy icon, and asks before Cancel leaves an unsaved key', TEST, async () => {
      await tab.goto(`${APP}/administration/users/u-102`);
      await expectStep(tab, 'generate-user-key', GENERATE);
      await tab.click(GENERATE);
      await expectStep(tab, 'copy-user-key', COPY_ICON);
      const key = await keyInField(tab);

      const dialogs = watchDialogs(tab);
      try {
        await tab.click(CANCEL);
        await poll(() => dialogs.seen.length > 0, { what: 'keywarden to ask before leaving an unsaved key' });
        assert.equal(dialogs.seen[0].type, 'confirm');
        assert.match(dialogs.seen[0].message, /not been saved to keywarden/);
        await sleep(500);
        assert.equal(await tab.evaluate(() => location.pathname), '/administration/users/u-102', 'dismissing keeps the admin on the key');
      } finally {
        dialogs.stop();
      }

      await tab.click(COPY_ICON);
      await expectHandedOver(tab);
      await expectNoLeakFromField(tab, key);
    });

    it('walks the newer layout: gear, Administration, Integrations, Open API', TEST, async () => {
      await tab.goto(`${APP}/v2/people`);
      await tab.waitForSelector('#settings-button');
      await startGuide(session, tab);
      await tab.click('#settings-button');
      await expectStep(tab, 'open-administration', ADMINISTRATION);
      await tab.click(ADMINISTRATION);
      const integrations = { css: '[role="tab"]', text: 'Integrations' };
      await expectStep(tab, 'open-integrations', integrations);
      await tab.click(integrations);
      // The cards load late; the Open API card is a link titled by its heading.
      await expectStep(tab, 'open-open-api', '#open-api-card h3');
      await tab.click('#open-api-card h3');
      await expectStep(tab, 'generate-api-key', '#generate-org-key');
      await tab.click('#generate-org-key');
      const copy = { css: '.keybox button', text: 'Copy' };
      await expectStep(tab, 'copy-api-key', copy);
      const key = await tab.waitFor(() => document.querySelector('#org-key')?.textContent.trim() || null, null, { what: 'the organization key' });
      assert.match(key, GUID);
      await expectCaptureBeside(tab, '#org-key', 'the key');
      const before = await secretLeaks(tab, '#org-key');
      assert.deepEqual(before, { secret: key, leaks: [] });
      await expectSetupOffered(session, tab);
      assert.deepEqual(await secretLeaks(tab, '#org-key'), { secret: key, leaks: [] });
    });

    it('stays out of look-alike hosts', TEST, async () => {
      await expectUntouched(tab, 'https://app.predictiveindex.com.evil.test/administration/users', { css: 'button', text: 'Create New User' });
      await expectUntouched(tab, 'https://predictiveindex-app.test/v2/administration/integrations', '#open-api-card h3');
    });
  });
}
