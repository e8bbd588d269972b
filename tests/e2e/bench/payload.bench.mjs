// Payload figures of the built extension (no browser): what each extension page loads, gzipped, found by walking its HTML, scripts and styles; every wasm file shipped; and twiggy's view of the main wasm when twiggy is available.
//
// Reads dist/chrome (KEYWARDEN_DIST overrides dist/). Sizes are gzip -9, in KB of 1,000 bytes.
// KEYWARDEN_BENCH_QUICK=1 leaves twiggy out.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT, extensionDir } from '../harness.mjs';
import { figure } from './stats.mjs';

const QUICK = process.env.KEYWARDEN_BENCH_QUICK === '1';
const TOOLS = path.join(REPO_ROOT, '.tools');
const TWIGGY = path.join(TOOLS, 'bin', 'twiggy');
const TWIGGY_VERSION = '0.8.0';

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kb = (n) => Math.round(n / 10) / 100;

// What a file refers to that the browser then loads. HTML: scripts, style sheets, icons and
// images. JS: static and dynamic imports and `new URL('…', import.meta.url)` (how wasm-bindgen's
// glue and our entry scripts find their wasm). CSS: @import and url(). Only relative and
// root-relative references count; data: and remote URLs are not part of the package.
const REFERENCES = {
  '.html': [/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi, /<link\b[^>]*\bhref\s*=\s*["']([^"']+)["']/gi, /<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi],
  '.js': [
    /\bimport\s+(?:[\w*{}\s,$]+\s+from\s+)?["']([^"']+)["']/g,
    /\bexport\s+(?:\*|\{[^}]*\})\s+from\s+["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /\bnew\s+URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
  ],
  '.css': [/@import\s+(?:url\()?\s*["']?([^"')\s;]+)/g, /\burl\(\s*["']?([^"')]+?)["']?\s*\)/g],
};

/** Every file of the package that `entry` loads, itself included (paths relative to `dir`). */
export function walk(dir, entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length) {
    const rel = todo.pop();
    if (seen.has(rel)) continue;
    const file = path.join(dir, rel);
    if (!existsSync(file)) throw new Error(`${entry} loads ${rel}, which is not in ${dir}`);
    seen.add(rel);
    const patterns = REFERENCES[path.extname(rel)];
    if (!patterns) continue;
    let text = readFileSync(file, 'utf8');
    // Comments name files too ("loads keywarden.js"), but load nothing.
    if (rel.endsWith('.html')) text = text.replace(/<!--[\s\S]*?-->/g, '');
    if (rel.endsWith('.js') || rel.endsWith('.css')) text = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const re of patterns) {
      for (const m of text.matchAll(re)) {
        const ref = m[1].split(/[?#]/)[0];
        if (!ref || /^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//')) continue;
        const target = ref.startsWith('/') ? ref.slice(1) : path.posix.normalize(path.posix.join(path.posix.dirname(rel), ref));
        todo.push(target);
      }
    }
  }
  return [...seen].sort();
}

/** Figures for what extension page `html` loads, gzipped; the files go into the note. */
function pageFigure(dir, html, id, label, goal) {
  const files = walk(dir, html);
  let raw = 0;
  let zipped = 0;
  const parts = files.map((f) => {
    const bytes = readFileSync(path.join(dir, f));
    raw += bytes.length;
    zipped += gz(bytes);
    return `${f} ${kb(gz(bytes))}`;
  });
  figure({ id, label, value: kb(zipped), unit: 'KB', goal, note: `${files.length} files, ${kb(raw)} KB before gzip: ${parts.join(', ')}` });
}

/** Installs twiggy into .tools with cargo when it is missing; false when that is not possible. */
function ensureTwiggy() {
  if (existsSync(TWIGGY)) return true;
  console.log(`installing twiggy ${TWIGGY_VERSION} into .tools (once; a few minutes)`);
  try {
    execFileSync('cargo', ['install', 'twiggy', '--version', `=${TWIGGY_VERSION}`, '--root', TOOLS, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
    return existsSync(TWIGGY);
  } catch (error) {
    console.log(`twiggy could not be installed (${error.message.split('\n')[0]}); its table is left out`);
    return false;
  }
}

/** The crate an item of twiggy's list belongs to: the first crate path in its demangled name (an approximation: a trait impl counts for the crate named first). */
function crateOf(name) {
  if (/^data segment|^data\[/.test(name)) return '(data segments)';
  const m = /([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/.exec(name);
  if (m) return m[1];
  return '(unnamed or std intrinsics)';
}

/** Prints twiggy's largest items of the main wasm and the same sizes summed per crate. */
function twiggyReport() {
  // The module as rustc left it, which still has its name section (the shipped one, after
  // wasm-opt, names nothing); sizes are before wasm-bindgen and wasm-opt.
  const wasm = path.join(REPO_ROOT, 'target', 'wasm32-unknown-unknown', 'release', 'keywarden.wasm');
  if (!existsSync(wasm)) return console.log(`twiggy: ${path.relative(REPO_ROOT, wasm)} not built; left out`);
  if (!ensureTwiggy()) return;
  const csv = execFileSync(TWIGGY, ['top', '-f', 'csv', wasm], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const items = [];
  for (const line of csv.split('\n').slice(1)) {
    // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name may hold commas.
    const m = /^(.*),(\d+),([\d.]+),[\d.]*,[\d.]*$/.exec(line.trim());
    if (!m) continue;
    const name = m[1].replace(/^"|"$/g, '').replace(/""/g, '"');
    // Custom sections (function names, wasm-bindgen's own) never ship: wasm-bindgen and wasm-opt drop them.
    if (/subsection$|^custom section /.test(name)) continue;
    items.push({ name, size: Number(m[2]) });
  }
  const total = items.reduce((sum, i) => sum + i.size, 0);
  const row = (size, name) => `  ${String(size).padStart(9)} B  ${((100 * size) / total).toFixed(1).padStart(5)} %  ${name}`;
  const rel = path.relative(REPO_ROOT, wasm);
  console.log(`twiggy top ${rel}: the 15 largest items of code and data (${total} B in all, before wasm-bindgen and wasm-opt):`);
  for (const i of items.slice(0, 15)) console.log(row(i.size, i.name.length > 110 ? `${i.name.slice(0, 107)}...` : i.name));
  const perCrate = new Map();
  for (const i of items) perCrate.set(crateOf(i.name), (perCrate.get(crateOf(i.name)) ?? 0) + i.size);
  console.log(`the same items summed per crate (the largest 15):`);
  for (const [crate, size] of [...perCrate].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(row(size, crate));
}

function main() {
  const dir = extensionDir('chromium');
  pageFigure(dir, 'panel.html', 'payload.panel', 'bytes the step panel frame loads in every vendor tab (gzip)', 60);
  pageFigure(dir, 'popup.html', 'payload.popup', 'bytes the popup loads (gzip)', null);
  pageFigure(dir, 'options.html', 'payload.options', 'bytes the options page loads (gzip)', null);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const contentScripts = [...new Set((manifest.content_scripts ?? []).flatMap((c) => c.js ?? []))];
  const contentBytes = contentScripts.reduce((sum, f) => sum + gz(readFileSync(path.join(dir, f))), 0);
  figure({ id: 'payload.content_script', label: 'content script injected into vendor pages (gzip)', value: kb(contentBytes), unit: 'KB', goal: null, note: contentScripts.join(', ') });
  const wasm = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.wasm')).sort();
  let total = 0;
  for (const f of wasm) {
    const bytes = readFileSync(path.join(dir, f));
    const zipped = gz(bytes);
    total += zipped;
    figure({ id: `payload.wasm.${path.basename(f, '.wasm')}`, label: `${f} (gzip)`, value: kb(zipped), unit: 'KB', goal: null, note: `${kb(bytes.length)} KB before gzip` });
  }
  figure({ id: 'payload.wasm.all', label: 'all wasm shipped (gzip)', value: kb(total), unit: 'KB', goal: 350, note: wasm.join(', ') });
  if (!QUICK) twiggyReport();
}

main();
