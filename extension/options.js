// Options entry: loads the Rust core, which renders the settings.
import init, { options_main } from './keywarden.js';

init({ module_or_path: new URL('./keywarden_bg.wasm', import.meta.url) }).then(() => options_main());
