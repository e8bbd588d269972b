// Options entry: loads the extension pages' own module (no worker or vault crypto), which renders the settings and asks the worker, and the passphrase strength check, which only this page uses.
import init, { options_main } from './keywarden_pages.js';
import initStrength, { estimate } from './strength.js';

// The strength module is large (zxcvbn's dictionaries): the page draws while it compiles, and
// without it no new passphrase is accepted.
const strength = initStrength({ module_or_path: new URL('./strength_bg.wasm', import.meta.url) }).then(
  () => estimate,
  () => null,
);
init({ module_or_path: new URL('./keywarden_pages_bg.wasm', import.meta.url) }).then(() => options_main(strength));
