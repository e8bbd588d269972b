// Step panel entry: loads the Rust core, which renders the panel and talks to the worker.
import init, { panel_main } from './keywarden.js';

init({ module_or_path: new URL('./keywarden_bg.wasm', import.meta.url) }).then(() => panel_main());
