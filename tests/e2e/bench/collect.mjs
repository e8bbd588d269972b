// Runs every benchmark source (the cargo benches of Cargo.toml, then every tests/e2e/bench/*.bench.mjs), gathers their `@figure` lines into one table and writes it as JSON under target/bench/.
//
// Usage: node tests/e2e/bench/collect.mjs [--only NAME[,NAME…]] [--quick] | --markdown REPORT.json
//   --only      runs only the named sources (`recognition`, `payload.bench.mjs`, …)
//   --quick     passes KEYWARDEN_BENCH_QUICK=1 to every source (fewer runs; for the smoke test)
//   --markdown  prints a written report's table as Markdown (for the README) and runs nothing
// Exit status: 0 when every source ran and printed well-formed figures, 1 otherwise. A figure
// that misses its goal does not fail the run: the table says so.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..', '..');
const OUT_DIR = path.join(ROOT, 'target', 'bench');
const FIGURE = /^@figure (.*)$/;

/** Parses the command line. */
function options(argv) {
  const opts = { only: null, quick: false, markdown: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') opts.quick = true;
    else if (argv[i] === '--markdown') opts.markdown = argv[++i];
    else if (argv[i] === '--only') opts.only = new Set((argv[++i] || '').split(',').filter(Boolean));
    else throw new Error(`unknown argument "${argv[i]}" (usage: collect.mjs [--only NAME,…] [--quick])`);
  }
  return opts;
}

/** The bench targets cargo knows for this package (registered in Cargo.toml or found under benches/). */
function cargoBenches() {
  const meta = JSON.parse(
    execFileSync('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 }),
  );
  const root = meta.packages.find((p) => path.dirname(p.manifest_path) === ROOT) ?? meta.packages[0];
  return root.targets
    .filter((t) => t.kind.includes('bench'))
    .map((t) => t.name)
    .sort()
    .map((name) => ({ name, kind: 'cargo', label: `benches/${name}.rs`, command: 'cargo', args: ['bench', '--quiet', '--profile', 'native-bench', '--bench', name], cwd: ROOT }));
}

/** Every browser (or Node) bench under tests/e2e/bench/. */
function nodeBenches() {
  return readdirSync(HERE)
    .filter((f) => f.endsWith('.bench.mjs'))
    .sort()
    .map((file) => ({ name: file, kind: 'node', label: `tests/e2e/bench/${file}`, command: process.execPath, args: [path.join(HERE, file)], cwd: path.dirname(HERE) }));
}

/**
 * A figure line checked against the shared format; returns the figure or throws saying what is wrong.
 * Required: id, label, value (a number, or null for a figure its source could not measure, with a note), unit, goal (number or null).
 */
export function parseFigure(json) {
  let f;
  try {
    f = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON (${error.message})`);
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new Error('not a JSON object');
  if (typeof f.id !== 'string' || !/^[a-z0-9_.-]+$/i.test(f.id)) throw new Error('"id" must be a string of letters, digits, "_", "-" and "."');
  if (typeof f.label !== 'string' || !f.label) throw new Error(`${f.id}: "label" must be a non-empty string`);
  if (typeof f.unit !== 'string') throw new Error(`${f.id}: "unit" must be a string`);
  if (f.value !== null && !Number.isFinite(f.value)) throw new Error(`${f.id}: "value" must be a number or null`);
  if (f.value === null && typeof f.note !== 'string') throw new Error(`${f.id}: a figure without a value needs a "note" saying why`);
  if (!('goal' in f) || (f.goal !== null && !Number.isFinite(f.goal))) throw new Error(`${f.id}: "goal" must be a number or null`);
  for (const k of ['min', 'max', 'runs']) {
    if (k in f && f[k] !== null && !Number.isFinite(f[k])) throw new Error(`${f.id}: "${k}" must be a number`);
  }
  if ('better' in f && !['lower', 'higher'].includes(f.better)) throw new Error(`${f.id}: "better" must be "lower" or "higher"`);
  return f;
}

/** pass, fail or — (no goal); a figure without a value fails. */
export function verdict(f) {
  if (f.value === null || f.value === undefined) return 'fail';
  if (f.goal === null || f.goal === undefined) return '—';
  return (f.better === 'higher' ? f.value >= f.goal : f.value <= f.goal) ? 'pass' : 'fail';
}

/** Runs one source, echoing its other output indented, and returns its figures and how it ended. */
function runSource(source, env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const figures = [];
    const problems = [];
    const child = spawn(source.command, source.args, { cwd: source.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const line = (text) => {
      const m = FIGURE.exec(text);
      if (!m) {
        if (text.trim()) process.stderr.write(`   ${text}\n`);
        return;
      }
      try {
        figures.push(parseFigure(m[1]));
      } catch (error) {
        problems.push(`malformed @figure line: ${error.message}`);
      }
    };
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      lines.forEach(line);
    });
    let lastError = null;
    child.stderr.on('data', (chunk) => {
      for (const text of String(chunk).split('\n')) {
        if (!text.trim()) continue;
        process.stderr.write(`   ${text}\n`);
        if (!/^\s+at /.test(text)) lastError = text.trim();
      }
    });
    const finish = (code, error) => {
      if (pending) line(pending);
      resolve({ figures, problems, code, error, lastError, seconds: (Date.now() - started) / 1e3 });
    };
    child.on('error', (error) => finish(null, error.message));
    child.on('close', (code, signal) => finish(code, signal ? `killed by ${signal}` : null));
  });
}

/** The previous run's table, if any, to compare against and to know which figures to expect. */
function previousRun() {
  try {
    return JSON.parse(readFileSync(path.join(OUT_DIR, 'latest.json'), 'utf8'));
  } catch {
    return null;
  }
}

const num = (x) => {
  if (x === null || x === undefined) return '';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
};
const withUnit = (x, unit) => (x === null || x === undefined ? '' : unit === '×' ? `${num(x)}×` : `${num(x)} ${unit}`);

/** One row's measured cell: value, its range and run count. */
function measured(f) {
  if (f.value === null) return 'not measured';
  let s = withUnit(f.value, f.unit);
  if (Number.isFinite(f.min) && Number.isFinite(f.max)) s += ` (${num(f.min)}–${num(f.max)}`;
  else if (Number.isFinite(f.runs)) s += ' (';
  if (Number.isFinite(f.runs)) s += `${Number.isFinite(f.min) ? ', ' : ''}${f.runs} runs)`;
  else if (Number.isFinite(f.min) && Number.isFinite(f.max)) s += ')';
  return s;
}

function goalText(f) {
  if (f.goal === null || f.goal === undefined) return '—';
  return `${f.better === 'higher' ? '≥' : '≤'} ${withUnit(f.goal, f.unit)}`;
}

/** Draws the table as fixed-width text. */
export function table(rows) {
  const head = ['figure', 'goal', 'measured (min–max, runs)', 'previous', 'result'];
  const cells = rows.map((r) => [r.label, goalText(r), measured(r), r.previous === undefined ? '' : withUnit(r.previous, r.unit), r.status]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => [...c[i]].length)));
  const pad = (s, w) => s + ' '.repeat(Math.max(0, w - [...s].length));
  const fmt = (c) => c.map((s, i) => pad(s, width[i])).join('  ').trimEnd();
  return [fmt(head), width.map((w) => '─'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}

function gitDescribe() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** A written report's table in Markdown. */
function markdown(report) {
  const cell = (s) => s.replace(/\|/g, '\\|');
  const lines = ['| figure | goal | measured (min–max, runs) | result |', '|---|---|---|---|'];
  for (const f of report.figures) lines.push(`| ${cell(f.label)} | ${cell(goalText(f))} | ${cell(measured(f))} | ${f.status} |`);
  return lines.join('\n');
}

async function main() {
  const opts = options(process.argv.slice(2));
  if (opts.markdown) {
    console.log(markdown(JSON.parse(readFileSync(opts.markdown, 'utf8'))));
    return;
  }
  const all = [...cargoBenches(), ...nodeBenches()];
  const sources = opts.only ? all.filter((s) => opts.only.has(s.name)) : all;
  if (opts.only) {
    for (const name of opts.only) if (!all.some((s) => s.name === name)) throw new Error(`no bench source named "${name}" (have: ${all.map((s) => s.name).join(', ')})`);
  }
  const previous = previousRun();
  const prevFigures = new Map((previous?.figures ?? []).map((f) => [f.id, f]));
  const env = { ...process.env, ...(opts.quick ? { KEYWARDEN_BENCH_QUICK: '1' } : {}) };
  const started = new Date();
  const rows = [];
  const ran = [];
  for (const source of sources) {
    process.stderr.write(`\n==> ${source.label}\n`);
    const result = await runSource(source, env);
    const ok = result.code === 0 && !result.error && result.problems.length === 0;
    ran.push({ name: source.name, kind: source.kind, label: source.label, ok, exitCode: result.code, error: result.error, problems: result.problems, seconds: result.seconds });
    const seen = new Set();
    for (const f of result.figures) {
      if (seen.has(f.id)) {
        result.problems.push(`figure "${f.id}" printed twice`);
        continue;
      }
      seen.add(f.id);
      rows.push({ ...f, source: source.name, status: verdict(f), previous: prevFigures.get(f.id)?.value ?? undefined });
    }
    // What the last run measured from this source and this one did not: failed, never dropped.
    for (const old of previous?.figures ?? []) {
      if (old.source !== source.name || seen.has(old.id) || old.missing) continue;
      rows.push({ id: old.id, label: old.label, unit: old.unit, goal: old.goal ?? null, better: old.better, value: null, note: `not printed this run (${source.label} ${ok ? 'left it out' : 'failed'})`, source: source.name, status: 'fail', missing: true, previous: old.value ?? undefined });
    }
    if (!ok) {
      const exit = result.code !== 0 ? `exit status ${result.code}${result.lastError ? `: ${result.lastError.slice(0, 300)}` : ''}` : null;
      const why = [result.error ?? exit, ...result.problems].filter(Boolean).join('; ');
      rows.push({ id: `source.${source.name}`, label: `${source.label} ran to the end`, unit: '', goal: null, value: null, note: why, source: source.name, status: 'fail', missing: true });
    }
  }
  const finished = new Date();
  const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const report = {
    only: opts.only ? [...opts.only] : null,
    started: started.toISOString(),
    finished: finished.toISOString(),
    quick: opts.quick,
    ...gitDescribe(),
    machine: { platform: `${os.type()} ${os.release()}`, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? null, node: process.version, loadavg: os.loadavg() },
    sources: ran,
    figures: rows.map(({ previous: _p, ...f }) => f),
  };
  mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${stamp}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  // Only a full run becomes latest.json, what later runs compare to and expect; a quick run or
  // one of --only sources is kept as latest-partial.json.
  const latest = opts.quick || opts.only ? 'latest-partial.json' : 'latest.json';
  writeFileSync(path.join(OUT_DIR, latest), JSON.stringify(report, null, 2) + '\n');
  const failedSources = ran.filter((s) => !s.ok);
  console.log(`\nkeywarden benchmarks, ${started.toISOString()}${report.commit ? ` at ${report.commit.slice(0, 10)}${report.dirty ? ' (with changes)' : ''}` : ''}${opts.quick ? ' (quick)' : ''}`);
  console.log(table(rows));
  for (const r of rows.filter((r) => r.note)) console.log(`  ${r.id}: ${r.note}`);
  const count = (s) => rows.filter((r) => r.status === s).length;
  console.log(`\n${count('pass')} pass, ${count('fail')} fail, ${count('—')} without a goal; ${ran.length - failedSources.length} of ${ran.length} sources ran cleanly. Written to ${path.relative(ROOT, file)} (and ${latest}).`);
  process.exitCode = failedSources.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`collect.mjs: ${error.message}`);
    process.exitCode = 2;
  });
}
