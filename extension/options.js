// Options entry: loads the Rust core, which renders the settings, and the passphrase strength check, which only this page uses.
import init, { options_main } from './keywarden.js';
import initStrength, { estimate } from './strength.js';

// The strength module is large (zxcvbn's dictionaries): the page draws while it compiles, and
// without it no new passphrase is accepted.
const strength = initStrength({ module_or_path: new URL('./strength_bg.wasm', import.meta.url) }).then(
  () => estimate,
  () => null,
);
init({ module_or_path: new URL('./keywarden_bg.wasm', import.meta.url) }).then(() => options_main(strength));
