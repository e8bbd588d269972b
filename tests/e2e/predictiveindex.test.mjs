// End-to-end checks of the Predictive Index walkthroughs (older User Management layout and newer Open API layout) and key capture, in Chromium and Firefox.
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

/** Waits for step `step` to be highlighted around `target` and shown in the panel; returns the panel. */
async function expectStep(tab, step, target, relation = 'contains') {
  await waitForHighlight(tab, { vendor: VENDOR, step, target, relation });
  const { panel, dialog } = await waitForPanelStep(tab, step);
  assert.ok(dialog.title, `the panel dialog for "${step}" has an accessible title`);
  for (const label of ['Back', 'Next', 'Dismiss']) {
    assert.ok(dialog.buttons.includes(label), `the panel for "${step}" has a "${label}" button (saw ${dialog.buttons})`);
  }
  return panel;
}

/** Presses Next in the panel of `step`. */
async function next(tab, step) {
  const { panel } = await waitForPanelStep(tab, step);
  await panel.click({ css: 'button', text: 'Next' });
}

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
  await tab.evaluate((css) => document.querySelector(css).scrollIntoView({ block: 'center' }), CAPTURE);
  const box = await tab.waitForSelector(CAPTURE);
  const { x, y } = centre(box);
  await tab.mouseClick(x, y);
}

/** The key PI shows in the user's API Key field (a field value, never markup), once generated. */
async function keyInField(tab) {
  const key = await tab.waitFor((css) => document.querySelector(css)?.value || null, KEY_FIELD, { what: 'the generated key in the API Key field' });
  assert.match(key, GUID);
  return key;
}

/** The key may live only in the API Key field's value: not in markup, keywarden attributes, the address or the title. */
async function expectNoLeakFromField(tab, key) {
  const leaks = await tab.evaluate(({ css, secret }) => {
    const found = [];
    if (document.querySelector(css)?.value !== secret) found.push('the key is no longer in its field');
    if (document.documentElement.outerHTML.includes(secret)) found.push('document markup');
    for (const el of document.querySelectorAll('*')) {
      if (!el.localName.startsWith('keywarden-')) continue;
      for (const attr of el.attributes) if (attr.value.includes(secret)) found.push(`${el.localName}[${attr.name}]`);
    }
    for (const input of document.querySelectorAll('input, textarea')) {
      if (!input.matches(css) && input.value.includes(secret)) found.push(`another field (#${input.id})`);
    }
    if (location.href.includes(secret)) found.push('address');
    if (document.title.includes(secret)) found.push('title');
    return found;
  }, { css: KEY_FIELD, secret: key });
  assert.deepEqual(leaks, [], 'the key appears only in PI\'s own API Key field');
}

/** Records the page's JavaScript dialogs and answers each with `answer` ('accept' or 'dismiss'). */
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

async function expectNothingInjected(tab, why) {
  assert.deepEqual(await injectedSnapshot(tab), { elements: [], panelFrames: [] }, why);
}

/** Loads a page, waits until it has rendered `ready`, gives the extension time, and expects nothing of it there. */
async function expectUntouched(tab, url, ready) {
  const { status } = await tab.goto(url);
  assert.equal(status, 200, `${url} is served`);
  await tab.waitForSelector(ready);
  await sleep(2_000);
  await expectNothingInjected(tab, `nothing is injected into ${url}`);
}

const BROWSERS = (process.env.KEYWARDEN_BROWSERS || 'chromium,firefox').split(',').map((b) => b.trim());

for (const name of BROWSERS) {
  describe(`${name}: Predictive Index`, () => {
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

    it('serves the app on its host with the strict headers, and leaves the Assessments page alone', TEST, async () => {
      const { status, headers } = await tab.goto(`${APP}/assessments`);
      assert.equal(status, 200);
      assert.equal(headers['content-security-policy'], CSP);
      assert.equal(headers['x-content-type-options'], 'nosniff');
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
      const capture = await tab.waitForSelector(CAPTURE);
      const field = await tab.boundingBox(KEY_FIELD);
      assert.ok(distance(capture, field) <= 200, `the capture control ${describeBox(capture)} sits next to the key ${describeBox(field)}`);
      await expectNoLeakFromField(tab, key);
      assert.notEqual(await captureState(tab), 'received');
      await clickCapture(tab);
      await expectReceived(tab);
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
      await expectReceived(tab);
      await expectNoLeakFromField(tab, key);
    });

    it('walks the newer layout: gear, Administration, Integrations, Open API', TEST, async () => {
      await tab.goto(`${APP}/v2/people`);
      await tab.waitForSelector('#settings-button');
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
      const capture = await tab.waitForSelector(CAPTURE);
      const code = await tab.boundingBox('#org-key');
      assert.ok(distance(capture, code) <= 200, `the capture control ${describeBox(capture)} sits next to the key ${describeBox(code)}`);
      const before = await secretLeaks(tab, '#org-key');
      assert.deepEqual(before, { secret: key, leaks: [] });
      await clickCapture(tab);
      await expectReceived(tab);
      assert.deepEqual(await secretLeaks(tab, '#org-key'), { secret: key, leaks: [] });
    });

    it('stays out of look-alike hosts', TEST, async () => {
      await expectUntouched(tab, 'https://app.predictiveindex.com.evil.test/administration/users', { css: 'button', text: 'Create New User' });
      await expectUntouched(tab, 'https://predictiveindex-app.test/v2/administration/integrations', '#open-api-card h3');
    });
  });
}
