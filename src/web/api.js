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
