// The few extension APIs the Rust glue calls, over either browser's namespace, always as promises that reject with { kind, message }.
const ext = globalThis.browser ?? globalThis.chrome;

// Every rejection becomes { kind: 'quota' | 'failed', message }: 'quota' when the browser says by
// the error's type that the area is full, or when the area's own quota would be passed.
function failure(e, quota = false) {
  const full = quota || (e && (e.name === 'QuotaExceededError' || e.code === 22));
  return { kind: full ? 'quota' : 'failed', message: String((e && e.message) || e || 'failed') };
}
// `start` makes the browser call: one that throws at once (a closed extension context, a refused
// argument) rejects like one that fails later, so the wasm side always gets a typed rejection.
const typed = (start) => {
  try {
    return Promise.resolve(start()).catch((e) => { throw failure(e); });
  } catch (e) {
    return Promise.reject(failure(e));
  }
};

export function extensionId() { return ext.runtime.id; }
export function extensionOrigin() { return new URL(ext.runtime.getURL('/')).origin; }
export function sendToTab(tab, frame, message) {
  return Promise.resolve(ext.tabs.sendMessage(tab, message, { frameId: frame })).catch(() => undefined);
}
export function sendMessage(message) { return typed(() => ext.runtime.sendMessage(message)); }
export function connect(name) { return ext.runtime.connect({ name }); }

// Reads come back as one JSON text: a single copy into wasm, where converting the objects field by
// field costs far more (a vault of 10,000 keys is about 11 MB of items).
const asJson = (items) => JSON.stringify(items ?? {});
export function sessionGetJson(keys) { return typed(() => ext.storage.session.get(keys).then(asJson)); }
export function sessionWrite(items, removals) {
  const writes = Object.keys(items).length ? ext.storage.session.set(items) : Promise.resolve();
  return typed(() => writes.then(() => (removals.length ? ext.storage.session.remove(removals) : undefined)));
}
export function sessionRemove(key) { return typed(() => ext.storage.session.remove(key)); }
// The session key travels as an array of byte values, never as a string; the caller's copy is
// wiped once stored, and the copy read back is wiped by the caller once copied into Rust.
export function sessionKeyGet() {
  return typed(() => ext.storage.session.get('vault:session').then((items) => {
    const v = items['vault:session'];
    return Array.isArray(v) ? Uint8Array.from(v) : undefined;
  }));
}
export function sessionKeySet(bytes) {
  const values = Array.from(bytes);
  return typed(() => ext.storage.session.set({ 'vault:session': values }).finally(() => values.fill(0)));
}

export function localGetJson(keys) { return typed(() => ext.storage.local.get(keys).then(asJson)); }
export function localWrite(items, removals, bytes) {
  const area = ext.storage.local;
  // Chromium names a full area only in its message text: compare with the area's quota instead.
  const unlimited = (ext.runtime.getManifest().permissions ?? []).includes('unlimitedStorage');
  const check = (!unlimited && typeof area.getBytesInUse === 'function' && typeof area.QUOTA_BYTES === 'number')
    ? area.getBytesInUse(null).then((used) => { if (used + bytes > area.QUOTA_BYTES) throw failure(null, true); })
    : Promise.resolve();
  return check
    .then(() => (Object.keys(items).length ? area.set(items) : undefined))
    .then(() => (removals.length ? area.remove(removals) : undefined))
    .catch((e) => { throw (e && e.kind) ? e : failure(e); });
}

// The private area: the extension origin's IndexedDB, which no content script can reach. One
// connection is opened and kept while the browser keeps it (opening one costs more than a read).
let privateConnection = null;
function privateDb() {
  if (privateConnection) return privateConnection;
  const opened = new Promise((resolve, reject) => {
    const open = indexedDB.open('keywarden', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('private');
    open.onsuccess = () => {
      const db = open.result;
      const forget = () => { if (privateConnection === opened) privateConnection = null; };
      db.onclose = forget;
      db.onversionchange = () => { forget(); db.close(); };
      resolve(db);
    };
    open.onerror = () => reject(open.error);
  });
  privateConnection = opened;
  opened.catch(() => { if (privateConnection === opened) privateConnection = null; });
  return opened;
}
// A transaction on the kept connection; one that was closed under us is opened again, once.
function privateTransaction(mode) {
  return privateDb().then((db) => {
    try {
      return db.transaction('private', mode);
    } catch {
      privateConnection = null;
      return privateDb().then((again) => again.transaction('private', mode));
    }
  });
}
export function privateGetAll() {
  return typed(() => privateTransaction('readonly').then((tx) => new Promise((resolve, reject) => {
    const items = {};
    const cursor = tx.objectStore('private').openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (c) { items[c.key] = c.value; c.continue(); } else { resolve(items); }
    };
    cursor.onerror = () => reject(cursor.error);
  })));
}
export function privateWrite(items, removals) {
  return typed(() => privateTransaction('readwrite').then((tx) => new Promise((resolve, reject) => {
    const store = tx.objectStore('private');
    for (const [k, v] of Object.entries(items)) store.put(v, k);
    for (const k of removals) store.delete(k);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  })));
}

export function activeTabId() {
  return ext.tabs.query({ active: true, currentWindow: true }).then((tabs) => tabs[0]?.id);
}
export function registeredScriptIds() {
  return typed(() => ext.scripting.getRegisteredContentScripts().then((scripts) => scripts.map((s) => s.id)));
}
export function grantedOrigins() { return typed(() => ext.permissions.getAll().then((p) => p.origins ?? [])); }
export function registerServerScripts(ids, patterns) {
  const scripts = ids.map((id, i) => ({ id, matches: [patterns[i]], js: ['content.js'], runAt: 'document_start', allFrames: false, persistAcrossSessions: true }));
  return typed(() => scripts.length ? ext.scripting.registerContentScripts(scripts) : undefined);
}
export function unregisterScripts(ids) { return typed(() => ids.length ? ext.scripting.unregisterContentScripts({ ids }) : undefined); }
export function hasOrigin(pattern) { return typed(() => ext.permissions.contains({ origins: [pattern] })); }
export function requestOrigin(pattern) { return typed(() => ext.permissions.request({ origins: [pattern] })); }
export function removeOrigin(pattern) { return typed(() => ext.permissions.remove({ origins: [pattern] })); }
export function openOptionsPage() { return typed(() => ext.runtime.openOptionsPage()); }
export function startAlarm(name, minutes) { return typed(() => ext.alarms.create(name, { delayInMinutes: minutes })); }
export function clearAlarm(name) { return typed(() => ext.alarms.clear(name)); }
export function copyText(text) { return typed(() => navigator.clipboard.writeText(text)); }

// The toolbar: one icon for every tab (locked or not), and a badge with its tooltip per tab.
const ICON_SIZES = [16, 32, 48, 128];
export function setIcon(locked) {
  const name = locked ? 'keywarden-locked' : 'keywarden';
  const path = Object.fromEntries(ICON_SIZES.map((s) => [s, `icons/${name}-${s}.png`]));
  return typed(() => ext.action.setIcon({ path }));
}
export function setBadge(tabId, text, color, title) {
  const a = ext.action;
  const steps = [a.setBadgeText({ tabId, text }), a.setTitle({ tabId, title })];
  if (text) {
    steps.push(a.setBadgeBackgroundColor({ tabId, color }));
    if (typeof a.setBadgeTextColor === 'function') steps.push(a.setBadgeTextColor({ tabId, color: '#ffffff' }));
  }
  return typed(() => Promise.all(steps));
}
export function message(name, substitutions) { return ext?.i18n?.getMessage(name, substitutions) || ''; }
// The clipboard device that clears a copied key later. The service worker has no document, so
// in Chrome it is an offscreen document (reason CLIPBOARD); Firefox's background page has one and
// loads the device (clipboard.js) itself. Only SHA-256 digests are handed over, never the text.
const OFFSCREEN = 'offscreen.html';
async function offscreenDocument() {
  const open = await ext.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [ext.runtime.getURL(OFFSCREEN)] });
  if (open.length) return;
  await ext.offscreen.createDocument({
    url: OFFSCREEN,
    reasons: ['CLIPBOARD'],
    justification: 'Clears a key keywarden copied from the clipboard after the delay the admin chose.',
  }).catch(async (e) => {
    // Created meanwhile by an earlier call: fine.
    if (!(await ext.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).length) throw e;
  });
}
function clipboardDevice(op, args) {
  if (ext.offscreen) {
    return typed(() => offscreenDocument()
      .then(() => ext.runtime.sendMessage({ keywardenClipboard: { op, ...args } }))
      .then((answer) => {
        if (!answer || !answer.ok) throw new Error((answer && answer.message) || 'the offscreen document did not answer');
        // After a clear nothing is pending: the document can go until the next copy.
        return op === 'clear' ? ext.offscreen.closeDocument().catch(() => undefined) : undefined;
      }));
  }
  const device = globalThis.keywardenClipboard;
  if (!device) return Promise.reject(failure(new Error('no clipboard device in this context')));
  return typed(() => device[op](args));
}
export function clipboardArm(digest, dueAt) { return clipboardDevice('arm', { digest, dueAt }); }
export function clipboardClear(onlyIf) { return clipboardDevice('clear', { onlyIf: onlyIf ?? null }); }
export function clipboardCancel() { return clipboardDevice('cancel', {}); }
// The event of changes to extension storage (the popup watches for the vault locking elsewhere).
export function storageChanged() { return ext.storage.onChanged; }
// The text of the file picked in a file input ('' when none): a backup to import.
export function fileText(input) {
  const file = input.files && input.files[0];
  return typed(() => file ? file.text() : Promise.resolve(''));
}
