// Step panel entry: loads the panel's own small module (the panel alone, no vault or crypto), which renders the panel and talks to the worker.
import init, { panel_main } from './keywarden_panel.js';

init({ module_or_path: new URL('./keywarden_panel_bg.wasm', import.meta.url) }).then(() => panel_main());
