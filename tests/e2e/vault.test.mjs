// End-to-end checks of the encrypted vault in Chromium and Firefox: refusing weak passphrases, saving captured PredictHQ tokens, locking, unlocking, backups and shared keys opened with the real age tool, copying from the popup, the strength module kept to the options page, and changes made to storage by another context reaching the popup's list.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { STEP_TIMEOUT, extensionDir, makeTempDir, poll, removeTempDir, sleep, withTimeout } from './harness.mjs';
import {
  BROWSERS,
  bringToFront,
  byLabel,
  byRole,
  chooseByRole,
  entryFor,
  expectNotInPanel,
  expectShownOnlyIn,
  fill,
  findOptionsTab,
  launchForSuite,
  loadExtensionPage,
  openTab,
  pressControl,
  serveFixtures,
  startGuide,
  vaultView,
  vendorFlow,
  waitForVault,
} from './flow.mjs';

const APP = 'https://control.predicthq.com';
const VENDOR = 'predicthq';
const NAME_INPUT = '#token-name';
const CREATE = { css: 'button', text: 'Create Token' };
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{40}$/;

const PASSPHRASE = 'correct horse battery staple';
// Twelve characters, so long enough for the vault core, but among the first guesses of any attacker.
const WEAK_PASSPHRASE = 'password1234';
const WRONG_PASSPHRASE = 'incorrect horse battery staple';
const BACKUP_PASSPHRASE = 'a separate backup passphrase';

const CLIPBOARD_SENTINEL = 'not a key: placed by the test before Copy';

const AGE = '/usr/bin/age';
const AGE_KEYGEN = '/usr/bin/age-keygen';
const SCRIPT = '/usr/bin/script';

const TEST = { timeout: 60_000 };
// Setup calibrates Argon2 (64 MiB, passes raised until one run takes about 0.75 s) in wasm.
const SETUP_TIMEOUT = 45_000;
// Unlocking, exporting (age scrypt) and sharing run Argon2 or scrypt once in the worker.
const CRYPTO_TIMEOUT = 30_000;

const { CAPTURE, clickCapture } = vendorFlow(VENDOR);
const fixtures = serveFixtures();

// ---------------------------------------------------------------------------
// The age command-line tool

function requireAgeTools() {
  for (const tool of [AGE, AGE_KEYGEN, SCRIPT]) {
    assert.ok(existsSync(tool), `${tool} is missing: install Debian's age and bsdutils packages`);
  }
}

/**
 * Runs `age -d -o out input` in a pseudo-terminal made by `script` (age reads passphrases only
 * from a terminal), types `passphrase` at its prompt, and returns { ok, code, output, plain }.
 */
function ageDecryptWithPassphrase(input, out, passphrase, { timeout = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const command = `${AGE} -d -o '${out}' '${input}'`;
    const child = spawn(SCRIPT, ['-q', '-e', '-E', 'never', '-c', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typed = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    const seen = (chunk) => {
      output += chunk;
      if (!typed && /passphrase/i.test(output)) {
        typed = true;
        child.stdin.write(`${passphrase}\n`);
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.stdin.on('error', () => {});
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      if (timedOut) return reject(new Error(`age did not finish within ${timeout} ms; it printed ${JSON.stringify(output)}`));
      if (!typed) return resolve({ ok: false, code, output: `no passphrase prompt from age: ${output}`, plain: null });
      const ok = code === 0;
      resolve({ ok, code, output, plain: ok ? readFileSync(out, 'utf8') : null });
    });
  });
}

function run(file, args, { timeout = 20_000 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ ok: !error, code: error ? error.code : 0, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------
// Browser pages

/** Waits for the armored age text the page writes into the textarea `css` and returns it; `what` names it. */
function waitForArmored(tab, css, what) {
  return tab.waitFor(
    (sel) => {
      const out = document.querySelector(sel);
      return out && !out.hidden && out.value.trim() ? out.value : null;
    },
    css,
    { timeout: CRYPTO_TIMEOUT, what: `${what} in ${css}` },
  );
}

/** Waits until the page's status line satisfies `test` and returns its text. */
async function waitForStatus(tab, test, what) {
  let last = '';
  try {
    return await poll(
      async () => {
        last = (await vaultView(tab)).status;
        return test(last) ? last : null;
      },
      { timeout: CRYPTO_TIMEOUT, what },
    );
  } catch (error) {
    throw new Error(`${error.message}; #page-status said ${JSON.stringify(last)}`);
  }
}

/** Waits until the message line of the form `form` satisfies `test` and returns its text. */
async function waitForFormStatus(tab, form, test) {
  let last = '';
  try {
    return await poll(
      async () => {
        last = await tab.evaluate((id) => (document.getElementById(`${id}-status`)?.textContent ?? '').replace(/\s+/g, ' ').trim(), form);
        return test(last) ? last : null;
      },
      { timeout: CRYPTO_TIMEOUT, what: `the message beside #${form}` },
    );
  } catch (error) {
    throw new Error(`${error.message}; #${form}-status said ${JSON.stringify(last)}`);
  }
}

/** The current values of the fields matching each selector. */
function fieldValues(tab, selectors) {
  return tab.evaluate((list) => list.map((css) => document.querySelector(css)?.value ?? null), selectors);
}

/**
 * Where any of `secrets` appears in an extension page: its markup (textareas included, which
 * must hold ciphertext only), any field's value, its address or title.
 */
function secretsInExtensionPage(tab, secrets) {
  return tab.evaluate((list) => {
    const found = [];
    const html = document.documentElement.outerHTML;
    for (const [i, secret] of list.entries()) {
      if (html.includes(secret)) found.push(`token ${i + 1} in the markup`);
      for (const field of document.querySelectorAll('input, textarea, select')) {
        if (field.value.includes(secret)) found.push(`token ${i + 1} in #${field.id || field.name || field.localName}`);
      }
      if (location.href.includes(secret) || document.title.includes(secret)) found.push(`token ${i + 1} in the address or title`);
    }
    return found;
  }, secrets);
}

// ---------------------------------------------------------------------------
// The vendor page

/** Expects a token shown in the vendor page only in its own <code>, also outside the panel frame. */
async function expectNoLeak(tab, token) {
  await expectShownOnlyIn(tab, 'code', token, "the token appears only in the page's own <code> element");
  await expectNotInPanel(tab, token, 'the token does not appear in the step panel');
}

/**
 * Creates a PredictHQ token named `name`, presses keywarden's save control beside it and returns
 * the token and the control's final data-state.
 */
async function captureToken(tab, name) {
  await bringToFront(tab);
  assert.equal((await tab.goto(`${APP}/tokens`)).status, 200);
  await tab.type(NAME_INPUT, name);
  await tab.click(CREATE);
  const token = await tab.waitFor(() => document.querySelector('code')?.textContent.trim(), null, { what: 'the new token' });
  assert.match(token, TOKEN_PATTERN);
  await tab.waitForSelector(CAPTURE);
  await expectNoLeak(tab, token);
  const before = await tab.evaluate((css) => document.querySelector(css)?.getAttribute('data-state'), CAPTURE);
  if (before === 'novault') {
    // Without a vault the control says so before any click, and a click opens the setup instead.
    await clickCapture(tab);
    await sleep(500);
    const after = await tab.evaluate((css) => document.querySelector(css)?.getAttribute('data-state'), CAPTURE);
    await expectNoLeak(tab, token);
    return { token, state: after };
  }
  await clickCapture(tab);
  const state = await tab.waitFor(
    (css) => {
      const s = document.querySelector(css)?.getAttribute('data-state');
      return ['saved', 'received', 'error'].includes(s) ? s : null;
    },
    CAPTURE,
    { timeout: CRYPTO_TIMEOUT, what: 'the capture control to settle on saved, received or error' },
  );
  await expectNoLeak(tab, token);
  return { token, state };
}

// ---------------------------------------------------------------------------
// The popup, opened as a page

/**
 * Runs `fn(popupTab)` with popup.html open as a page. Chromium: a tab of its own. Firefox: the
 * options tab goes to popup.html and back afterwards (its driver cannot open moz-extension
 * addresses, and a script-opened window would have no user activation).
 */
async function withPopup(browser, options, fn) {
  if (browser.name === 'chromium') {
    const popup = await openTab(browser);
    try {
      await popup.goto(`${browser.extensionOrigin}/popup.html`);
      await bringToFront(popup);
      await popup.waitForSelector('section#vault[data-state]');
      return await fn(popup);
    } finally {
      await withTimeout(popup.page.close(), STEP_TIMEOUT, 'close popup tab').catch(() => {});
    }
  }
  await bringToFront(options);
  await loadExtensionPage(options, 'popup.html');
  try {
    return await fn(options);
  } finally {
    await loadExtensionPage(options, 'options.html');
  }
}

/**
 * Reads the clipboard through the page's own async clipboard API. Chromium needs the
 * clipboard-read grant; Firefox reads without its paste prompt because the text was written by
 * a document of the same origin (the extension's own page).
 */
function readClipboard(tab) {
  return tab.evaluate(() => navigator.clipboard.readText());
}

// ---------------------------------------------------------------------------
// Which extension documents load the passphrase strength module

const STRENGTH_FILES = ['strength.js', 'strength_bg.wasm'];

/**
 * The scripts and wasm an extension page (or the worker script) can load, found by following
 * `<script src>` and every `import … from`, `import(…)`, `export … from` and
 * `new URL(…, import.meta.url)` in the built files, from `start` in the extension directory `dir`.
 */
function reachableFiles(dir, start) {
  const seen = new Set();
  const queue = [start];
  const refs = /(?:\bfrom\s*|\bimport\s*\(?\s*|new URL\(\s*)['"]([^'"]+\.(?:m?js|wasm))['"]|<script\b[^>]*\bsrc="([^"]+)"/g;
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    if (file.endsWith('.wasm')) continue;
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(refs)) {
      const target = path.normalize(path.join(path.dirname(file), m[1] ?? m[2]));
      assert.ok(existsSync(path.join(dir, target)), `${file} refers to ${target}, which is in the build`);
      queue.push(target);
    }
  }
  return [...seen];
}

/**
 * The wasm module each extension document loads: the step panel has a small one of its own, the
 * popup and the options page share one (they render and ask the worker); the worker loads the full core.
 */
const CORE_OF = { 'panel.html': 'keywarden_panel_bg.wasm', 'popup.html': 'keywarden_pages_bg.wasm', 'options.html': 'keywarden_pages_bg.wasm' };
const coreOf = (start) => CORE_OF[start] ?? 'keywarden_bg.wasm';
/** Each light module's glue: the entry points it must export, and those of the others it must not. */
const ENTRIES_OF = {
  'keywarden_panel.js': { has: ['panel_main'], lacks: ['on_message', 'on_connect', 'popup_main', 'options_main'] },
  'keywarden_pages.js': { has: ['popup_main', 'options_main'], lacks: ['on_message', 'on_connect', 'on_alarm', 'panel_main'] },
};

/** Expects `start` to reach its own light module and never the full core (the worker's). */
function expectOwnModule(dir, start) {
  const files = reachableFiles(dir, start);
  const core = coreOf(start);
  assert.notEqual(core, 'keywarden_bg.wasm', `${start} has a module of its own`);
  assert.ok(files.includes(core), `${start} reaches ${core} (it reaches ${JSON.stringify(files)})`);
  assert.ok(!files.includes('keywarden_bg.wasm'), `${start} never reaches the full core (it reaches ${JSON.stringify(files)})`);
  assert.ok(!files.includes('keywarden.js'), `${start} never reaches the full core's glue (it reaches ${JSON.stringify(files)})`);
}

/**
 * Expects the built `start` to reach its wasm module (so the search works) and none of the
 * strength module; the step panel, loaded in every vendor tab, reaches neither the full core.
 */
function expectStrengthUnreachable(dir, start) {
  const files = reachableFiles(dir, start);
  const core = coreOf(start);
  assert.ok(files.includes(core), `${start} reaches ${core} (it reaches ${JSON.stringify(files)})`);
  if (core !== 'keywarden_bg.wasm') {
    assert.ok(!files.includes('keywarden_bg.wasm'), `${start} never reaches the full core (it reaches ${JSON.stringify(files)})`);
  }
  for (const file of STRENGTH_FILES) assert.ok(!files.includes(file), `${start} never reaches ${file} (it reaches ${JSON.stringify(files)})`);
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const name of STRENGTH_FILES) assert.ok(!text.includes(name), `${file}, loaded by ${start}, never names ${name}`);
  }
}

/**
 * Chromium: records every request of the browser context with the address of the document that
 * made it (extension pages leave no resource timing entries). Returns the growing list.
 */
function recordRequests(browser) {
  const seen = [];
  browser.context.on('request', (request) => {
    let document = null;
    try {
      document = request.frame().url();
    } catch {
      // A service worker's request has no frame.
    }
    seen.push({ file: new URL(request.url()).pathname.split('/').pop(), document });
  });
  return seen;
}

/** Chromium: the files (by name) that every extension document `page` ('popup.html', …) so far requested. */
function filesRequestedBy(requests, page) {
  return requests.filter((r) => r.document && new URL(r.document).pathname === `/${page}`).map((r) => r.file);
}

/** Chromium: expects `page` to have requested its wasm module (so the record works) and none of the strength module. */
function expectNoStrengthRequests(requests, page) {
  const files = filesRequestedBy(requests, page);
  const core = coreOf(page);
  assert.ok(files.includes(core), `${page} is seen loading ${core} (it loaded ${JSON.stringify(files)})`);
  if (core !== 'keywarden_bg.wasm') assert.ok(!files.includes('keywarden_bg.wasm'), `${page} never loads the full core (it loaded ${JSON.stringify(files)})`);
  for (const file of STRENGTH_FILES) assert.ok(!files.includes(file), `${page} never loads ${file} (it loaded ${JSON.stringify(files)})`);
}

// ---------------------------------------------------------------------------

for (const name of BROWSERS) {
  describe(`${name}: vault`, () => {
    let browser;
    let options;
    let vendor;
    let work;
    // Filled in as the scenario goes: every token the vendor page showed, and what became of it.
    const tokens = { unsaved: null, unlocked: null, locked: null };
    const ids = {};
    let brokenAt = null;
    let requests = [];

    const { ready } = launchForSuite(name, fixtures, {
      async setup(launched) {
        browser = launched;
        if (browser.name === 'chromium') requests = recordRequests(browser);
        options = await findOptionsTab(browser);
        vendor = await openTab(browser);
        work = makeTempDir('vault');
      },
      teardown: () => removeTempDir(work),
    });

    /**
     * One step of the scenario. Steps rely on the ones before them, so after a failure the rest
     * say so instead of failing for a confusing reason; an `independent` step breaks nothing later.
     */
    const step = (title, opts, fn, { independent = false } = {}) =>
      it(title, opts, async (t) => {
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

    step('1. without a vault the save control says nothing is kept and opens the setup; the options page offers it', TEST, async () => {
      const { token, state } = await captureToken(vendor, 'e2e before the vault');
      tokens.unsaved = token;
      assert.equal(state, 'novault', 'with no vault the save control says that nothing is kept');
      await bringToFront(options);
      await loadExtensionPage(options);
      const view = await waitForVault(options, 'new');
      await byLabel(options, 'Passphrase', { under: 'Vault' });
      await byLabel(options, 'Repeat it', { under: 'Vault' });
      await byRole(options, 'button', 'Create vault', { under: 'Vault' });
      assert.equal(view.entries.length, 0);
      // Before the vault exists the page opens with a short welcome: what keywarden does, the
      // vendors with the way to each key page, the vault setup, and a way to every setting.
      const headings = () => options.evaluate(() => [...document.querySelectorAll('h1, h2')].map((h) => `${h.localName} ${h.textContent}`));
      const welcome = await options.evaluate(() => {
        const label = document.querySelector('label[for="setup-passphrase"]');
        return {
          vendors: [...document.querySelectorAll('#welcome-vendors li')].map((li) => ({
            name: li.querySelector('.vendor')?.textContent,
            link: li.querySelector('a.vendor')?.getAttribute('href') ?? null,
          })),
          label: label?.textContent.trim() ?? null,
          sections: [...document.querySelectorAll('main > section')].map((s) => s.id),
          more: document.querySelector('a#all-settings')?.textContent ?? null,
        };
      });
      assert.deepEqual(await headings(), ['h1 Welcome to keywarden', 'h2 What keywarden does', 'h2 Vault'], 'the headings, in order');
      assert.deepEqual(welcome.vendors.map((v) => v.name).sort(), ['Gotransverse', 'PlanningSpace', 'PredictHQ', 'Predictive Index']);
      const linked = Object.fromEntries(welcome.vendors.filter((v) => v.link).map((v) => [v.name, new URL(v.link).host]));
      assert.equal(linked.PredictHQ, 'control.predicthq.com', `PredictHQ links to its key page (links: ${JSON.stringify(linked)})`);
      assert.equal(welcome.label, 'Passphrase', 'the setup passphrase field is labelled');
      assert.deepEqual(welcome.sections, ['welcome', 'vault'], 'the welcome and the setup, and no other section');
      assert.equal(welcome.more, 'All settings');
      // "All settings" shows the whole page; a reload keeps it.
      await pressControl(options, 'link', 'All settings');
      const full = [
        'h1 keywarden settings',
        'h2 Vault',
        'h2 Clipboard',
        'h2 Walkthrough',
        'h2 Self-hosted servers',
        'h2 Maintenance',
      ];
      await options.waitFor(() => document.querySelector('h1')?.textContent === 'keywarden settings', null, { what: 'the full settings page' });
      assert.deepEqual(await headings(), full, 'every section, the welcome gone');
      assert.deepEqual(
        await options.evaluate(() => [location.hash, document.activeElement?.localName]),
        ['#settings', 'h1'],
        'the address names the full page and the focus is on its heading',
      );
      await byLabel(options, 'Passphrase', { under: 'Vault' });
      await byRole(options, 'button', 'Create vault', { under: 'Vault' });
      await loadExtensionPage(options);
      await waitForVault(options, 'new');
      assert.deepEqual(await headings(), full, 'a reload keeps the full page');
      await loadExtensionPage(options, 'options.html');
      await waitForVault(options, 'new');
      assert.equal(await options.evaluate(() => document.querySelector('h1')?.textContent), 'Welcome to keywarden', 'options.html alone is the welcome again');
    });

    step('2. refuses a weak passphrase of 12 characters in the options page, says why, and sets nothing up', TEST, async () => {
      await bringToFront(options);
      await waitForVault(options, 'new');
      const passphrase = await fill(options, { label: 'Passphrase' }, WEAK_PASSPHRASE);
      const live = await options.waitFor(
        () => {
          const out = document.querySelector('#setup-strength');
          return out?.getAttribute('data-acceptable') === 'no' ? out.textContent.replace(/\s+/g, ' ').trim() : null;
        },
        null,
        { what: 'the verdict beside #setup-passphrase, as it is typed' },
      );
      assert.match(live, /too easy to guess/i, `the verdict says why while typing (it says "${live}")`);
      assert.match(live, /common passwords/i, `and what makes it weak (it says "${live}")`);
      const repeat = await fill(options, { label: 'Repeat it' }, WEAK_PASSPHRASE);
      await pressControl(options, 'button', 'Create vault');
      const said = await waitForStatus(options, (s) => /Not set up/.test(s), 'the refusal in #page-status');
      assert.match(said, /too easy to guess/i);
      assert.ok(!said.includes(WEAK_PASSPHRASE), 'the reason does not repeat the passphrase');
      const shown = await options.evaluate(() =>
        ['#page-status', '#setup-strength'].map((css) => {
          const box = document.querySelector(css)?.getBoundingClientRect();
          return Boolean(box && box.width > 0 && box.height > 0);
        }),
      );
      assert.deepEqual(shown, [true, true], 'the status line and the verdict beside the field are on screen');
      assert.deepEqual(
        await fieldValues(options, [passphrase, repeat]),
        ['', ''],
        'both passphrase fields are emptied after the attempt',
      );
      assert.deepEqual(await secretsInExtensionPage(options, [WEAK_PASSPHRASE]), [], 'the weak passphrase is nowhere in the page');
      await loadExtensionPage(options);
      await waitForVault(options, 'new', { what: 'after a reload: no vault was set up' });
    });

    step('3. sets the vault up in the options page and it is unlocked', { timeout: 90_000 }, async (t) => {
      await bringToFront(options);
      await waitForVault(options, 'new');
      await fill(options, { label: 'Passphrase' }, PASSPHRASE);
      await fill(options, { label: 'Repeat it' }, PASSPHRASE);
      const started = Date.now();
      await pressControl(options, 'button', 'Create vault');
      const view = await waitForVault(options, 'unlocked', { timeout: SETUP_TIMEOUT });
      t.diagnostic(`vault set up ${Date.now() - started} ms after the click`);
      assert.match(view.status, /Vault created and unlocked/);
      assert.equal(view.entries.length, 0, 'the token captured before setup was not kept');
      assert.equal(await options.evaluate(() => document.querySelector('#welcome')), null, 'the welcome is gone once the vault exists');
      assert.ok(await options.evaluate(() => document.querySelector('#entries li.empty') !== null), 'the list says no keys are saved yet');
    });

    step('4. saves a token captured while unlocked; the list shows only its last four characters', TEST, async () => {
      const { token, state } = await captureToken(vendor, 'e2e while unlocked');
      tokens.unlocked = token;
      assert.equal(state, 'saved');
      await bringToFront(options);
      await loadExtensionPage(options);
      const view = await waitForVault(options, 'unlocked', { also: (v) => v.entries.length > 0 });
      assert.equal(view.entries.length, 1, `one entry (${JSON.stringify(view.entries)})`);
      const [entry] = view.entries;
      assert.equal(entry.vendor, VENDOR);
      assert.ok(!entry.text.includes(token), 'the entry does not show the token');
      assert.ok(entry.text.includes(`…${token.slice(-4)}`), `the entry shows the hint …${token.slice(-4)} (it says "${entry.text}")`);
      assert.deepEqual(entry.actions, ['copy', 'revoke']);
      ids.unlocked = entry.id;
    });

    step('5. locks, still saves a capture while locked, and says so in the options page and the popup', TEST, async () => {
      await bringToFront(options);
      await pressControl(options, 'button', 'Lock now');
      let view = await waitForVault(options, 'locked');
      assert.match(view.text, /1 saved key\b/);
      assert.equal(view.entries.length, 0, 'a locked vault lists nothing');

      const { token, state } = await captureToken(vendor, 'e2e while locked');
      tokens.locked = token;
      assert.equal(state, 'saved', 'a capture while locked is saved');

      await bringToFront(options);
      await loadExtensionPage(options);
      view = await waitForVault(options, 'locked');
      assert.match(view.text, /2 saved keys/, `the options page counts both keys (it says "${view.text}")`);
      await byLabel(options, 'Passphrase', { under: 'Vault' });
      await byRole(options, 'button', 'Unlock', { under: 'Vault' });

      await withPopup(browser, options, async (popup) => {
        const shown = await waitForVault(popup, 'locked');
        assert.match(shown.text, /2 saved keys/, `the popup counts both keys (it says "${shown.text}")`);
        assert.equal(shown.entries.length, 0);
      });
    });

    step('6. refuses a wrong passphrase, then unlocks with the right one and lists both keys', TEST, async () => {
      await bringToFront(options);
      await waitForVault(options, 'locked');
      await fill(options, { label: 'Passphrase' }, WRONG_PASSPHRASE);
      await pressControl(options, 'button', 'Unlock');
      const said = await waitForStatus(options, (s) => /wrong passphrase/i.test(s), 'a wrong-passphrase message in #page-status');
      assert.doesNotMatch(said, /Unlocked/);
      await waitForVault(options, 'locked');

      await fill(options, { label: 'Passphrase' }, PASSPHRASE);
      await pressControl(options, 'button', 'Unlock');
      const view = await waitForVault(options, 'unlocked', { timeout: CRYPTO_TIMEOUT, also: (v) => v.entries.length > 0 });
      assert.match(view.status, /Unlocked/);
      assert.equal(view.entries.length, 2, `two entries (${JSON.stringify(view.entries)})`);
      for (const token of [tokens.unlocked, tokens.locked]) {
        const entry = entryFor(view.entries, token);
        assert.equal(entry.vendor, VENDOR);
        assert.ok(!entry.text.includes(token), 'no entry shows a token');
        assert.doesNotMatch(entry.text, /saved while locked/, 'unlocking vouches for the key saved while locked');
      }
      assert.equal(entryFor(view.entries, tokens.unlocked).id, ids.unlocked);
      ids.locked = entryFor(view.entries, tokens.locked).id;
      assert.deepEqual(await secretsInExtensionPage(options, Object.values(tokens)), []);
    });

    step('7. export asks for the vault passphrase again: a wrong one is refused beside the form, readably, and both fields are emptied', TEST, async () => {
      await bringToFront(options);
      await waitForVault(options, 'unlocked');
      await fill(options, { label: 'Backup passphrase', under: 'Backup' }, BACKUP_PASSPHRASE);
      await fill(options, { label: 'Vault passphrase', under: 'Backup' }, WRONG_PASSPHRASE);
      await pressControl(options, 'button', 'Export backup');
      const said = await waitForFormStatus(options, 'export-backup', (s) => /passphrase/i.test(s) && !/Exporting/.test(s));
      assert.match(said, /^Wrong passphrase\b.*\.$/, `the refusal reads as a sentence (it says "${said}")`);
      const backupFields = [await byLabel(options, 'Backup passphrase', { under: 'Backup' }), await byLabel(options, 'Vault passphrase', { under: 'Backup' })];
      assert.deepEqual(await fieldValues(options, backupFields), ['', ''], 'both passphrase fields are emptied');
      assert.ok(await options.evaluate(() => document.querySelector('#backup-output').hidden), 'no backup is shown');
      assert.deepEqual(await secretsInExtensionPage(options, [WRONG_PASSPHRASE, BACKUP_PASSPHRASE, PASSPHRASE]), [], 'no passphrase stays in the page');
    });

    step('8. exports a backup that the age tool opens with the backup passphrase only', TEST, async (t) => {
      requireAgeTools();
      await bringToFront(options);
      await fill(options, { label: 'Backup passphrase', under: 'Backup' }, BACKUP_PASSPHRASE);
      await fill(options, { label: 'Vault passphrase', under: 'Backup' }, PASSPHRASE);
      const started = Date.now();
      await pressControl(options, 'button', 'Export backup');
      const armored = await waitForArmored(options, 'textarea#backup-output', 'the armored backup');
      t.diagnostic(`backup exported ${Date.now() - started} ms after the click`);
      assert.match(await waitForStatus(options, (s) => /Backup of/.test(s), 'the backup message'), /Backup of 2 keys ready/);
      assert.match(armored.trim(), /^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+\n-----END AGE ENCRYPTED FILE-----$/);
      for (const token of Object.values(tokens)) assert.ok(!armored.includes(token), 'the backup text holds no token in clear');

      const file = path.join(work, 'keywarden-backup.age');
      writeFileSync(file, armored);
      const wrong = await ageDecryptWithPassphrase(file, path.join(work, 'wrong.json'), PASSPHRASE);
      assert.equal(wrong.ok, false, 'the vault passphrase does not open the backup');
      assert.match(wrong.output, /incorrect passphrase|no identity matched/i, `age says why (${JSON.stringify(wrong.output)})`);

      const ageStarted = Date.now();
      const opened = await ageDecryptWithPassphrase(file, path.join(work, 'backup.json'), BACKUP_PASSPHRASE);
      t.diagnostic(`age -d took ${Date.now() - ageStarted} ms`);
      assert.ok(opened.ok, `age -d opens the backup (exit ${opened.code}: ${opened.output})`);
      const doc = JSON.parse(opened.plain);
      assert.equal(doc.format, 'keywarden-backup');
      assert.equal(doc.version, 1);
      assert.equal(typeof doc.exported_at, 'number');
      assert.equal(doc.entries.length, 2);
      const byId = Object.fromEntries(doc.entries.map((e) => [e.id, e]));
      assert.equal(byId[ids.unlocked]?.secret, tokens.unlocked, 'the backup holds the token saved while unlocked');
      assert.equal(byId[ids.locked]?.secret, tokens.locked, 'the backup holds the token saved while locked');
      assert.ok(!opened.plain.includes(tokens.unsaved), 'the token captured before setup is not in the backup');
      for (const entry of doc.entries) {
        assert.equal(entry.meta.vendor, VENDOR);
        assert.equal(entry.meta.tenant, 'control.predicthq.com');
      }
      assert.equal(byId[ids.unlocked].meta.key_name, 'e2e while unlocked');
      assert.equal(byId[ids.locked].meta.key_name, 'e2e while locked');
      rmSync(path.join(work, 'backup.json'), { force: true });
    });

    step('8b. imports that backup from a file picked on disk: the keys already here are skipped', TEST, async () => {
      await bringToFront(options);
      const file = path.join(work, 'keywarden-backup.age');
      assert.ok(existsSync(file), 'the backup exported by the step before');
      // Drivers set a file input through a handle: the field is found by its label, then handed to them.
      const picker = await byLabel(options, 'Backup file', { under: 'Import a backup' });
      if (name === 'chromium') {
        await withTimeout(options.page.setInputFiles(picker, file), STEP_TIMEOUT, 'pick the backup file');
      } else {
        const input = await options.page.$(picker);
        await withTimeout(input.uploadFile(file), STEP_TIMEOUT, 'pick the backup file');
      }
      const contents = await byLabel(options, 'Backup file contents', { under: 'Import a backup' });
      await options.waitFor((sel) => /^-----BEGIN AGE ENCRYPTED FILE-----/.test(document.querySelector(sel)?.value ?? ''), contents, {
        what: 'the picked file to fill the backup text in',
      });
      await fill(options, { label: 'Backup passphrase', under: 'Import a backup' }, BACKUP_PASSPHRASE);
      await pressControl(options, 'button', 'Import', { under: 'Import a backup' });
      const said = await waitForStatus(options, (s) => /Imported/.test(s), 'the import message');
      assert.match(said, /Imported 0 keys; 2 already here were skipped/);
    });

    step('9. shares one key, encrypted to a teammate\'s age identity', TEST, async () => {
      requireAgeTools();
      const identity = path.join(work, 'teammate.txt');
      const keygen = await run(AGE_KEYGEN, ['-o', identity]);
      assert.ok(keygen.ok, `age-keygen runs (${keygen.stderr})`);
      const recipient = readFileSync(identity, 'utf8').split('\n').find((l) => l.startsWith('# public key: '))?.slice('# public key: '.length);
      assert.match(recipient ?? '', /^age1[0-9a-z]+$/);

      await bringToFront(options);
      await chooseByRole(options, 'Key to share', ids.locked);
      await fill(options, { role: 'textbox', name: 'Teammate\'s public key (age1…)' }, recipient);
      await fill(options, { label: 'Vault passphrase', under: 'Share a key with a teammate' }, PASSPHRASE);
      await pressControl(options, 'button', 'Encrypt for teammate');
      const armored = await waitForArmored(options, 'textarea#share-output', 'the armored key');
      assert.match(armored.trim(), /^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]+\n-----END AGE ENCRYPTED FILE-----$/);
      for (const token of Object.values(tokens)) assert.ok(!armored.includes(token), 'the shared text holds no token in clear');
      const shareField = await byLabel(options, 'Vault passphrase', { under: 'Share a key with a teammate' });
      assert.deepEqual(await fieldValues(options, [shareField]), [''], 'the vault passphrase field is emptied');

      const file = path.join(work, 'shared.age');
      writeFileSync(file, armored);
      const opened = await run(AGE, ['-d', '-i', identity, file]);
      assert.ok(opened.ok, `age -d -i opens the shared key (${opened.stderr})`);
      assert.match(opened.stdout, /^# keywarden shared key, format 1\n/);
      assert.ok(opened.stdout.includes(`secret: ${tokens.locked}\n`), 'the shared file holds the chosen token');
      assert.ok(!opened.stdout.includes(tokens.unlocked), 'and no other');

      const stranger = path.join(work, 'stranger.txt');
      assert.ok((await run(AGE_KEYGEN, ['-o', stranger])).ok);
      assert.equal((await run(AGE, ['-d', '-i', stranger, file])).ok, false, 'another identity does not open it');
      assert.deepEqual(await secretsInExtensionPage(options, Object.values(tokens)), [], 'after export and share the options page holds no token');
    });

    step('10. copies a key from the popup to the clipboard', TEST, async (t) => {
      if (name === 'chromium') {
        // Chromium refuses a grant for the chrome-extension origin ("opaque origins"); one for
        // every origin covers the extension page too.
        await browser.context.grantPermissions(['clipboard-read', 'clipboard-write']);
      }
      await withPopup(browser, options, async (popup) => {
        const view = await waitForVault(popup, 'unlocked', { also: (v) => v.entries.length === 2 });
        const entry = view.entries.find((e) => e.id === ids.unlocked);
        assert.ok(entry, `the popup lists ${ids.unlocked} (${JSON.stringify(view.entries)})`);
        assert.ok(entry.text.includes(`•••• ${tokens.unlocked.slice(-4)}`), `the row shows the key masked but for its last four (${entry.text})`);
        assert.deepEqual(entry.actions, ['open', 'copy'], 'the popup offers the details and Copy');
        // Something else on the clipboard first, so what is read back can only come from Copy.
        await popup.evaluate((text) => navigator.clipboard.writeText(text), CLIPBOARD_SENTINEL);
        assert.equal(await readClipboard(popup), CLIPBOARD_SENTINEL, 'the test can write and read the clipboard');
        const copy = await pressControl(popup, 'button', 'Copy e2e while unlocked');
        const inRow = ([sel, id]) => document.querySelector(sel).closest('li[data-entry-id]')?.getAttribute('data-entry-id') === id;
        assert.ok(await popup.evaluate(inRow, [copy, entry.id]), 'Copy e2e while unlocked is the button of that row');
        const said = await popup.waitFor(
          (css) => document.querySelector(css)?.parentElement.querySelector('.toast')?.textContent || null,
          copy,
          { what: 'the toast beside Copy' },
        );
        assert.match(said, /^Copied\b/);
        let copied;
        try {
          copied = await readClipboard(popup);
        } catch (error) {
          t.diagnostic(`${name}: navigator.clipboard.readText() failed: ${error.message}`);
          throw error;
        }
        assert.equal(copied, tokens.unlocked, 'the clipboard holds the token');
        assert.deepEqual(await secretsInExtensionPage(popup, Object.values(tokens)), [], 'the popup shows no token');
      });
    }, { independent: true });

    step('11. no token ever shows in the options page, and the vendor page shows only its own', TEST, async () => {
      await bringToFront(options);
      await waitForVault(options, 'unlocked');
      assert.deepEqual(await secretsInExtensionPage(options, Object.values(tokens)), []);
      await bringToFront(vendor);
      await expectNoLeak(vendor, tokens.locked);
      const others = await vendor.evaluate(
        (list) => list.filter((s) => document.documentElement.outerHTML.includes(s)).length,
        [tokens.unsaved, tokens.unlocked],
      );
      assert.equal(others, 0, 'earlier tokens are gone from the vendor page');
    });

    step('12. the worker, the popup and the step panel never load the passphrase strength module, nor the panel, popup or options page the full core', TEST, async (t) => {
      const dir = extensionDir(name);
      for (const start of ['worker.js', 'popup.html', 'panel.html']) expectStrengthUnreachable(dir, start);
      for (const start of ['popup.html', 'options.html', 'panel.html']) expectOwnModule(dir, start);
      assert.ok(reachableFiles(dir, 'worker.js').includes('keywarden_bg.wasm'), 'the worker loads the full core');
      // The panel's module holds the panel alone, the pages' module the popup and the options page:
      // neither has the worker's entry points, nor the other's.
      for (const [glue, { has, lacks }] of Object.entries(ENTRIES_OF)) {
        const text = readFileSync(path.join(dir, glue), 'utf8');
        for (const entry of has) assert.match(text, new RegExp(`export function ${entry}\\b`), `${glue} has ${entry}`);
        for (const entry of lacks) assert.ok(!new RegExp(`export function ${entry}\\b`).test(text), `${glue} has no ${entry}`);
      }
      const optionsFiles = reachableFiles(dir, 'options.html');
      assert.ok(optionsFiles.includes('strength_bg.wasm'), 'the options page does reach it');
      assert.deepEqual(optionsFiles.filter((f) => f.endsWith('.wasm')).sort(), ['keywarden_pages_bg.wasm', 'strength_bg.wasm'], 'the options page reaches its module and the strength check only');
      if (name !== 'chromium') {
        t.diagnostic('Firefox records no resource timing or network events for extension documents: the build was checked statically');
        return;
      }
      await bringToFront(vendor);
      assert.equal((await vendor.goto(`${APP}/tokens`)).status, 200);
      // Keys were saved in this tab already, so the walkthrough waits to be asked for here.
      await startGuide({ browser, extensionTab: options }, vendor);
      const panel = await vendor.panel();
      await panel.waitForSelector('[role="dialog"]');
      await withPopup(browser, options, (popup) => waitForVault(popup, 'unlocked'));
      expectNoStrengthRequests(requests, 'panel.html');
      expectNoStrengthRequests(requests, 'popup.html');
      const optionsLoaded = filesRequestedBy(requests, 'options.html');
      assert.ok(optionsLoaded.includes('strength_bg.wasm'), 'the same record shows the options page loading it');
      assert.deepEqual([...new Set(optionsLoaded.filter((f) => f.endsWith('.wasm')))].sort(), ['keywarden_pages_bg.wasm', 'strength_bg.wasm'], `the options page loads its module and the strength check only (it loaded ${JSON.stringify(optionsLoaded)})`);
    }, { independent: true });

    step('13. a change made to storage.local from another extension page shows in the next popup list: a flipped byte, then the item put back', TEST, async () => {
      const damagedIn = (popup) => popup.evaluate(() => [...document.querySelectorAll('[data-damaged]')].map((p) => p.getAttribute('data-damaged')));
      // The worker lists the vault first, so what follows must reach the copy it keeps.
      await withPopup(browser, options, (popup) => waitForVault(popup, 'unlocked', { also: (v) => v.entries.length === 2 }));
      await bringToFront(options);
      const key = `entry:${ids.unlocked}`;
      const original = await options.evaluate(async (key) => {
        const ext = globalThis.browser ?? globalThis.chrome;
        const item = (await ext.storage.local.get(key))[key];
        const bytes = atob(item.age);
        const at = bytes.length >> 1;
        const flipped = bytes.slice(0, at) + String.fromCharCode(bytes.charCodeAt(at) ^ 1) + bytes.slice(at + 1);
        await ext.storage.local.set({ [key]: { ...item, age: btoa(flipped) } });
        return item;
      }, key);
      await withPopup(browser, options, async (popup) => {
        const view = await waitForVault(popup, 'unlocked', { also: (v) => v.entries.length === 1, what: 'with the flipped key left out' });
        assert.ok(!view.entries.some((e) => e.id === ids.unlocked), 'the flipped key is not listed as a key');
        assert.deepEqual(await damagedIn(popup), [key], 'the popup names the flipped item as damaged');
      });
      await bringToFront(options);
      await options.evaluate(async ({ key, item }) => {
        const ext = globalThis.browser ?? globalThis.chrome;
        await ext.storage.local.set({ [key]: item });
      }, { key, item: original });
      await withPopup(browser, options, async (popup) => {
        const view = await waitForVault(popup, 'unlocked', { also: (v) => v.entries.length === 2, what: 'with the item put back' });
        assert.ok(view.entries.some((e) => e.id === ids.unlocked), 'the key put back is listed again');
        assert.deepEqual(await damagedIn(popup), [], 'and nothing is damaged');
      });
    }, { independent: true });
  });
}
