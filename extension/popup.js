// Popup entry: loads the extension pages' own module (the popup and the options page, no worker or vault crypto), which renders the popup and asks the worker.
import init, { popup_main } from './keywarden_pages.js';

init({ module_or_path: new URL('./keywarden_pages_bg.wasm', import.meta.url) }).then(() => popup_main());
