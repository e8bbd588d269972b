// Shared end-to-end machinery: test certificates, the fixture HTTPS server, a CONNECT proxy, browser launchers and one small page API for Chromium and Firefox.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const FIXTURES_DIR = path.join(HERE, 'fixtures');
/** The developer tool `./build.sh` builds (dev profile) before the tests: vault images, manifests. */
export const KEYWARDEN_TOOL = path.join(REPO_ROOT, 'target', 'debug', 'keywarden-tool');

/** Every host the fixtures answer for, and the fixture directory each one serves. */
export const FIXTURE_HOSTS = {
  'control.predicthq.com': 'predicthq',
  'control.predicthq.com.phish.test': 'predicthq',
  'predicthq-control.test': 'predicthq',
  'app.predictiveindex.com': 'predictiveindex',
  'app.predictiveindex.com.evil.test': 'predictiveindex',
  'predictiveindex-app.test': 'predictiveindex',
  'partners.gotransverse.com': 'gotransverse',
  'acme.gotransverse.com': 'gotransverse',
  'partners.gotransverse.com.evil.test': 'gotransverse',
  'partners-gotransverse.test': 'gotransverse',
  'planning.example-energy.test': 'planningspace',
  'planning.other-company.test': 'planningspace',
  'example.test': 'example',
};

/** The Firefox add-on id and the moz-extension UUID pinned for it in every test profile. */
export const GECKO_ID = 'keywarden@keywarden.dev';
export const FIREFOX_EXTENSION_UUID = '6f1c2a4e-93b7-4d0a-8c55-2e7b1d9a0f3c';

export const STEP_TIMEOUT = 10_000;
const LAUNCH_TIMEOUT = 45_000;
const CLOSE_TIMEOUT = 10_000;
const POLL_INTERVAL = 100;

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const liveTempDirs = new Set();
process.on('exit', () => {
  for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Creates a temporary directory that is removed by `removeTempDir` or, at the latest, when the process exits. */
export function makeTempDir(label) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `keywarden-e2e-${label}-`));
  liveTempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  if (!dir) return;
  rmSync(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a labelled error when `promise` does not settle within `ms`. */
export async function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` until it returns a truthy value and returns that value, or throws after `timeout` ms. */
export async function poll(probe, { timeout = STEP_TIMEOUT, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeout} ms waiting for ${what}${cause}`);
    }
    await sleep(POLL_INTERVAL);
  }
}

// ---------------------------------------------------------------------------
// Geometry

/** True when `outer` contains `inner`, allowing `slack` pixels on every side. */
export function contains(outer, inner, slack = 1) {
  return (
    outer.x <= inner.x + slack &&
    outer.y <= inner.y + slack &&
    outer.x + outer.width >= inner.x + inner.width - slack &&
    outer.y + outer.height >= inner.y + inner.height - slack
  );
}

export function intersects(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The shortest distance between two boxes (0 when they touch or overlap). */
export function distance(a, b) {
  const dx = Math.max(0, b.x - (a.x + a.width), a.x - (b.x + b.width));
  const dy = Math.max(0, b.y - (a.y + a.height), a.y - (b.y + b.height));
  return Math.hypot(dx, dy);
}

export const centre = (box) => ({ x: box.x + box.width / 2, y: box.y + box.height / 2 });

export const describeBox = (box) =>
  box ? `{x:${box.x.toFixed(1)} y:${box.y.toFixed(1)} w:${box.width.toFixed(1)} h:${box.height.toFixed(1)}}` : 'none';

// ---------------------------------------------------------------------------
// Certificates

/** Makes a throwaway CA and a server certificate naming every host in `hosts`; returns PEM strings. */
export function makeCertificates(dir, hosts) {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=keywarden e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0]}`);
  writeFileSync(
    path.join(dir, 'server.ext'),
    [
      `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  const read = (name) => readFileSync(path.join(dir, name), 'utf8');
  return { ca: read('ca.crt'), cert: read('server.crt'), key: read('server.key') };
}

// ---------------------------------------------------------------------------
// Fixture server and proxy

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

function trackSockets(server) {
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

function serveStatic(hostMap, log) {
  return (req, res) => {
    const host = (req.headers.host || '').replace(/:\d+$/, '').toLowerCase();
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      log.push({ host, url: req.url, status });
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    const fixture = hostMap[host];
    if (!fixture) return send(421, `No fixture is served for host "${host}".\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method not allowed.\n');
    // A fixture is a directory under fixtures/, or an absolute path (a page a bench generates).
    const root = path.resolve(FIXTURES_DIR, fixture);
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'https://fixture.invalid').pathname);
    } catch {
      return send(400, 'Bad request.\n');
    }
    let file = path.join(root, path.normalize(pathname));
    if (file !== root && !file.startsWith(root + path.sep)) return send(403, 'Forbidden.\n');
    const isFile = (candidate) => {
      try {
        return statSync(candidate).isFile();
      } catch {
        return false;
      }
    };
    if (!isFile(file)) {
      const indexInDir = path.join(file, 'index.html');
      if (isFile(indexInDir)) file = indexInDir;
      else if (path.extname(pathname) === '') file = path.join(root, 'index.html');
      else return send(404, 'Not found.\n');
      if (!isFile(file)) return send(404, `Fixture "${fixture}" has no index.html.\n`);
    }
    log.push({ host, url: req.url, status: 200 });
    res.writeHead(200, {
      'Content-Type': MIME_TYPES[path.extname(file)] || 'application/octet-stream',
      'Content-Length': statSync(file).size,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };
}

function startProxy(allowedHosts, httpsPort, refused) {
  const proxy = http.createServer((req, res) => {
    refused.push(req.url);
    res.writeHead(403, { 'Content-Length': 0 });
    res.end();
  });
  const tunnels = new Set();
  proxy.on('connect', (req, client, head) => {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url || '');
    const host = match?.[1].toLowerCase();
    if (!match || match[2] !== '443' || !allowedHosts.has(host)) {
      refused.push(req.url);
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = net.connect(httpsPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head?.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    tunnels.add(upstream);
    const drop = () => {
      upstream.destroy();
      client.destroy();
      tunnels.delete(upstream);
    };
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('error', drop);
    client.on('close', drop);
  });
  return { proxy, tunnels };
}

/**
 * Starts the fixture HTTPS server and the CONNECT proxy on loopback.
 * Returns { hosts, httpsPort, proxyPort, requests, refused, close }.
 */
export async function startFixtures({ hostMap = FIXTURE_HOSTS } = {}) {
  const dir = makeTempDir('certs');
  const servers = [];
  try {
    const hosts = Object.keys(hostMap);
    const { cert, key } = makeCertificates(dir, hosts);
    const requests = [];
    const refused = [];
    const server = https.createServer({ cert, key }, serveStatic(hostMap, requests));
    servers.push(server);
    const serverSockets = trackSockets(server);
    const httpsPort = await listen(server);
    const { proxy, tunnels } = startProxy(new Set(hosts), httpsPort, refused);
    servers.push(proxy);
    const proxySockets = trackSockets(proxy);
    const proxyPort = await listen(proxy);
    removeTempDir(dir);
    return {
      hosts,
      httpsPort,
      proxyPort,
      requests,
      refused,
      async close() {
        for (const socket of [...serverSockets, ...proxySockets, ...tunnels]) socket.destroy();
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
      },
    };
  } catch (error) {
    for (const s of servers) s.close();
    removeTempDir(dir);
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Extension builds

/** The unpacked extension for `browser` ('chromium' or 'firefox'); KEYWARDEN_DIST overrides `<repo>/dist`. */
export function extensionDir(browser) {
  const dist = process.env.KEYWARDEN_DIST ? path.resolve(process.env.KEYWARDEN_DIST) : path.join(REPO_ROOT, 'dist');
  const dir = path.join(dist, browser === 'chromium' ? 'chrome' : 'firefox');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`No built extension at ${dir} (manifest.json missing). Run ./build.sh in ${REPO_ROOT} first.`);
  }
  return dir;
}

// ---------------------------------------------------------------------------
// A page API shared by both browsers

// Finds the first element matching a target: a CSS selector string or { css, text } (exact trimmed text).
function findInDocument(target) {
  const css = typeof target === 'string' ? target : target.css;
  const text = typeof target === 'string' ? null : target.text;
  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  for (const el of document.querySelectorAll(css)) {
    if (text === null || norm(el.textContent) === text) return el;
  }
  return null;
}

// The same lookup returning the element's viewport-relative box (evaluated functions cannot share helpers).
function rectInDocument(target) {
  const css = typeof target === 'string' ? target : target.css;
  const text = typeof target === 'string' ? null : target.text;
  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  for (const el of document.querySelectorAll(css)) {
    if (text !== null && norm(el.textContent) !== text) continue;
    const r = el.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  }
  return null;
}

const describeTarget = (target) => (typeof target === 'string' ? target : `${target.css} "${target.text}"`);

/** Querying and acting on one document (a page's main frame or a child frame). */
class Scope {
  constructor(frame, tab) {
    this.frame = frame;
    this.tab = tab;
  }

  url() {
    return this.frame.url();
  }

  /** Runs `fn(arg)` in the document and returns its serializable result. */
  evaluate(fn, arg) {
    return withTimeout(this.frame.evaluate(fn, arg), STEP_TIMEOUT, 'evaluate');
  }

  /** Waits until `fn(arg)` evaluated in the document returns a truthy value, and returns it. */
  waitFor(fn, arg, { timeout = STEP_TIMEOUT, what = 'a condition in the page' } = {}) {
    return poll(() => this.evaluate(fn, arg), { timeout, what });
  }

  /** Waits for an element matching `target` and returns its bounding box. */
  waitForSelector(target, { timeout = STEP_TIMEOUT } = {}) {
    return this.waitFor(rectInDocument, target, { timeout, what: describeTarget(target) });
  }

  /** The viewport-relative box of the element matching `target`, or null. */
  boundingBox(target) {
    return this.evaluate(rectInDocument, target);
  }

  async handle(target, { timeout = STEP_TIMEOUT } = {}) {
    await this.waitForSelector(target, { timeout });
    const handle = await this.frame.evaluateHandle(findInDocument, target);
    const element = handle.asElement();
    if (!element) {
      await handle.dispose();
      throw new Error(`${describeTarget(target)} vanished before it could be used`);
    }
    return element;
  }

  /** Clicks the element matching `target` with real mouse input. */
  async click(target) {
    const element = await this.handle(target);
    try {
      // Playwright's own timeout keeps its explanation (for example, which element covers the target).
      const options = this.tab.kind === 'chromium' ? { timeout: STEP_TIMEOUT } : undefined;
      await withTimeout(element.click(options), STEP_TIMEOUT + 2_000, `click ${describeTarget(target)}`);
    } finally {
      await element.dispose();
    }
  }

  /** Focuses the element matching `target` and types `text` key by key. */
  async type(target, text) {
    const element = await this.handle(target);
    try {
      await withTimeout(element.focus(), STEP_TIMEOUT, 'focus');
      await withTimeout(this.tab.page.keyboard.type(text), STEP_TIMEOUT, 'type');
    } finally {
      await element.dispose();
    }
  }
}

/** One browser tab with the page-level helpers the tests use. */
export class Tab extends Scope {
  constructor(kind, page) {
    super(page.mainFrame(), null);
    this.tab = this;
    this.kind = kind;
    this.page = page;
  }

  /** Loads `url` and returns the main document's status and (lower-cased) response headers. */
  async goto(url) {
    const response = await withTimeout(
      this.page.goto(url, { waitUntil: 'load', timeout: STEP_TIMEOUT }),
      STEP_TIMEOUT + 2_000,
      `goto ${url}`,
    );
    return { status: response?.status() ?? 0, headers: response?.headers() ?? {} };
  }

  /** A real mouse click at viewport coordinates. */
  mouseClick(x, y) {
    return withTimeout(this.page.mouse.click(x, y), STEP_TIMEOUT, 'mouse click');
  }

  /** Presses a key in whatever element has focus. */
  press(key) {
    return withTimeout(this.page.keyboard.press(key), STEP_TIMEOUT, `press ${key}`);
  }

  /**
   * The current URL of a frame. Firefox does not report the navigation of an extension page
   * inside a web page to the driver (the frame stays "about:blank" there), so child frames
   * are asked for their own location.
   */
  async frameUrl(frame) {
    if (this.kind === 'chromium' || frame === this.page.mainFrame()) return frame.url();
    try {
      return await withTimeout(frame.evaluate(() => location.href), 2_000, 'frame location');
    } catch {
      return frame.url();
    }
  }

  frameUrls() {
    return Promise.all(this.page.frames().map((frame) => this.frameUrl(frame)));
  }

  /** The extension's panel frame (a frame whose URL contains panel.html), or null. */
  async panelFrameNow() {
    for (const frame of this.page.frames()) {
      if (frame === this.page.mainFrame()) continue;
      const url = await this.frameUrl(frame);
      if (/panel\.html/.test(url)) return new PanelFrame(frame, this, url);
    }
    return null;
  }

  /** Waits for the extension's panel frame to exist and returns it. */
  panel({ timeout = STEP_TIMEOUT } = {}) {
    return poll(() => this.panelFrameNow(), { timeout, what: 'the panel.html frame' });
  }
}

/**
 * The extension's panel frame. It sits inside a closed shadow root: Playwright still places the
 * mouse on it, but Puppeteer cannot locate such a frame on the page, so in Firefox a button is
 * focused from inside the frame and pressed with the keyboard (still trusted input).
 */
export class PanelFrame extends Scope {
  constructor(frame, tab, url) {
    super(frame, tab);
    this.resolvedUrl = url;
  }

  url() {
    return this.resolvedUrl;
  }

  /** Presses a button in the panel (matched by `target`) with real input. */
  async click(target) {
    if (this.tab.kind !== 'chromium') return this.press(target, 'Enter');
    await this.tolerateRemoval(() => super.click(target));
  }

  /** Focuses `target` inside the panel and presses `key` there. */
  async press(target, key) {
    await this.focusInside(target);
    const { keyboard } = this.tab.page;
    await this.tolerateRemoval(() => withTimeout(keyboard.down(key), 3_000, `key down ${key}`));
    await sleep(50);
    await this.tolerateRemoval(() => withTimeout(keyboard.up(key), 3_000, `key up ${key}`));
  }

  /**
   * Runs one input action that may close the panel. When the action removes the panel's frame,
   * the browser can leave the input unanswered (seen in Chromium with a key press), so a failure
   * counts only while the frame is still there.
   */
  async tolerateRemoval(action) {
    try {
      await action();
    } catch (error) {
      if (!this.detached()) throw error;
    }
  }

  detached() {
    const frame = this.frame;
    const gone = typeof frame.isDetached === 'function' ? frame.isDetached() : frame.detached;
    return gone || !this.tab.page.frames().includes(frame);
  }

  async focusInside(target) {
    await this.waitForSelector(target);
    // The panel may be redrawn or moved (its frame follows its content's height) just as the
    // focus lands: try again for a moment before calling the focus refused.
    const focused = await poll(() => this.evaluate((t) => {
      const css = typeof t === 'string' ? t : t.css;
      const norm = (s) => s.replace(/\s+/g, ' ').trim();
      const el = [...document.querySelectorAll(css)].find((e) => typeof t === 'string' || norm(e.textContent) === t.text);
      if (!el.hasAttribute('tabindex') && !el.matches('button, a[href], input, select, textarea')) el.tabIndex = -1;
      window.focus();
      el.focus();
      return document.activeElement === el;
    }, target), { timeout: 3_000, what: `the focus on ${describeTarget(target)}` }).catch(() => false);
    if (!focused) {
      // What the run needs to tell why: the frame's focus and size, and how the page shows its host.
      const frame = await this.evaluate(() => `focus ${document.hasFocus()}, view ${innerWidth}×${innerHeight}`).catch((e) => e.message);
      const host = await this.tab.evaluate(() => {
        const el = document.querySelector('keywarden-panel');
        if (!el) return 'no host';
        const cs = getComputedStyle(el);
        return `display ${cs.display}, opacity ${cs.opacity}, ${el.hasAttribute('data-folded') ? 'folded' : 'unfolded'}`;
      }).catch((e) => e.message);
      throw new Error(`could not focus ${describeTarget(target)} in the panel (frame: ${frame}; host: ${host})`);
    }
  }
}

// ---------------------------------------------------------------------------
// Browsers

/**
 * Returns a function that opens a fresh tab and then closes the tabs opened before it, so each
 * test starts clean while the browser always keeps one window open.
 */
function tabSwitcher(kind, openPage, initialPages) {
  let previous = [...initialPages];
  const newTab = async () => {
    const page = await withTimeout(openPage(), STEP_TIMEOUT, 'open tab');
    for (const old of previous) await withTimeout(old.close(), CLOSE_TIMEOUT, 'close tab').catch(() => {});
    previous = [page];
    return new Tab(kind, page);
  };
  /** Keeps `tab` open when the next tabs are opened (an extension page the suite talks through). */
  newTab.keep = (tab) => {
    previous = previous.filter((p) => p !== tab.page);
  };
  return newTab;
}

async function closeQuietly(label, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), CLOSE_TIMEOUT, label);
  } catch {
    // Cleanup continues with the next resource; a stuck process is killed by the caller.
  }
}

const liveXServers = new Set();
process.on('exit', () => {
  for (const child of liveXServers) child.kill('SIGKILL');
});

/**
 * Starts a private X server (Xvfb) on the first free display, for a browser that has to run in a
 * window: native prompts such as Chromium's extension permission dialog exist only there.
 * Returns { display, close }.
 */
export async function startXvfb({ screen = '1280x900x24' } = {}) {
  // -terminate: the server also goes when its last client (the browser) does, even if this process is killed.
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', screen, '-nolisten', 'tcp', '-terminate'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  liveXServers.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => liveXServers.delete(child));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await withTimeout(exited, 5_000, 'stop Xvfb').catch(() => child.kill('SIGKILL'));
  };
  try {
    const display = await withTimeout(
      new Promise((resolve, reject) => {
        let out = '';
        child.stdio[3].on('data', (chunk) => {
          out += chunk;
          const number = /^(\d+)\n/.exec(out);
          if (number) resolve(`:${number[1]}`);
        });
        child.once('error', (error) => reject(new Error(`Xvfb could not start (${error.message}); install Debian's xvfb`)));
        child.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${stderr.trim()}`)));
      }),
      LAUNCH_TIMEOUT,
      'start Xvfb',
    );
    return { display, close: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Presses keys (xdotool names such as 'Tab', 'space') in whatever window has the focus on X display `display`. */
export function pressKeysOnDisplay(display, keys, { delay = 100 } = {}) {
  return new Promise((resolve, reject) => {
    execFile('xdotool', ['key', '--delay', String(delay), ...keys], { env: { ...process.env, DISPLAY: display }, timeout: 10_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`xdotool failed: ${stderr || error.message}; install Debian's xdotool`)) : resolve()));
  });
}

/**
 * Launches Debian's Chromium with the extension in `extDir` and the fixture hosts mapped to the
 * local HTTPS server. With `window: true` it runs in a real window on its own Xvfb display
 * (returned as `display`) instead of headless.
 * Returns { name, context, serviceWorker, extensionId, newTab, display, close }.
 */
export async function launchChromium(extDir, fixtures, { window = false, extension = true } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = makeTempDir('chromium');
  let context;
  let xvfb;
  try {
    if (window) xvfb = await startXvfb();
    const rules = fixtures.hosts.map((host) => `MAP ${host} 127.0.0.1:${fixtures.httpsPort}`).join(',');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium',
      headless: false,
      timeout: LAUNCH_TIMEOUT,
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 800 },
      env: xvfb ? { ...process.env, DISPLAY: xvfb.display } : undefined,
      args: [
        ...(xvfb ? ['--window-position=0,0', '--window-size=1280,900'] : ['--headless=new']),
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--ignore-certificate-errors',
        `--host-resolver-rules=${rules}`,
        // Without the extension (a bench's anchor), the same browser as the extension sees.
        ...(extension ? [`--disable-extensions-except=${extDir}`, `--load-extension=${extDir}`] : []),
      ],
    });
    const serviceWorker = !extension ? null
      : context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: LAUNCH_TIMEOUT }));
    const extensionId = serviceWorker ? new URL(serviceWorker.url()).host : null;
    return {
      name: 'chromium',
      context,
      serviceWorker,
      extensionId,
      extensionOrigin: `chrome-extension://${extensionId}`,
      newTab: tabSwitcher('chromium', () => context.newPage(), context.pages()),
      display: xvfb?.display ?? null,
      async close() {
        await closeQuietly('close chromium', () => context.close());
        await xvfb?.close();
        removeTempDir(profile);
      },
    };
  } catch (error) {
    if (context) await closeQuietly('close chromium', () => context.close());
    await xvfb?.close();
    removeTempDir(profile);
    throw error;
  }
}

/**
 * Launches Firefox ESR over WebDriver BiDi with the fixture hosts reached through the CONNECT
 * proxy, then installs the extension in `extDir` as a temporary add-on.
 * `prefs` adds Firefox preferences. Returns { name, browser, extensionId, extensionOrigin, newTab, close }.
 */
export async function launchFirefox(extDir, fixtures, { prefs = {} } = {}) {
  const puppeteer = (await import('puppeteer-core')).default;
  const profile = makeTempDir('firefox');
  let browser;
  const kill = () => {
    try {
      browser?.process()?.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  };
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
      headless: true,
      acceptInsecureCerts: true,
      userDataDir: profile,
      timeout: LAUNCH_TIMEOUT,
      protocolTimeout: 30_000,
      defaultViewport: { width: 1280, height: 800 },
      extraPrefsFirefox: {
        'network.proxy.type': 1,
        'network.proxy.ssl': '127.0.0.1',
        'network.proxy.ssl_port': fixtures.proxyPort,
        'network.proxy.no_proxies_on': '',
        'network.proxy.allow_hijacking_localhost': true,
        'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: FIREFOX_EXTENSION_UUID }),
        ...prefs,
      },
    });
    const installed = await withTimeout(browser.installExtension(extDir), LAUNCH_TIMEOUT, 'install extension');
    if (installed !== GECKO_ID) throw new Error(`Firefox installed add-on "${installed}", expected "${GECKO_ID}"`);
    return {
      name: 'firefox',
      browser,
      serviceWorker: null,
      extensionId: installed,
      extensionOrigin: `moz-extension://${FIREFOX_EXTENSION_UUID}`,
      newTab: tabSwitcher('firefox', () => browser.newPage(), await browser.pages()),
      async close() {
        await closeQuietly('close firefox', () => browser.close());
        kill();
        removeTempDir(profile);
      },
    };
  } catch (error) {
    if (browser) await closeQuietly('close firefox', () => browser.close());
    kill();
    removeTempDir(profile);
    throw error;
  }
}

/**
 * Launches `name` ('chromium' or 'firefox') with the built extension for that browser; `options`
 * go to that browser's launcher (Chromium: `window`; Firefox: `prefs`).
 */
export function launchBrowser(name, fixtures, options = {}) {
  const dir = extensionDir(name);
  return name === 'chromium' ? launchChromium(dir, fixtures, options) : launchFirefox(dir, fixtures, options);
}

// ---------------------------------------------------------------------------
// What the extension shows in a vendor page

// Reads the highlight elements and the target's box in one pass so both come from the same layout.
function highlightSnapshot(target) {
  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  };
  const css = typeof target === 'string' ? target : target.css;
  const text = typeof target === 'string' ? null : target.text;
  const targetEl = [...document.querySelectorAll(css)].find((el) => text === null || norm(el.textContent) === text);
  const highlights = [...document.querySelectorAll('keywarden-highlight')];
  return {
    count: highlights.length,
    highlights: highlights.map((el) => ({
      pageLevel: el.parentElement === document.documentElement || el.parentElement === document.body,
      vendor: el.getAttribute('data-vendor'),
      step: el.getAttribute('data-step'),
      box: box(el),
    })),
    target: targetEl ? box(targetEl) : null,
  };
}

/**
 * Waits until the page holds exactly one page-level `keywarden-highlight` for `vendor` and `step`
 * whose box contains the `target` element's box (or, with relation 'intersects', overlaps it).
 * Returns the last snapshot; on timeout the error shows what was seen instead.
 */
export async function waitForHighlight(tab, { vendor, step, target, relation = 'contains', timeout = STEP_TIMEOUT }) {
  let last = null;
  const fits = (snap) => {
    const [hl] = snap.highlights;
    if (snap.count !== 1 || !hl.pageLevel || hl.vendor !== vendor || hl.step !== step || !snap.target) return false;
    return relation === 'intersects' ? intersects(hl.box, snap.target) : contains(hl.box, snap.target, 1);
  };
  try {
    return await poll(
      async () => {
        last = await tab.evaluate(highlightSnapshot, target);
        return fits(last) ? last : null;
      },
      { timeout, what: `highlight "${step}"` },
    );
  } catch (error) {
    const seen = last
      ? `${last.count} highlight(s) ${JSON.stringify(last.highlights.map((h) => ({ ...h, box: describeBox(h.box) })))}, target ${describeBox(last.target)}`
      : 'nothing';
    throw new Error(`${error.message}; expected ${vendor}/${step} to ${relation} ${describeTarget(target)}; saw ${seen}`);
  }
}

// Describes the panel's dialog: its step, accessible title and button labels.
function dialogSnapshot() {
  const el = document.querySelector('[role="dialog"]');
  if (!el) return { step: null, title: '', buttons: [], vendorName: '' };
  const title = (el.getAttribute('aria-labelledby') || '')
    .split(/\s+/)
    .map((id) => document.getElementById(id)?.textContent.trim() ?? '')
    .join(' ')
    .trim();
  const buttons = [...el.querySelectorAll('button')].filter((b) => !b.hidden).map((b) => b.textContent.replace(/\s+/g, ' ').trim());
  const vendorName = el.querySelector('.vendor')?.textContent.trim() ?? '';
  return { step: el.getAttribute('data-step'), title, buttons, vendorName };
}

/**
 * Waits for the panel frame to render its dialog for `step`; returns the frame and what the
 * dialog shows. The frame is looked up afresh on every try, since the panel may be replaced.
 */
export async function waitForPanelStep(tab, step, { timeout = STEP_TIMEOUT } = {}) {
  let seen = 'no panel.html frame';
  try {
    return await poll(
      async () => {
        const panel = await tab.panelFrameNow();
        if (!panel) {
          seen = 'no panel.html frame';
          return null;
        }
        const dialog = await panel.evaluate(dialogSnapshot);
        seen = dialog.step === null ? 'a panel without a dialog' : `the panel at step "${dialog.step}"`;
        if (dialog.step !== step) return null;
        // A new panel is placed once its content has said how tall it is (until then it is
        // transparent): only then is it where it stays, shown or folded into the pill.
        const settled = await tab.evaluate(() => {
          const host = document.querySelector('keywarden-panel');
          return !!host && (host.hasAttribute('data-folded') || getComputedStyle(host).opacity !== '0');
        });
        if (!settled) seen = `the panel at step "${step}", still waiting for its height`;
        return settled ? { panel, dialog } : null;
      },
      { timeout, what: `the panel to show step "${step}"` },
    );
  } catch (error) {
    throw new Error(`${error.message}; saw ${seen}`);
  }
}

/**
 * Everything of the extension's that the page holds: its elements (each with whether it is
 * rendered with a non-empty box) and the URLs of any panel frames.
 */
export async function injectedSnapshot(tab) {
  const elements = await tab.evaluate(() =>
    [...document.querySelectorAll('*')]
      .filter((el) => el.localName.startsWith('keywarden-'))
      .map((el) => {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        const hidden = style.visibility === 'hidden' || style.opacity === '0';
        return { name: el.localName, visible: !hidden && r.width > 0 && r.height > 0 };
      }),
  );
  const panelFrames = (await tab.frameUrls()).filter((url) => /panel\.html/.test(url));
  return { elements, panelFrames };
}

/**
 * Where a secret shown in the page also appears. The secret is the text of the element matching
 * `selector` (a `<code>` element by default) or, when that element is a field, its value. It may
 * not appear in the document's markup outside that element (a field holds its value as a
 * property, never in the markup), in another field (checked for fields), in any keywarden
 * element's attributes, or in the address or title.
 */
export function secretLeaks(tab, selector = 'code') {
  return tab.evaluate((css) => {
    const holder = document.querySelector(css);
    const isField = holder?.localName === 'input' || holder?.localName === 'textarea';
    const secret = (isField ? holder.value : holder?.textContent)?.trim();
    if (!secret) return { secret: null, leaks: ['no secret found in the page'] };
    const leaks = [];
    const html = document.documentElement.outerHTML;
    if (isField) {
      if (html.includes(secret)) leaks.push('document markup');
      for (const other of document.querySelectorAll('input, textarea')) {
        if (other !== holder && other.value.includes(secret)) leaks.push(`another field (${other.id || other.name || other.type})`);
      }
    } else {
      const own = holder.outerHTML;
      const at = html.indexOf(own);
      const rest = at < 0 ? html : html.slice(0, at) + html.slice(at + own.length);
      if (rest.includes(secret)) leaks.push('document markup outside the code element');
    }
    for (const el of document.querySelectorAll('*')) {
      if (!el.localName.startsWith('keywarden-')) continue;
      for (const attr of el.attributes) {
        if (attr.value.includes(secret)) leaks.push(`${el.localName}[${attr.name}]`);
      }
    }
    if (location.href.includes(secret)) leaks.push('address');
    if (document.title.includes(secret)) leaks.push('title');
    return { secret, leaks };
  }, selector);
}
