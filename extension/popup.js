// Popup entry: loads the Rust core, which renders the popup.
import init, { popup_main } from './keywarden.js';

init({ module_or_path: new URL('./keywarden_bg.wasm', import.meta.url) }).then(() => popup_main());
