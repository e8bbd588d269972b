// End-to-end checks, in Chromium and Firefox, of where the walkthrough appears on PredictHQ: its panel clear of the token list's row actions (or folded into a pill), Escape from the page, "Don't guide me" kept until the options page brings it back.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { injectedSnapshot, intersects, poll, sleep, waitForPanelStep, withTimeout, STEP_TIMEOUT } from './harness.mjs';
import { BROWSERS, bringToFront, byRole, launchForSuite, loadExtensionPage, serveFixtures, unfold, vendorFlow } from './flow.mjs';

const APP = 'https://control.predicthq.com';
const CREATE_NEW = { css: 'button', text: 'Create New Token' };
const TEST = { timeout: 60_000 };

const { expectStep } = vendorFlow('predicthq');
const fixtures = serveFixtures();

/** The boxes of the panel (or the pill it folded into), the target and every row action, in one layout pass. */
function layout(tab) {
  return tab.evaluate(() => {
    const box = (el) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      const shown = style.display !== 'none' && style.opacity !== '0';
      return r.width > 0 && r.height > 0 && shown ? { x: r.x, y: r.y, width: r.width, height: r.height } : null;
    };
    const create = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Create New Token');
    return {
      panel: box(document.querySelector('keywarden-panel')),
      pill: box(document.querySelector('keywarden-pill')),
      target: box(create),
      actions: [...document.querySelectorAll('table.tokens button')].map(box).filter(Boolean),
    };
  });
}

/** Fails when `drawn` covers the target or any row action. */
function expectClear(drawn, seen, what) {
  assert.ok(!intersects(drawn, seen.target), `the ${what} does not cover Create New Token`);
  const covered = seen.actions.filter((a) => intersects(drawn, a));
  assert.deepEqual(covered, [], `the ${what} covers no row's Edit or Delete`);
}

/** Whether keywarden draws a highlight, a panel or a pill on the page. */
async function drawn(tab) {
  const { elements } = await injectedSnapshot(tab);
  return elements.some((el) => el.visible && ['keywarden-highlight', 'keywarden-panel', 'keywarden-pill'].includes(el.name));
}

for (const name of BROWSERS) {
  describe(`${name}: where the walkthrough appears`, () => {
    const session = launchForSuite(name, fixtures, { settle: 2_000 });
    let tab;
    beforeEach(async () => {
      tab = await session.newTab();
    }, { timeout: 20_000 });

    it('shows on the toolbar that it can guide on the dashboard, and when a key is on screen', TEST, async () => {
      const badge = async () => {
        await bringToFront(tab);
        return session.extensionTab.evaluate(async () => {
          const ext = globalThis.browser ?? globalThis.chrome;
          const [active] = await ext.tabs.query({ active: true, currentWindow: true });
          return ext.action.getBadgeText({ tabId: active.id });
        });
      };
      await tab.goto('https://example.test/');
      await tab.waitForSelector('form button');
      await poll(async () => (await badge()) === '', { what: 'no badge on a page of no vendor' });
      await tab.goto(`${APP}/`);
      await poll(async () => (await badge()) === '•', { what: 'the "can guide here" badge on the dashboard' });
      await tab.goto(`${APP}/tokens`);
      await tab.type('#token-name', 'e2e badge');
      await tab.click({ css: 'button', text: 'Create Token' });
      await tab.waitForSelector('code');
      await poll(async () => (await badge()) === 'KEY', { what: 'the "key on screen" badge' });
    });

    it('starts from the popup\'s "Create a new PredictHQ key" on a page that is not a key page', TEST, async () => {
      await tab.goto(`${APP}/`);
      await tab.waitForSelector({ css: 'nav a', text: 'API Tokens' });
      await sleep(1_000);
      assert.equal(await drawn(tab), false, 'nothing on the dashboard by itself');
      // The popup asks for the active tab: the vendor tab is in front while it loads.
      await bringToFront(tab);
      const popup = session.extensionTab;
      await loadExtensionPage(popup, 'popup.html');
      const start = await byRole(popup, 'button', 'Create a new PredictHQ key');
      if (name === 'chromium') {
        await popup.click(start);
      } else {
        // Firefox's driver sends no input to a tab in the background: the button's own click.
        await popup.evaluate((sel) => document.querySelector(sel).click(), start);
      }
      await expectStep(tab, 'open-tokens', { css: 'nav a[href="/tokens"]', text: 'API Tokens' });
    });

    it('leaves the token list\'s row actions and the target uncovered', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      await expectStep(tab, 'new-token', CREATE_NEW);
      const seen = await poll(async () => {
        const l = await layout(tab);
        return l.panel && l.target && l.actions.length ? l : null;
      }, { what: 'the panel beside the token list' });
      expectClear(seen.panel, seen, 'panel');
    });

    it('folds into a pill where no free space is left, and unfolds when the pill is clicked', TEST, async () => {
      const small = { width: 560, height: 430 };
      await withTimeout(
        name === 'chromium' ? tab.page.setViewportSize(small) : tab.page.setViewport(small),
        STEP_TIMEOUT,
        'resize the view',
      );
      await tab.goto(`${APP}/tokens?state=list`);
      await waitForPanelStep(tab, 'new-token');
      const seen = await poll(async () => {
        const l = await layout(tab);
        return l.pill && !l.panel ? l : null;
      }, { what: 'the pill instead of the panel' });
      expectClear(seen.pill, seen, 'pill');
      const text = await tab.evaluate(() => document.querySelector('keywarden-pill') !== null);
      assert.ok(text);
      await unfold(tab);
      const open = await layout(tab);
      assert.ok(open.panel && !open.pill, 'the panel shows once the admin asked for it');
    });

    it('shows no stale step while the app routes to another page', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      await expectStep(tab, 'new-token', CREATE_NEW);
      // Every frame from the click on: where the app is, and what keywarden shows.
      await tab.evaluate(() => {
        window.seenFrames = [];
        const shown = (el) => el && el.getBoundingClientRect().width > 0 && getComputedStyle(el).display !== 'none';
        const sample = () => {
          const h = document.querySelector('keywarden-highlight');
          window.seenFrames.push({
            path: location.pathname,
            step: shown(h) ? h.getAttribute('data-step') : null,
            panel: shown(document.querySelector('keywarden-panel')),
          });
          if (window.seenFrames.length < 120) requestAnimationFrame(sample);
        };
        requestAnimationFrame(sample);
      });
      await tab.click({ css: 'nav a', text: 'Dashboard' });
      await tab.waitFor(() => location.pathname === '/' && window.seenFrames.length >= 120, null, { what: 'two seconds of frames after the route change' });
      const frames = await tab.evaluate(() => window.seenFrames);
      const stale = frames.filter((f) => f.path === '/' && (f.step === 'new-token' || f.panel));
      assert.deepEqual(stale.slice(0, 3), [], `no frame on the dashboard shows the token list's step (${stale.length} did)`);
      assert.ok(frames.some((f) => f.path === '/'), 'the app routed while frames were sampled');
    });

    it('closes with Escape pressed on the page', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      await expectStep(tab, 'new-token', CREATE_NEW);
      await tab.evaluate(() => document.activeElement?.blur());
      await tab.press('Escape');
      await poll(async () => !(await drawn(tab)), { what: 'the highlight and the panel to go after Escape' });
    });

    it('leaves "Before you start" opened or closed as the admin left it while the page changes', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      const panel = await expectStep(tab, 'new-token', CREATE_NEW);
      const isOpen = () => panel.evaluate(() => document.querySelector('details.prerequisites')?.open ?? null);
      const before = await isOpen();
      assert.notEqual(before, null, 'the panel lists what to have ready');
      // Toggled inside the frame (the redraw is what this test is about, not where the pointer lands).
      await panel.evaluate(() => document.querySelector('details.prerequisites > summary').click());
      assert.equal(await isOpen(), !before, 'the click toggles the list');
      // The page changes without moving the walkthrough on: a new report, a new draw, same step.
      await tab.evaluate(() => document.body.appendChild(Object.assign(document.createElement('p'), { textContent: 'Saved.' })));
      await sleep(1_500);
      await expectStep(tab, 'new-token', CREATE_NEW);
      assert.equal(await isOpen(), !before, 'the redraw keeps the list as the admin left it');
    });

    it('gives the focus back to the page when Escape closes the panel from inside it', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      const panel = await expectStep(tab, 'new-token', CREATE_NEW);
      await unfold(tab);
      // The admin was on Create New Token, then moved into the panel.
      await tab.evaluate(() => [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Create New Token').focus());
      await panel.press({ css: 'button', text: 'Not now' }, 'Escape');
      await poll(async () => !(await drawn(tab)), { what: 'the panel to go after Escape' });
      const focused = await tab.evaluate(() => document.activeElement?.textContent.trim() ?? null);
      assert.equal(focused, 'Create New Token', 'the focus is back where the admin was on the page');
    });

    it('keeps "Don\'t guide me on PredictHQ" until the options page brings it back', TEST, async () => {
      await tab.goto(`${APP}/tokens?state=list`);
      const panel = await expectStep(tab, 'new-token', CREATE_NEW);
      await panel.click({ css: 'button', text: 'Don’t guide me on PredictHQ' });
      await poll(async () => !(await drawn(tab)), { what: 'the walkthrough to go' });

      tab = await session.newTab();
      await tab.goto(`${APP}/tokens?state=list`);
      await tab.waitForSelector(CREATE_NEW);
      await sleep(1_500);
      assert.equal(await drawn(tab), false, 'a new tab on the key page stays quiet');

      const options = session.extensionTab;
      await bringToFront(options);
      // No vault was set up: the walkthrough switches are on the full settings page.
      await loadExtensionPage(options, 'options.html#settings');
      const box = await byRole(options, 'switch', 'PredictHQ', { within: { role: 'region', name: 'Walkthrough' } });
      assert.equal(await options.evaluate((css) => document.querySelector(css).checked, box), false, 'the switch shows PredictHQ off');
      await options.click(box);
      await options.waitFor(() => /guides you again on PredictHQ/.test(document.querySelector('#walkthrough-status')?.textContent), null, {
        what: 'the options page to confirm',
      });
      await loadExtensionPage(options, 'popup.html');

      tab = await session.newTab();
      await tab.goto(`${APP}/tokens?state=list`);
      await expectStep(tab, 'new-token', CREATE_NEW);
    });
  });
}
