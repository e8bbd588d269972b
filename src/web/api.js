// The few extension APIs the Rust glue calls, over either browser's namespace, always as promises.
const ext = globalThis.browser ?? globalThis.chrome;

export function extensionId() { return ext.runtime.id; }
export function extensionOrigin() { return new URL(ext.runtime.getURL('/')).origin; }
export function sendToTab(tab, frame, message) {
  return Promise.resolve(ext.tabs.sendMessage(tab, message, { frameId: frame })).catch(() => undefined);
}
export function sendMessage(message) { return ext.runtime.sendMessage(message); }
export function connect(name) { return ext.runtime.connect({ name }); }
export function sessionGet(key) { return ext.storage.session.get(key).then((items) => items[key]); }
export function sessionSet(key, value) { return ext.storage.session.set({ [key]: value }); }
export function sessionRemove(key) { return ext.storage.session.remove(key); }
export function localGet(key) { return ext.storage.local.get(key).then((items) => items[key]); }
export function localSet(key, value) { return ext.storage.local.set({ [key]: value }); }
export function activeTabId() {
  return ext.tabs.query({ active: true, currentWindow: true }).then((tabs) => tabs[0]?.id);
}
export function registeredScriptIds() {
  return ext.scripting.getRegisteredContentScripts().then((scripts) => scripts.map((s) => s.id));
}
export function registerServerScripts(ids, patterns) {
  const scripts = ids.map((id, i) => ({ id, matches: [patterns[i]], js: ['content.js'], runAt: 'document_idle', allFrames: false, persistAcrossSessions: true }));
  return scripts.length ? ext.scripting.registerContentScripts(scripts) : Promise.resolve();
}
export function unregisterScripts(ids) { return ids.length ? ext.scripting.unregisterContentScripts({ ids }) : Promise.resolve(); }
export function hasOrigin(pattern) { return ext.permissions.contains({ origins: [pattern] }); }
export function requestOrigin(pattern) { return ext.permissions.request({ origins: [pattern] }); }
export function removeOrigin(pattern) { return ext.permissions.remove({ origins: [pattern] }); }
export function openOptionsPage() { return ext.runtime.openOptionsPage(); }
export function localGetAll() { return ext.storage.local.get(null); }
export function localWrite(items, removals) {
  const writes = Object.keys(items).length ? ext.storage.local.set(items) : Promise.resolve();
  return writes.then(() => (removals.length ? ext.storage.local.remove(removals) : undefined));
}
export function startAlarm(name, minutes) { return ext.alarms.create(name, { delayInMinutes: minutes }); }
export function clearAlarm(name) { return ext.alarms.clear(name); }
export function copyText(text) { return navigator.clipboard.writeText(text); }
