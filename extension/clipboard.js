// The clipboard device: clears the clipboard at a given time if it still holds the text whose SHA-256 digest it was given (Chrome: in the offscreen document; Firefox: in the background page).
(() => {
  let timer = null;

  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  const digestOf = async (text) => hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

  // The async clipboard API needs a focused document, which an offscreen document never is; the
  // older commands work there with the clipboardRead and clipboardWrite permissions.
  function pasted() {
    const area = document.createElement('textarea');
    document.body.append(area);
    area.focus();
    const ok = document.execCommand('paste');
    const text = area.value;
    area.value = '';
    area.remove();
    if (!ok) throw new Error('the browser did not let keywarden read the clipboard');
    return text;
  }
  async function readText() {
    try {
      return await navigator.clipboard.readText();
    } catch {
      return pasted();
    }
  }
  async function writeEmpty() {
    try {
      await navigator.clipboard.writeText('');
      return;
    } catch {
      // Not focused: the copy command below instead.
    }
    const empty = (event) => {
      event.clipboardData.setData('text/plain', '');
      event.preventDefault();
    };
    document.addEventListener('copy', empty, { capture: true, once: true });
    const ok = document.execCommand('copy');
    document.removeEventListener('copy', empty, { capture: true });
    if (!ok) throw new Error('the browser did not let keywarden clear the clipboard');
  }

  // Clears when the clipboard's digest is `onlyIf` (or always, without one). What was read is
  // only digested, then dropped.
  async function clear({ onlyIf = null } = {}) {
    cancel();
    if (onlyIf !== null && (await digestOf(await readText())) !== onlyIf) return { ok: true, cleared: false };
    await writeEmpty();
    return { ok: true, cleared: true };
  }
  function cancel() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    return { ok: true };
  }
  function arm({ digest, dueAt }) {
    cancel();
    timer = setTimeout(() => {
      timer = null;
      clear({ onlyIf: digest }).catch((e) => console.warn(`keywarden: clearing the clipboard failed: ${e && e.message}`));
    }, Math.max(0, dueAt - Date.now()));
    return { ok: true };
  }

  globalThis.keywardenClipboard = {
    arm: async (args) => arm(args),
    clear,
    cancel: async () => cancel(),
  };
})();
