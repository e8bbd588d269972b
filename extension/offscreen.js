// Chrome's offscreen document: runs the clipboard device for the service worker, which has no document of its own, and answers only the worker.
const worker = chrome.runtime.getURL('worker.js');

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const job = message && message.keywardenClipboard;
  // Pages and content scripts message every extension document too: only the worker counts.
  if (!job || sender.id !== chrome.runtime.id || sender.tab || sender.url !== worker) return false;
  const device = globalThis.keywardenClipboard;
  const run = { arm: device.arm, clear: device.clear, cancel: device.cancel }[job.op];
  if (!run) return false;
  run(job).then(sendResponse, (e) => sendResponse({ ok: false, message: String((e && e.message) || e) }));
  return true;
});
