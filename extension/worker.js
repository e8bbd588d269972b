// Background entry: starts the Rust core and registers every browser listener synchronously, as MV3 requires.
import init, { on_message, on_connect, on_tab_removed, on_started, on_alarm, on_idle_state, on_permissions_removed, on_command, on_storage_changed } from './keywarden.js';

const ext = globalThis.browser ?? globalThis.chrome;
const ready = init({ module_or_path: new URL('./keywarden_bg.wasm', import.meta.url) });
const failed = { v: 2, body: { type: 'error', code: 'internal', message: { name: 'errNoAnswerWorker' } } };

ext.runtime.onMessage.addListener((message, sender, sendResponse) => {
  ready.then(() => on_message(message, sender)).then(sendResponse, () => sendResponse(failed));
  return true;
});
ext.runtime.onConnect.addListener((port) => { ready.then(() => on_connect(port)); });
ext.tabs.onRemoved.addListener((tabId) => { ready.then(() => on_tab_removed(tabId)); });
ext.runtime.onStartup.addListener(() => { ready.then(() => on_started(false)); });
ext.runtime.onInstalled.addListener(({ reason }) => { ready.then(() => on_started(reason === 'install')); });
ext.alarms.onAlarm.addListener(({ name }) => { ready.then(() => on_alarm(name)); });
ext.permissions.onRemoved.addListener(({ origins }) => { ready.then(() => on_permissions_removed(origins ?? [])); });
ext.idle.onStateChanged.addListener((state) => { ready.then(() => on_idle_state(state)); });
ext.commands.onCommand.addListener((name) => { ready.then(() => on_command(name)); });
// Changes to storage from any context (the worker's own writes too): the worker's copy of the
// vault's items reads the keys named here again before the next vault request.
ext.storage.onChanged.addListener((changes, area) => { ready.then(() => on_storage_changed(changes, area)); });
