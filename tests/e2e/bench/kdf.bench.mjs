// Unlocking the vault in headless Chromium against native Argon2id at the same parameters: the vault is set up in the options page (so Argon2 is calibrated there, as for an admin), its header's parameters are read back, and unlocks alternate with native derivations by `cargo bench --bench kdf -- --serve`.
//
// KEYWARDEN_BENCH_QUICK=1 runs 3 pairs after 1 warm-up instead of 15 after 2.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT, extensionDir, launchChromium, sleep, startFixtures, withTimeout } from '../harness.mjs';
import { findOptionsTab, setUpVault } from '../flow.mjs';
import { figure, ratio, spread, unmeasured } from './stats.mjs';

const QUICK = process.env.KEYWARDEN_BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 15;
const WARMUP = QUICK ? 1 : 2;
// Made up for this run only; the vault lives in a temporary profile that is deleted afterwards.
const PASSPHRASE = `bench ${Math.random().toString(36).slice(2)} lantern orchard copper`;

/** The Argon2 parameters of the stored vault header (storage.local, or the extension's private store). */
function headerParams(options) {
  return options.evaluate(async () => {
    const ext = globalThis.browser ?? globalThis.chrome;
    const parse = (v) => (typeof v === 'string' ? JSON.parse(v) : v);
    const local = await ext.storage.local.get('vault');
    let header = local.vault ? parse(local.vault) : null;
    if (!header) {
      header = await new Promise((resolve, reject) => {
        const open = indexedDB.open('keywarden', 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('private', 'readonly').objectStore('private').get('vault');
          req.onsuccess = () => resolve(req.result ? parse(req.result) : null);
          req.onerror = () => reject(req.error);
        };
      });
    }
    return header?.kdf ?? null;
  });
}

/** Sends one request to the worker from the options page and returns the reply with its round trip in ms. */
function request(options, body) {
  return options.evaluate(async (b) => {
    const ext = globalThis.browser ?? globalThis.chrome;
    const start = performance.now();
    const reply = await ext.runtime.sendMessage({ v: 2, body: b });
    return { reply, ms: performance.now() - start };
  }, body);
}

/** Starts the native yardstick at `kdf`'s parameters; resolves to a function that times one derivation. */
async function nativeArgon2(kdf) {
  const child = spawn('cargo', ['bench', '--quiet', '--profile', 'native-bench', '--bench', 'kdf', '--', '--serve', String(kdf.m_cost_kib), String(kdf.t_cost), String(kdf.p_cost)], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  lines.on('line', (l) => (waiting.length ? waiting.shift()(l) : queue.push(l)));
  const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`cargo bench --bench kdf exited (${code})`))));
  const next = (ms) => withTimeout(Promise.race([new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiting.push(resolve))), exited]), ms, 'native Argon2id');
  const ready = await next(600_000); // may build the bench first
  if (ready !== 'ready') throw new Error(`the native bench said "${ready}" instead of ready`);
  return {
    async run() {
      child.stdin.write('\n');
      return Number(await next(60_000));
    },
    close() {
      child.stdin.end();
      child.kill();
    },
  };
}

async function main() {
  const fixtures = await startFixtures();
  let kw;
  let native;
  try {
    kw = await launchChromium(extensionDir('chromium'), fixtures);
    const options = await findOptionsTab(kw);
    await setUpVault(options, PASSPHRASE, { timeout: 120_000 });
    const kdf = await headerParams(options);
    if (!kdf) throw new Error('no Argon2 parameters in the stored vault header');
    const params = `${kdf.m_cost_kib / 1024} MiB, t = ${kdf.t_cost}, p = ${kdf.p_cost}`;
    console.log(`vault header: Argon2id ${params} (calibrated in Chromium at setup)`);
    native = await nativeArgon2(kdf);
    const browser = [];
    const yardstick = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const locked = await request(options, { type: 'lock' });
      if (locked.reply?.body?.type === 'error') throw new Error(`lock refused: ${JSON.stringify(locked.reply.body)}`);
      await sleep(100);
      const unlocked = await request(options, { type: 'unlock', passphrase: PASSPHRASE });
      if (unlocked.reply?.body?.type === 'error') throw new Error(`unlock refused: ${JSON.stringify(unlocked.reply.body.code ?? unlocked.reply.body)}`);
      const n = await native.run();
      if (i < WARMUP) continue;
      browser.push(unlocked.ms);
      yardstick.push(n);
    }
    figure({ id: 'kdf.unlock.chromium', label: `unlock in Chromium (Argon2id ${params}, the calibrated header)`, unit: 'ms', ...spread(browser), note: 'options page → worker → reply; an empty vault' });
    figure({ id: 'kdf.unlock.native', label: `native Argon2id at the same parameters (${params})`, unit: 'ms', ...spread(yardstick), note: 'release build, argon2 and blake2 at opt-level 3' });
    figure({ id: 'kdf.unlock.ratio', label: 'unlock in Chromium ÷ native Argon2id, same parameters', unit: '×', goal: 1.3, ...ratio(browser, yardstick), note: 'ratio of medians; min–max of the interleaved pairs' });
  } catch (error) {
    console.error(`kdf.bench.mjs: ${error.stack || error.message}`);
    unmeasured({ id: 'kdf.unlock.ratio', label: 'unlock in Chromium ÷ native Argon2id, same parameters', unit: '×', goal: 1.3 }, error.message.split('\n')[0]);
    process.exitCode = 1;
  } finally {
    native?.close();
    await kw?.close();
    await fixtures.close();
  }
}

main();
