// Renders the toolbar icons' SVG sources to PNGs at 16, 32, 48 and 128 px with the installed Chromium (no network): node extension/icons/render.mjs
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '..', '..', 'tests', 'e2e', 'package.json'));
const { chromium } = require('playwright-core');
const SIZES = [16, 32, 48, 128];
const MARKS = ['keywarden', 'keywarden-locked'];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const mark of MARKS) {
    const svg = readFileSync(path.join(HERE, `${mark}.svg`), 'utf8');
    for (const size of SIZES) {
      await page.setViewportSize({ width: size, height: size });
      const sized = svg.replace('width="128" height="128"', `width="${size}" height="${size}"`);
      await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block}</style>${sized}`);
      await page.screenshot({ path: path.join(HERE, `${mark}-${size}.png`), omitBackground: true });
    }
  }
} finally {
  await browser.close();
}
