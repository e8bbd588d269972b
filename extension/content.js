// Content script: reports a compact model of the vendor page to the worker, and draws the highlight, step panel and save control it is told to.
// It knows no vendor: every decision is the worker's. Key-like strings leave this script only as an outline, or as a capture the admin clicked for.
(() => {
  'use strict';
  const ext = globalThis.browser ?? globalThis.chrome;
  // The message `name` of _locales, with $1… filled from `subs`; the bare name if it is missing.
  const say = (name, ...subs) => ext.i18n.getMessage(name, subs) || name;
  // What the worker said: a message name with its substitutions (nested words worded first).
  const word = (w) => (typeof w?.name === 'string' ? say(w.name, ...(w.args || []).map((a) => (typeof a === 'string' ? a : word(a)))) : '');
  if (globalThis.keywardenContentLoaded) return;
  globalThis.keywardenContentLoaded = true;

  const VERSION = 2;
  const MAX_ELEMENTS = 1500;
  const MAX_TEXT = 200;
  const DEBOUNCE_MS = 150;
  const MAX_WAIT_MS = 1000;
  const OWN = new Set(['KEYWARDEN-HIGHLIGHT', 'KEYWARDEN-CAPTURE', 'KEYWARDEN-PANEL', 'KEYWARDEN-PILL']);
  // The vendor's own controls, which the step panel must leave uncovered near the step's target.
  const CONTROLS = 'a[href],button,input:not([type=hidden]),select,textarea,summary,[role=button],[role=link],[role=menuitem],[role=tab],[role=checkbox],[role=switch],[role=combobox],[contenteditable=true]';
  // Containers whose every control belongs with the target (its form, its dialog, its table row).
  const CONTAINERS = 'form,dialog,[role=dialog],[role=alertdialog],fieldset,tr,[role=row],li';
  // Blocks of the vendor's content near the target (the token table, a form) that the panel
  // should not sit on while free space is left elsewhere.
  const BLOCKS = 'table,[role=table],[role=grid],form,fieldset,dialog,[role=dialog],ul,ol';
  const NEAR = 160;
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'svg', 'HEAD', 'IFRAME', 'OBJECT', ...OWN]);
  const SEMANTIC = 'h1,h2,h3,h4,h5,h6,button,a[href],a[tabindex]:not([tabindex="-1"]),input,textarea,select,dialog,label,fieldset,tr,td,th,[role]';
  const DIALOG = 'dialog,[role=dialog],[role=alertdialog]';
  const GROUP = 'fieldset,[role=group],[role=radiogroup]';
  // Strings that might be keys: one long word of key-ish characters mixing at least two character classes.
  const KEYISH = /^[A-Za-z0-9+/=_.~-]{16,}$/;

  const ROLE_ATTR = {
    button: 'button', link: 'link', heading: 'heading', textbox: 'textbox', searchbox: 'textbox',
    checkbox: 'checkbox', switch: 'checkbox', menuitemcheckbox: 'checkbox', radio: 'radio', menuitemradio: 'radio',
    combobox: 'combobox', listbox: 'listbox', option: 'option', dialog: 'dialog', alertdialog: 'dialog',
    menuitem: 'menuitem', tab: 'tab', group: 'group', radiogroup: 'group', row: 'row', cell: 'cell',
    gridcell: 'cell', columnheader: 'cell', rowheader: 'cell', alert: 'alert', status: 'alert',
  };
  const TEXT_ROLES = new Set(['button', 'link', 'heading', 'label', 'option', 'menuitem', 'tab', 'cell', 'alert']);

  // Icon fonts and sprites name their icons in markup (`fa-copy`, `bi-clipboard`, `data-icon="copy"`,
  // `<use href="#icon-copy">`): read only for an icon-only control, as its icon's name.
  const ICON_ROLES = new Set(['button', 'link', 'menuitem', 'tab', 'option']);
  const ICON_PREFIXES = new Set(['fa', 'fas', 'far', 'fal', 'fab', 'fad', 'bi', 'mdi', 'icon', 'glyphicon', 'ti', 'la', 'ion', 'ri', 'pi', 'octicon', 'codicon']);
  const ICON_MODIFIER = /^(?:solid|regular|light|thin|duotone|brands|xs|sm|lg|xl|[0-9]+x|fw|spin|pulse|border|inverse|flip|rotate|stack)(?:-|$)/;
  const ICON_LOOK = 8;
  const FOCUSABLE_ANCHOR = 'a[tabindex]:not([tabindex="-1"])';

  const collapse = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const clip = (s) => { const c = collapse(s); return c.length > MAX_TEXT ? c.slice(0, MAX_TEXT) : c; };

  function keyish(word) {
    if (!KEYISH.test(word)) return false;
    const classes = /[a-z]/.test(word) + /[A-Z]/.test(word) + /[0-9]/.test(word);
    return classes >= 2;
  }

  function shapeOf(word) {
    const symbols = [...new Set(word.replace(/[A-Za-z0-9]/g, ''))].sort().join('');
    return {
      len: word.length,
      lower: /[a-z]/.test(word),
      upper: /[A-Z]/.test(word),
      digit: /[0-9]/.test(word),
      symbols,
      hex: /^[0-9a-fA-F]*$/.test(word.replace(/[^A-Za-z0-9]/g, '')),
      guid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(word),
    };
  }

  // The longest key-like word in a string, or null.
  function findKey(s) {
    let best = null;
    for (const word of collapse(s).split(' ')) {
      if (keyish(word) && (!best || word.length > best.length)) best = word;
    }
    return best;
  }

  // Replaces key-like words by a dot so they never travel in a report; returns the text and the key's outline.
  function mask(s) {
    const key = findKey(s);
    if (!key) return { text: clip(s), secret: null };
    const text = collapse(s).split(' ').map((w) => (keyish(w) ? '•' : w)).join(' ');
    return { text: clip(text), secret: shapeOf(key) };
  }

  function roleOf(el) {
    const attr = (el.getAttribute('role') || '').trim().split(/\s+/)[0].toLowerCase();
    if (ROLE_ATTR[attr]) return ROLE_ATTR[attr];
    const tag = el.tagName;
    switch (tag) {
      case 'BUTTON': return 'button';
      // Toolkits draw buttons as focusable anchors without an address (ExtJS's `a.x-btn`).
      case 'A': return el.hasAttribute('href') ? 'link' : (el.matches(FOCUSABLE_ANCHOR) ? 'button' : null);
      case 'H1': case 'H2': case 'H3': case 'H4': case 'H5': case 'H6': return 'heading';
      case 'TEXTAREA': return 'textbox';
      case 'SELECT': return 'combobox';
      case 'DIALOG': return 'dialog';
      case 'LABEL': return 'label';
      case 'FIELDSET': return 'group';
      case 'TR': return 'row';
      case 'TD': case 'TH': return 'cell';
      case 'INPUT': {
        const type = (el.type || 'text').toLowerCase();
        if (type === 'hidden') return undefined;
        if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
        if (type === 'checkbox') return 'checkbox';
        if (type === 'radio') return 'radio';
        return 'textbox';
      }
      default: return null;
    }
  }

  function textOfIds(ids) {
    return ids.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ');
  }

  function labelOf(el, role) {
    const aria = el.getAttribute('aria-label');
    if (aria) return aria;
    const by = el.getAttribute('aria-labelledby');
    if (by) { const t = textOfIds(by); if (collapse(t)) return t; }
    if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(' ');
    if (role === 'group' && el.tagName === 'FIELDSET') {
      const legend = el.querySelector(':scope > legend');
      if (legend) return legend.textContent;
    }
    if (role === 'dialog') {
      const heading = el.querySelector('h1,h2,h3,h4,[role=heading]');
      if (heading) return heading.textContent;
    }
    // `data-qtip`: the tooltip ExtJS (Gotransverse) gives its icon-only buttons in place of a title.
    return el.getAttribute('placeholder') || el.getAttribute('title') || el.getAttribute('data-qtip') || '';
  }

  // The icon a class token names (`fa-copy` → `copy`), or ''.
  function iconClass(token) {
    const cut = token.indexOf('-');
    if (cut < 1) return '';
    const [prefix, rest] = [token.slice(0, cut).toLowerCase(), token.slice(cut + 1).toLowerCase()];
    if (!ICON_PREFIXES.has(prefix) || !/^[a-z0-9-]+$/.test(rest) || ICON_MODIFIER.test(rest)) return '';
    return rest;
  }

  // An icon font's ligature element (`<mat-icon>content_copy</mat-icon>`): its text is an icon's name.
  const ligature = (el) => el.localName === 'mat-icon' || /(?:^|\s)material-(?:icons|symbols)/.test(el.getAttribute('class') || '');

  // What a person reads in an element: its text without hidden icons and icon-font ligatures.
  function textOf(el) {
    let s = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.nodeType === Node.ELEMENT_NODE && (n.getAttribute('aria-hidden') === 'true' || ligature(n))
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.nodeType === Node.TEXT_NODE) s += n.data;
    return s;
  }

  // The name of the icon a control shows: from itself or its first few descendants.
  function iconOf(el) {
    const all = el.getElementsByTagName('*');
    for (let n = -1; n < Math.min(all.length, ICON_LOOK); n += 1) {
      const c = n < 0 ? el : all[n];
      if (ligature(c)) return collapse(c.textContent);
      const use = c.localName === 'use' ? (c.getAttribute('href') || c.getAttribute('xlink:href') || '') : '';
      const named = c.getAttribute('data-icon') || c.getAttribute('svgicon') || (use.includes('#') ? use.slice(use.indexOf('#') + 1) : '');
      if (named) return named.replace(/^(?:icon|ic|i)[-_]/i, '');
      for (const token of (c.getAttribute('class') || '').split(/\s+/)) {
        const name = iconClass(token);
        if (name) return name;
      }
    }
    return '';
  }

  function ownText(el) {
    let s = '';
    for (const n of el.childNodes) if (n.nodeType === Node.TEXT_NODE) s += n.data + ' ';
    return s;
  }

  // Rendered, not hidden by CSS, and taking up room. Opacity is not judged: fade-ins end without a DOM change.
  function visible(el) {
    if (typeof el.checkVisibility === 'function'
      && !el.checkVisibility({ checkVisibilityCSS: true, visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }

  // Styled checkboxes often hide the native input and show its label instead.
  function shown(el, role) {
    if (visible(el)) return true;
    if ((role === 'checkbox' || role === 'radio') && el.labels) return [...el.labels].some(visible);
    return false;
  }

  // Repeated items (table rows, list items): a run of more than ROW_RUN of them under one parent
  // is reported as its first ROW_KEEP items, every other item holding something that matters (a
  // key-like string, a dialog, a filled field, an alert), and the run's length (`run`) on its first
  // reported element, so a table of 2,000 tokens is a few rows and a count wherever it sits.
  const ITEM = 'tr,[role=row],li,[role=listitem],[role=treeitem]';
  const ROW_RUN = 30;
  const ROW_KEEP = 5;
  // When more than MAX_ELEMENTS remain, these roles are reported first (what recipes match on),
  // then rows, cells and text while room is left; the report stays in document order.
  const FIRST_ROLES = new Set(['dialog', 'heading', 'button', 'link', 'textbox', 'checkbox', 'radio', 'combobox', 'listbox', 'option', 'menuitem', 'tab', 'label', 'group', 'alert']);
  // Around a key-like string, the elements that may announce it; beside a field, its label: kept with them.
  const KEEP_BEFORE = 6;
  const KEEP_AFTER = 2;
  const FIELD_ROLES = new Set(['textbox', 'combobox', 'checkbox', 'radio', 'listbox', 'group']);
  // The whole page is described again at least this often while it keeps changing, for what no
  // mutation announces (a style sheet edited through the CSSOM, a layout that hides an element).
  const FULL_MS = 10000;
  // More changed subtrees than this in one batch: the whole page is described instead.
  const MAX_DIRTY = 200;
  const TEXT_OWNER = 'button,a[href],a[tabindex]:not([tabindex="-1"]),label,h1,h2,h3,h4,h5,h6,[role=button],[role=link],[role=heading],[role=option],[role=menuitem],[role=tab]';

  let elements = [];
  let seq = 0;
  let lastHref = location.href;

  const rejects = (n) => SKIP.has(n.nodeName) || n.getAttribute('aria-hidden') === 'true';

  // The repeated items `el` sits in, nearest first.
  function itemsOf(el) {
    const out = [];
    for (let a = el.closest(ITEM); a; a = a.parentElement?.closest(ITEM)) out.push(a);
    return out;
  }

  // One element as the report would carry it, or null when it is not reported: its record without
  // the references to other records, and what those are computed from. A `live` entry is read
  // again at every report, as it shows a property no mutation announces (a field's value, a box
  // ticked) or text from elsewhere (its `<label>`, aria-labelledby).
  function entryOf(el) {
    const semantic = el.matches(SEMANTIC);
    let role = semantic ? roleOf(el) : null;
    if (role === undefined) return null;
    let raw = '';
    if (role && TEXT_ROLES.has(role)) raw = el.tagName === 'INPUT' ? el.value : textOf(el);
    else if (!role) {
      raw = ownText(el);
      if (!collapse(raw)) return null;
      if (el.parentElement?.closest(TEXT_OWNER)) return null;
      role = 'text';
    }
    if (!shown(el, role)) return null;
    const rec = { role };
    const { text, secret } = mask(raw);
    if (text) rec.text = text;
    let secretShape = secret;
    if (role === 'textbox' || role === 'combobox') {
      const value = 'value' in el ? String(el.value || '') : collapse(el.textContent);
      rec.filled = value.trim() !== '';
      // A field may show the new key; only its outline is reported, and never for password fields.
      if (el.type !== 'password' && findKey(value)) secretShape = shapeOf(findKey(value));
    }
    const label = clip(labelOf(el, role));
    if (label && !findKey(label)) rec.label = label;
    if (ICON_ROLES.has(role) && !rec.label && !(rec.text || '').includes(' ')) {
      const icon = clip(iconOf(el));
      if (icon) rec.icon = icon;
    }
    if (role === 'heading') rec.level = Number(el.tagName.slice(1)) || Number(el.getAttribute('aria-level')) || undefined;
    if (role === 'checkbox' || role === 'radio') {
      rec.checked = 'checked' in el && el.tagName === 'INPUT' ? el.checked : el.getAttribute('aria-checked') === 'true';
    }
    if (el.disabled || el.getAttribute('aria-disabled') === 'true') rec.disabled = true;
    if (['true', 'menu'].includes(el.getAttribute('aria-haspopup'))) rec.menu = true;
    if (secretShape) rec.secret = secretShape;
    const live = FIELD_ROLES.has(role) || el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT'
      || el.hasAttribute('aria-labelledby') || Boolean(el.labels?.length);
    return {
      el, rec, live: live ? liveState(el, role) : null, items: itemsOf(el),
      dialog: el.parentElement?.closest(DIALOG) || null,
      group: el.parentElement?.closest(GROUP) || null,
    };
  }

  // What a live entry shows that no mutation announces, as its record would carry it (never the
  // value itself): read at every report, the entry is described again when it differs.
  function liveState(el, role) {
    const value = 'value' in el ? String(el.value || '') : '';
    const key = el.type !== 'password' && findKey(value);
    return JSON.stringify([role, value.trim() !== '', key ? shapeOf(key) : null, Boolean(el.checked),
      clip(labelOf(el, role)), el.tagName === 'INPUT' && TEXT_ROLES.has(role) ? mask(value).text : '']);
  }

  // What may make an item matter (a field, a dialog, an alert), and a run of key-like characters
  // as long as the shortest key: an item without either cannot hold anything that keeps it.
  const MATTERS = 'input,textarea,select,[contenteditable],[role=textbox],[role=searchbox],[role=combobox],dialog,[role=dialog],[role=alertdialog],[role=alert],[role=status]';
  const KEY_RUN = /[A-Za-z0-9+/=_.~-]{16,}/;

  // An item the report leaves out whatever it holds (past the first ROW_KEEP of a long run, and
  // holding nothing that matters): its subtree is not described at all.
  const KEY_CHARS = /[A-Za-z0-9+/=_.~-]/g;
  function leftOut(item) {
    const unit = unitOf(item);
    const parent = unit.parentElement;
    if (!parent) return false;
    const { count, at } = runsIn(parent);
    if ((count.get(unit.tagName) || 0) <= ROW_RUN || at.get(unit) < ROW_KEEP) return false;
    if (holding ? holding.has(item) : item.matches(MATTERS) || item.querySelector(MATTERS)) return false;
    // A key-like word lies within one of the item's children (a cell), read with and without what
    // is hidden from a person; cells side by side are not one word. Leaving hidden text out only
    // removes characters, so a cell with fewer key-like characters than a key holds none either way.
    for (const c of item.childNodes) {
      const text = c.nodeType === Node.TEXT_NODE ? c.data : c.nodeType === Node.ELEMENT_NODE ? c.textContent : '';
      if (KEY_RUN.test(text)) return false;
      if (c.nodeType === Node.ELEMENT_NODE && (text.match(KEY_CHARS)?.length ?? 0) >= 16 && KEY_RUN.test(textOf(c))) return false;
    }
    return true;
  }

  // While the whole page is described: the items holding something that matters, found with one
  // query over the page instead of one per item.
  let holding = null;
  function holders() {
    const found = new Set();
    for (const el of document.querySelectorAll(MATTERS)) {
      for (let a = el.closest(ITEM); a && !found.has(a); a = a.parentElement?.closest(ITEM)) found.add(a);
    }
    return found;
  }

  // Describes `root`'s subtree (`root` itself too when `self`) into `out` in document order;
  // `seen` gets every element looked at, `shut` the aria-hidden subtrees and the items left out.
  function walk(root, self, out, seen, shut) {
    if (self) {
      if (root.matches(ITEM) && leftOut(root)) { shut?.push(root); return; }
      seen?.add(root);
      const e = entryOf(root);
      if (e) out.push(e);
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT, {
      acceptNode: (n) => {
        if (rejects(n)) {
          if (!SKIP.has(n.nodeName)) shut?.push(n);
          return NodeFilter.FILTER_REJECT;
        }
        if (n.matches(ITEM) && leftOut(n)) { shut?.push(n); return NodeFilter.FILTER_REJECT; }
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    for (let el = walker.nextNode(); el; el = walker.nextNode()) {
      seen?.add(el);
      const e = entryOf(el);
      if (e) out.push(e);
    }
  }

  // What changed since the page was last described: subtrees to describe again, elements to
  // describe again by themselves (around a change: a row's text includes its cells'), or all of it.
  let entries = [];           // every element the page would report, in document order
  let dirty = new Set();
  let touched = new Set();
  let whole = true;
  let lastWhole = 0;
  const runs = new Map();     // parent → its children by tag: { count: Map(tag → n), at: Map(child → place) }
  const units = new Map();    // item → its run: { parent, total, at, key }

  function above(el) {
    for (let a = el; a && a !== document.body; a = a.parentElement) touched.add(a);
  }

  // Notes one mutation; anything outside <body>, or on <body> and <html> themselves (style
  // sheets, a theme class), has the whole page described again.
  function noteChange(m) {
    if (whole) return;
    const t = m.target;
    const body = document.body;
    if (t.nodeName === 'TITLE' || t.parentNode?.nodeName === 'TITLE') return;
    if (!body || !body.contains(t) || (t === body && m.type === 'attributes')) { whole = true; return; }
    if (m.type === 'characterData') {
      const p = t.parentElement;
      if (p) { dirty.add(p); above(p.parentElement); }
    } else if (m.type === 'attributes') {
      dirty.add(t);
      // A disclosure shows what it controls, often a sibling styled by `[aria-expanded=true] + …`.
      if (['aria-expanded', 'open', 'checked'].includes(m.attributeName)) {
        if (t.parentElement !== body) dirty.add(t.parentElement);
        for (const id of (t.getAttribute('aria-controls') || '').split(/\s+/)) {
          const c = id && document.getElementById(id);
          if (c) dirty.add(c);
        }
      }
      above(t.parentElement);
    } else {
      // The runs under `t`, and the wrappers an item is alone in, may have changed.
      if (runs.delete(t) || (!moreChildren(t, 2) && t.querySelector(ITEM))) units.clear();
      // Items added or removed in a long run move the others in or out of its first ROW_KEEP.
      if (moreChildren(t, ROW_RUN)) dirty.add(t);
      for (const n of m.addedNodes) if (n.nodeType === Node.ELEMENT_NODE) dirty.add(n);
      above(t);
    }
    if (dirty.size > MAX_DIRTY || touched.size > 4 * MAX_DIRTY) whole = true;
  }

  // Whether `el` has more than `n` element children, counting no further than that.
  function moreChildren(el, n) {
    let c = el.firstElementChild;
    for (let i = 0; c && i < n; i += 1) c = c.nextElementSibling;
    return c !== null;
  }

  function changedAt(el) {
    if (whole || !(el instanceof Element)) return;
    dirty.add(el);
    above(el.parentElement);
  }

  const follows = (a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);

  // Brings `entries` up to date: the whole page, or only what changed.
  function refresh() {
    const body = document.body;
    if (whole || !body || Date.now() - lastWhole > FULL_MS) {
      const out = [];
      runs.clear();
      units.clear();
      holding = holders();
      try {
        walk(body || document.documentElement, false, out, null, null);
      } finally {
        holding = null;
      }
      entries = out;
      whole = false;
      lastWhole = Date.now();
      dirty = new Set();
      touched = new Set();
      return;
    }
    const seen = new Set();
    const shut = [];
    const chunks = [];
    const hidden = (el) => {
      for (let a = el; a && a !== body; a = a.parentElement) if (rejects(a)) return true;
      return false;
    };
    // A change inside an item is described with its whole item, which may now matter or not.
    const lifted = new Set();
    for (const r of dirty) {
      let top = r;
      for (let a = r; a && a !== body; a = a.parentElement) if (a.matches(ITEM)) top = a;
      lifted.add(top);
    }
    dirty = lifted;
    const roots = [...dirty].filter((r) => {
      if (!r.isConnected || !body.contains(r) || r === body) return false;
      for (let a = r.parentElement; a; a = a.parentElement) if (dirty.has(a)) return false;
      return true;
    });
    for (const r of roots) {
      if (hidden(r)) { shut.push(r); continue; }
      const out = [];
      walk(r, true, out, seen, shut);
      if (out.length) chunks.push(out);
    }
    const one = (el) => {
      if (seen.has(el) || !el.isConnected) return;
      seen.add(el);
      const e = hidden(el) ? null : entryOf(el);
      if (e) chunks.push([e]);
    };
    const gone = new Set();
    for (const s of shut) for (const el of [s, ...s.getElementsByTagName('*')]) gone.add(el);
    for (const el of touched) if (!gone.has(el)) one(el);
    for (const e of entries) if (e.live !== null && !seen.has(e.el) && !gone.has(e.el) && liveState(e.el, e.rec.role) !== e.live) one(e.el);
    dirty = new Set();
    touched = new Set();
    const alive = entries.filter((e) => !seen.has(e.el) && !gone.has(e.el) && e.el.isConnected);
    if (!chunks.length) { entries = alive; return; }
    // Changed subtrees are disjoint, so each fresh chunk goes in whole where its first element falls.
    chunks.sort((a, b) => (follows(a[0].el, b[0].el) ? -1 : 1));
    const out = [];
    let from = 0;
    for (const chunk of chunks) {
      let lo = from;
      let hi = alive.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (follows(chunk[0].el, alive[mid].el)) hi = mid; else lo = mid + 1;
      }
      for (let i = from; i < lo; i += 1) out.push(alive[i]);
      for (const e of chunk) out.push(e);
      from = lo;
    }
    for (let i = from; i < alive.length; i += 1) out.push(alive[i]);
    entries = out;
  }

  // The unit an item repeats as: the item, or the wrapper it is alone in (ExtJS draws each grid
  // row as a table of its own), up to the first ancestor with siblings.
  function unitOf(item) {
    let u = item;
    // (childElementCount counts every child: an only child is its parent's first and last.)
    for (let p = u.parentElement; p && p !== document.body && p.firstElementChild === p.lastElementChild; p = p.parentElement) u = p;
    return u;
  }

  // How many children of `parent` share each tag, and where each child stands among its tag's.
  function runsIn(parent) {
    let r = runs.get(parent);
    if (!r) {
      const count = new Map();
      const at = new Map();
      for (const c of parent.children) {
        const n = count.get(c.tagName) || 0;
        at.set(c, n);
        count.set(c.tagName, n + 1);
      }
      r = { count, at };
      runs.set(parent, r);
    }
    return r;
  }

  // What the report carries, in document order: long runs of repeated items summarized, then the
  // budget of MAX_ELEMENTS spent on what matters first. Each planned element: its entry, the
  // positions of its dialog and group in the plan, and the length of the run it starts.
  function plan(all) {
    // An item's run: its unit's parent, how many units of its tag that parent holds, and its place.
    const runOf = (item) => {
      let r = units.get(item);
      if (!r) {
        const unit = unitOf(item);
        const parent = unit.parentElement;
        const { count, at } = parent ? runsIn(parent) : { count: new Map(), at: new Map() };
        r = { parent, total: count.get(unit.tagName) || 0, at: at.get(unit) ?? 0, key: `${unit.tagName}` };
        units.set(item, r);
      }
      return r;
    };
    const matters = new Set();
    for (const e of all) {
      const r = e.rec;
      if (r.secret || r.role === 'dialog' || r.role === 'alert' || r.filled) for (const item of e.items) matters.add(item);
    }
    const keeps = (item) => {
      const r = runOf(item);
      return r.total <= ROW_RUN || r.at < ROW_KEEP || matters.has(item);
    };
    let kept = all.filter((e) => e.items.every(keeps));
    if (kept.length > MAX_ELEMENTS) {
      const first = new Uint8Array(kept.length);
      kept.forEach((e, i) => {
        if (FIRST_ROLES.has(e.rec.role)) first[i] = 1;
        const [back, ahead] = e.rec.secret ? [KEEP_BEFORE, KEEP_AFTER] : FIELD_ROLES.has(e.rec.role) ? [1, 1] : [0, 0];
        if (back || ahead) for (let j = Math.max(0, i - back); j <= Math.min(kept.length - 1, i + ahead); j += 1) first[j] = 1;
      });
      const take = new Uint8Array(kept.length);
      let room = MAX_ELEMENTS;
      for (let i = 0; i < kept.length && room; i += 1) if (first[i]) { take[i] = 1; room -= 1; }
      for (let i = 0; i < kept.length && room; i += 1) if (!take[i]) { take[i] = 1; room -= 1; }
      kept = kept.filter((_, i) => take[i]);
    }
    const index = new Map();
    const counted = new Map();
    return kept.map((e, i) => {
      index.set(e.el, i);
      let run = 0;
      for (const item of e.items) {
        const r = runOf(item);
        if (r.total <= ROW_RUN) continue;
        const tags = counted.get(r.parent) || new Set();
        if (tags.has(r.key)) continue;
        counted.set(r.parent, tags.add(r.key));
        run = r.total;
        break;
      }
      return { e, dialog: index.get(e.dialog) ?? -1, group: index.get(e.group) ?? -1, run };
    });
  }

  function recordOf(p) {
    const rec = { ...p.e.rec };
    if (rec.level === undefined) delete rec.level;
    if (p.dialog >= 0) rec.dialog = p.dialog;
    if (p.group >= 0) rec.group = p.group;
    if (p.run) rec.run = p.run;
    return rec;
  }

  const samePlan = (a, b) => a.length === b.length && a.every((p, i) => {
    const q = b[i];
    return p.e.el === q.e.el && p.dialog === q.dialog && p.group === q.group && p.run === q.run
      && (p.e.rec === q.e.rec || JSON.stringify(p.e.rec) === JSON.stringify(q.e.rec));
  });

  // The last report sent, to send none whose model did not change.
  let last = null;
  // Roles of the vendor controls the step panel keeps clear of; when none came or went and the
  // draw is the last one again, the panel keeps its place.
  const CONTROL_ROLES = new Set(['button', 'link', 'textbox', 'checkbox', 'radio', 'combobox', 'listbox', 'option', 'menuitem', 'tab']);
  let controlsChanged = true;
  let lastDraw = '';
  let forcing = false;

  // Sends the page model, unless it is the one last sent and nothing asked for a report anyway
  // (the worker's recheck, a route change, a new panel, the tab shown again).
  function report(force = false) {
    timer = null;
    firstPending = 0;
    const forced = force === true || forcing;
    forcing = false;
    lastHref = location.href;
    refresh();
    const planned = plan(entries);
    const title = clip(document.title);
    const nonce = panel?.el.isConnected ? panel.nonce : (nextNonce ??= newNonce());
    if (!forced && last && last.url === location.href && last.title === title && last.nonce === nonce && samePlan(last.planned, planned)) {
      return Promise.resolve();
    }
    const controls = planned.filter((p) => CONTROL_ROLES.has(p.e.rec.role)).map((p) => p.e.el);
    if (!last || controls.length !== last.controls.length || controls.some((el, i) => el !== last.controls[i])) controlsChanged = true;
    last = { url: location.href, title, nonce, planned, controls };
    elements = planned.map((p) => p.e.el);
    seq += 1;
    const mine = seq;
    const page = { url: location.href, title, elements: planned.map(recordOf) };
    const message = { v: VERSION, body: { type: 'report', seq: mine, page, panel: nonce } };
    return Promise.resolve(ext.runtime.sendMessage(message)).then((reply) => {
      if (reply?.v === VERSION && reply.body?.type === 'draw' && reply.body.seq === seq) draw(reply.body);
    }, () => {});
  }

  let timer = null;
  let firstPending = 0;
  function schedule(force = false) {
    if (force === true) forcing = true;
    const now = Date.now();
    if (!firstPending) firstPending = now;
    clearTimeout(timer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, MAX_WAIT_MS - (now - firstPending)));
    timer = setTimeout(report, wait);
  }
  // ---- Drawing -------------------------------------------------------------------------------

  function host(tag, vendor) {
    const el = document.createElement(tag);
    const root = el.attachShadow({ mode: 'closed' });
    el.setAttribute('data-vendor', vendor);
    const s = el.style;
    s.setProperty('position', 'fixed', 'important');
    s.setProperty('z-index', '2147483646', 'important');
    s.setProperty('margin', '0', 'important');
    s.setProperty('padding', '0', 'important');
    s.setProperty('display', 'block', 'important');
    s.setProperty('box-sizing', 'border-box', 'important');
    // The save control comes before the step panel in the tab order, as it sits beside the key.
    const ours = [panel?.el, pill?.el].filter((o) => o?.parentNode === document.documentElement)
      .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    document.documentElement.insertBefore(el, tag === 'keywarden-capture' ? ours[0] ?? null : null);
    return { el, root };
  }

  function place(el, left, top, width, height) {
    const s = el.style;
    s.setProperty('left', `${Math.round(left)}px`, 'important');
    s.setProperty('top', `${Math.round(top)}px`, 'important');
    s.setProperty('width', `${Math.round(width)}px`, 'important');
    s.setProperty('height', `${Math.round(height)}px`, 'important');
  }

  const PAD = 4;
  const PANEL_W = 340;
  // The frame's height until its panel reports how tall its content is, and the bounds that
  // report is held to: never a sliver, never taller than the view less a margin.
  const PANEL_H = 330;
  const PANEL_MIN_H = 120;
  const PANEL_MAX_H = 600;
  // How long a new frame stays out of sight waiting for its first height, so that the panel
  // appears once, at the place and size it keeps, rather than moving or folding as it arrives.
  const FIT_WAIT_MS = 1500;
  let remembered = {};    // key metadata read from fields the worker pointed at, for the next capture
  let fieldMarks = [];    // those fields, as the last draw pointed at them
  let recheck = null;
  let highlight = null;   // { el, target }
  let panel = null;       // { el, root, nonce, framed, fit, born }
  // The nonce the next new panel's frame connects with. While no panel exists every report names
  // it, so the worker knows it before any draw asks for a panel and the frame is made at once.
  let nextNonce = null;
  let capture = null;     // { el, button, key, copy }

  function showHighlight(mark) {
    const target = elements[mark.element];
    if (!target) return hideHighlight();
    if (!highlight || !highlight.el.isConnected) {
      const { el, root } = host('keywarden-highlight', mark.vendor);
      el.style.setProperty('pointer-events', 'none', 'important');
      const ring = document.createElement('div');
      Object.assign(ring.style, { position: 'absolute', inset: '0', border: '3px solid #f59e0b', borderRadius: '6px', boxShadow: '0 0 0 4px rgba(245, 158, 11, 0.35)' });
      root.appendChild(ring);
      highlight = { el, target };
    }
    if (highlight.target !== target || !highlight.watched) {
      relayout.disconnect();
      relayout.observe(target);
      relayout.observe(document.documentElement);
      highlight.watched = true;
    }
    highlight.target = target;
    highlight.el.setAttribute('data-vendor', mark.vendor);
    highlight.el.setAttribute('data-step', mark.step);
  }

  function hideHighlight() {
    if (highlight) relayout.disconnect();
    highlight?.el.remove();
    highlight = null;
  }

  function hidePanel() {
    if (panel) panel.el.style.setProperty('display', 'none', 'important');
    hidePill();
    // Focus that was in the panel goes back where the admin was on the page.
    if (panel && document.activeElement === panel.el) {
      if (lastFocus?.isConnected) lastFocus.focus({ preventScroll: true }); else panel.el.blur();
    }
  }

  // The small pill the panel folds into when no free space is left beside the vendor's controls.
  let pill = null;        // { el, button }
  let expanded = null;    // the step the admin unfolded the pill on: the panel then shows anyway
  let label = '';

  function showPill(vendor) {
    if (!pill || !pill.el.isConnected) {
      const { el, root } = host('keywarden-pill', vendor);
      const button = document.createElement('button');
      button.type = 'button';
      Object.assign(button.style, { all: 'initial', font: '600 12.5px system-ui, sans-serif', color: '#fff', background: '#92400e', borderRadius: '999px', padding: '6px 12px', cursor: 'pointer', whiteSpace: 'nowrap', width: '100%', height: '100%', boxSizing: 'border-box', textAlign: 'center', boxShadow: '0 2px 10px rgba(0,0,0,0.25)' });
      // The ring shows for keyboard focus, not after a click.
      button.addEventListener('focus', () => { if (button.matches(':focus-visible')) { button.style.outline = '3px solid #2563eb'; button.style.outlineOffset = '2px'; } });
      button.addEventListener('blur', () => { button.style.outline = 'none'; });
      button.addEventListener('click', (e) => {
        if (!e.isTrusted) return;
        expanded = highlight?.el.getAttribute('data-step') ?? 'any';
        repositionSoon();
      });
      root.appendChild(button);
      pill = { el, button };
    }
    pill.button.textContent = `${label} ▸`;
    pill.button.setAttribute('aria-label', say('pillLabel', label));
    pill.el.style.setProperty('display', 'block', 'important');
  }

  // The step shown belongs to a page that is gone: hidden until the next draw says what to show.
  function hideStalePanel() {
    if (!panel) return;
    panel.el.removeAttribute('data-shown');
    panel.el.style.setProperty('display', 'none', 'important');
    hidePill();
  }

  function hidePill() {
    if (pill) pill.el.style.setProperty('display', 'none', 'important');
  }

  const overlaps = (a, b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
  const rect = (left, top, width, height) => ({ left, top, right: left + width, bottom: top + height, width, height });
  const grow = (r, by) => rect(r.left - by, r.top - by, r.width + 2 * by, r.height + 2 * by);

  // What the panel must not cover: the step's target, its form, dialog or row (unless that takes
  // most of the screen), the save control and the key, and every vendor control near the target.
  function keepClear(vw, vh) {
    const out = [];
    const target = highlight?.target;
    const t = target?.isConnected ? target.getBoundingClientRect() : null;
    if (t) {
      out.push(grow(t, 8));
      const box = target.parentElement?.closest(CONTAINERS)?.getBoundingClientRect();
      if (box && box.width * box.height < 0.6 * vw * vh) out.push(grow(box, 4));
    }
    if (capture) out.push(grow(capture.el.getBoundingClientRect(), 4), capture.key.getBoundingClientRect());
    const near = t ? grow(t, NEAR) : rect(0, 0, vw, vh);
    for (const el of document.querySelectorAll(BLOCKS)) {
      if (OWN.has(el.nodeName)) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1 || r.width * r.height > 0.6 * vw * vh) continue;
      if (overlaps(r, near)) out.push(r);
    }
    let seen = 0;
    for (const el of document.querySelectorAll(CONTROLS)) {
      if (++seen > 4000) break;
      if (OWN.has(el.nodeName)) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1 || r.bottom < 0 || r.top > vh || r.right < 0 || r.left > vw) continue;
      if (overlaps(r, near)) out.push(r);
    }
    return out;
  }

  // Spots for a box of w × h: beside the target first, then the corners of the view.
  function spots(w, h, vw, vh) {
    const m = 12;
    const list = [];
    const t = highlight?.target?.isConnected ? highlight.target.getBoundingClientRect() : null;
    if (t) {
      list.push([t.right + 16, t.top], [t.left - w - 16, t.top], [t.left, t.bottom + 16], [t.left, t.top - h - 16],
        [t.right + 16, t.bottom - h], [t.left - w - 16, t.bottom - h], [t.right - w, t.bottom + 16], [t.right - w, t.top - h - 16]);
    }
    list.push([vw - w - m, vh - h - m], [m, vh - h - m], [vw - w - m, m + 56], [m, m + 56], [(vw - w) / 2, vh - h - m]);
    return list
      .map(([x, y]) => [Math.max(8, Math.min(x, vw - w - 8)), Math.max(8, Math.min(y, vh - h - 8))])
      .map(([x, y]) => rect(x, y, w, h));
  }

  function freeSpot(w, h, vw, vh, clear) {
    return spots(w, h, vw, vh).find((r) => !clear.some((c) => overlaps(r, c))) ?? null;
  }

  // The frame's height: its content's, as the panel reported it through the worker, clamped.
  function panelHeight(vh) {
    const want = Number.isFinite(panel.fit) ? panel.fit : PANEL_H;
    return Math.round(Math.max(PANEL_MIN_H, Math.min(want, PANEL_MAX_H, vh - 16)));
  }

  // Where an unfolded panel goes when no spot is free: one that leaves the step's target, the
  // key and its save control in view (else the target alone), made shorter (its content then
  // scrolls) when the view has no such spot at full height.
  function unfoldedSpot(h, vw, vh) {
    const t = highlight?.target?.isConnected ? grow(highlight.target.getBoundingClientRect(), 8) : null;
    const key = capture ? [grow(capture.el.getBoundingClientRect(), 4), capture.key.getBoundingClientRect()] : [];
    const musts = [[t, ...key].filter(Boolean), [t].filter(Boolean)];
    const shorter = t ? Math.max(PANEL_MIN_H, Math.min(h, Math.max(t.top, vh - t.bottom) - 16)) : h;
    for (const must of musts) {
      for (const height of [h, shorter]) {
        const spot = spots(PANEL_W, height, vw, vh).find((r) => !must.some((m) => overlaps(r, m)));
        if (spot) return spot;
      }
    }
    return spots(PANEL_W, shorter, vw, vh)[0];
  }

  // Places the panel where it covers nothing the admin needs; without such a spot it folds into
  // the pill, which the admin can unfold (the panel then takes the best spot it can).
  function placePanel(vw, vh) {
    // Drawn (the frame measures its content) but neither seen nor in the way until that measure
    // is in. Transparent rather than hidden: Chromium pauses the rendering of a hidden frame.
    const waiting = !Number.isFinite(panel.fit) && performance.now() - panel.born < FIT_WAIT_MS;
    panel.el.style.setProperty('opacity', waiting ? '0' : '1', 'important');
    panel.el.style.setProperty('pointer-events', waiting ? 'none' : 'auto', 'important');
    const clear = keepClear(vw, vh);
    const h = panelHeight(vh);
    const spot = freeSpot(PANEL_W, h, vw, vh, clear);
    if (waiting) {
      clearTimeout(panel.waited);
      panel.waited = setTimeout(repositionSoon, FIT_WAIT_MS - (performance.now() - panel.born) + 10);
      const r = spot ?? unfoldedSpot(h, vw, vh);
      panel.el.style.setProperty('display', 'block', 'important');
      place(panel.el, r.left, r.top, PANEL_W, r.height);
      hidePill();
      return;
    }
    const step = highlight?.el.getAttribute('data-step') ?? 'any';
    if (expanded && expanded !== step) expanded = null;
    if (spot || expanded) {
      const r = spot ?? unfoldedSpot(h, vw, vh);
      panel.el.style.setProperty('display', 'block', 'important');
      place(panel.el, r.left, r.top, PANEL_W, r.height);
      panel.el.removeAttribute('data-folded');
      hidePill();
      return;
    }
    panel.el.style.setProperty('display', 'none', 'important');
    panel.el.setAttribute('data-folded', '');
    showPill(panel.el.getAttribute('data-vendor') || '');
    const w = Math.min(320, textWidth(pill.button.textContent, '600 12.5px system-ui, sans-serif') + 30);
    const at = freeSpot(w, 32, vw, vh, clear) ?? rect(vw - w - 12, vh - 44, w, 32);
    place(pill.el, at.left, at.top, w, 32);
  }

  let measure = null;
  function textWidth(text, font) {
    measure ??= document.createElement('canvas').getContext('2d');
    measure.font = font;
    return Math.ceil(measure.measureText(text).width);
  }

  // 128 random bits as hex: names the one panel frame this script made, for the worker to trust.
  function newNonce() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function showPanel(vendor) {
    if (!panel || !panel.el.isConnected) {
      const { el, root } = host('keywarden-panel', vendor);
      panel = { el, root, nonce: nextNonce ?? newNonce(), framed: false, fit: null, born: performance.now(), waited: null };
      nextNonce = null;
    }
    panel.el.setAttribute('data-vendor', vendor);
    panel.el.setAttribute('data-shown', '');
    panel.el.style.setProperty('display', 'block', 'important');
  }

  // A new panel's nonce is reported first; its frame (which connects with that nonce) is made
  // once the worker has the report: at once when the last report named it already, as it does
  // when the draw answers it. runtime.getURL gives Chromium's per-session dynamic URL.
  function frameNewPanel() {
    const p = panel;
    if (!p || p.framed) return;
    p.framed = true;
    const reported = last?.nonce === p.nonce ? Promise.resolve() : new Promise((done) => queueMicrotask(() => report(true).finally(done)));
    // Making a frame costs the page a long frame of its own: the highlight drawn with this panel
    // is painted first.
    const painted = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
    reported.then(painted).then(() => {
      if (panel !== p || !p.el.isConnected) return;
      const frame = document.createElement('iframe');
      frame.src = `${ext.runtime.getURL('panel.html')}#${p.nonce}`;
      frame.title = say('panelFrameTitle');
      // The frame's scheme matches the panel page's, so the browser paints no backdrop of its own.
      Object.assign(frame.style, { border: '0', width: '100%', height: '100%', borderRadius: '8px', boxShadow: '0 6px 24px rgba(0,0,0,0.25)', background: dark() ? '#111827' : '#fff', colorScheme: 'light dark' });
      p.root.appendChild(frame);
    });
  }

  // What the page could restyle to hide the save control or let clicks through to it unseen;
  // inline !important beats any page stylesheet, and the observer below undoes inline changes.
  const PINNED = {
    position: 'fixed', 'z-index': '2147483647', display: 'block', visibility: 'visible', opacity: '1',
    'pointer-events': 'auto', transform: 'none', translate: 'none', rotate: 'none', scale: 'none', zoom: '1',
    filter: 'none', 'backdrop-filter': 'none', 'clip-path': 'none', clip: 'auto', mask: 'none',
    'mix-blend-mode': 'normal', isolation: 'isolate', 'content-visibility': 'visible', 'offset-path': 'none',
    transition: 'none', animation: 'none', border: '0', margin: '0', padding: '0', 'box-sizing': 'border-box',
  };

  const FOREIGN = ['class', 'id', 'hidden', 'inert', 'popover'];

  function pin(c) {
    for (const [name, value] of Object.entries(PINNED)) c.el.style.setProperty(name, value, 'important');
    if (c.box) place(c.el, ...c.box);
    // A class or id lets page CSS draw ::before/::after over the control; the rest hide or disable it.
    for (const attr of FOREIGN) c.el.removeAttribute(attr);
    c.el.setAttribute('data-state', c.state);
    if (c.reason) c.el.setAttribute('data-reason', c.reason); else c.el.removeAttribute('data-reason');
    c.style = c.el.getAttribute('style');
  }

  function guard(c) {
    c.watch = new MutationObserver(() => {
      // Our own writes leave the attributes as last pinned; anything else is the page's.
      if (c.el.getAttribute('style') !== c.style || c.el.getAttribute('data-state') !== c.state
        || c.el.getAttribute('data-reason') !== c.reason || FOREIGN.some((a) => c.el.hasAttribute(a))) pin(c);
    });
    c.watch.observe(c.el, { attributes: true, attributeFilter: ['style', 'data-state', 'data-reason', ...FOREIGN] });
    // Chromium also says whether anything at all paints over the control (even a cover that lets clicks through).
    if (typeof IntersectionObserverEntry !== 'undefined' && 'isVisible' in IntersectionObserverEntry.prototype) {
      c.sight = new IntersectionObserver((entries) => { for (const e of entries) c.seen = e.isVisible; }, { trackVisibility: true, delay: 100, threshold: [1] });
      c.sight.observe(c.el);
    }
  }

  function showCapture(mark) {
    const key = elements[mark.key];
    if (!key) return hideCapture();
    const copy = mark.copy == null ? null : elements[mark.copy] || null;
    if (!capture || !capture.el.isConnected || capture.key !== key) {
      hideCapture();
      const { el, root } = host('keywarden-capture', mark.vendor);
      const button = document.createElement('button');
      button.type = 'button';
      button.setAttribute('aria-label', say('saveLabel', mark.label));
      Object.assign(button.style, { all: 'initial', font: '600 13px system-ui, sans-serif', borderRadius: '6px', padding: '6px 10px', cursor: 'pointer', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis', width: '100%', height: '100%', boxSizing: 'border-box', textAlign: 'center' });
      root.appendChild(button);
      // The ring shows for keyboard focus, not after a click.
      button.addEventListener('focus', () => { if (button.matches(':focus-visible')) { button.style.outline = '3px solid #2563eb'; button.style.outlineOffset = '2px'; } });
      button.addEventListener('blur', () => { button.style.outline = 'none'; });
      paint(button, 'ready');
      capture = { el, root, button, key, copy, state: 'ready', reason: null, box: null, seen: undefined };
      const c = capture;
      button.addEventListener('click', (e) => onSave(c, e));
      pin(c);
      guard(c);
      setState(el, mark.vault === false ? 'novault' : 'ready');
    }
    capture.copy = copy;
    capture.nearby = controlsNear(key);
    capture.guards = (mark.guards || []).map((i) => elements[i]).filter(Boolean);
    capture.label = mark.label;
    capture.el.setAttribute('data-vendor', mark.vendor);
    // A vault set up meanwhile (or gone): the control says what a save would do now.
    if (mark.vault === false && ['ready', 'error'].includes(capture.state)) setState(capture.el, 'novault');
    if (mark.vault !== false && ['novault', 'received'].includes(capture.state)) setState(capture.el, 'ready');
  }

  // The vendor's own controls around the key (its Copy, Download, Close, the form's buttons):
  // every control of the key's dialog; outside a dialog, those of the nearest block above the key
  // that holds some, and of the block around that one.
  function controlsNear(key) {
    const of = (block) => [...block.querySelectorAll(CONTROLS)].filter((c) => c !== key && !key.contains(c)).slice(0, 40);
    const dialog = key.closest('dialog, [role=dialog], [role=alertdialog], [aria-modal=true]');
    if (dialog) return of(dialog);
    let block = key.parentElement;
    for (let up = 0; block && block !== document.body && up < 4; up += 1) {
      const around = block.parentElement !== document.body ? block.parentElement : null;
      if ([...block.querySelectorAll(CONTROLS)].some((c) => c !== key && !key.contains(c))) return of(around || block);
      block = block.parentElement;
    }
    return [];
  }

  function hideCapture() {
    capture?.watch?.disconnect();
    capture?.sight?.disconnect();
    capture?.el.remove();
    capture = null;
  }

  // The point a click was made at; a click from the keyboard (Enter, Space) has none: the middle.
  function clickPoint(e, el) {
    if (e.detail > 0 || e.clientX || e.clientY) return [e.clientX, e.clientY];
    const r = el.getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2];
  }

  // Product of the opacities of `el` and its ancestors, filters' opacity() included.
  function seenOpacity(el) {
    let o = 1;
    for (let n = el; n; n = n.parentElement) {
      const cs = getComputedStyle(n);
      o *= Number(cs.opacity);
      for (const m of (cs.filter || '').matchAll(/opacity\(\s*([\d.]+)(%?)\s*\)/g)) o *= Number(m[1]) / (m[2] ? 100 : 1);
    }
    return o;
  }

  // Why a click at (x, y) cannot be taken as the admin's on `el`, or null: `el` must be topmost
  // there and plainly visible. `own` is the save control, held to more (it is ours to judge).
  function obstruction(el, x, y, own) {
    const r = el.getBoundingClientRect();
    const vw = document.documentElement.clientWidth || innerWidth;
    const vh = document.documentElement.clientHeight || innerHeight;
    if (r.width < 4 || r.height < 4) return ['hidden', say('whyNoSize')];
    if (own && (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)) return ['off-screen', say('whyOffScreen')];
    if (x < r.left - 1 || x > r.right + 1 || y < r.top - 1 || y > r.bottom + 1) return ['covered', say('whyNotOnIt')];
    // A closed shadow root answers with its host.
    const top = document.elementsFromPoint(x, y)[0];
    if (!top || (top !== el && !el.contains(top))) return ['covered', say('whyCovered')];
    const cs = getComputedStyle(el);
    // Ours is pinned opaque; a vendor's button may be styled a little translucent, never near invisible.
    if (cs.visibility !== 'visible' || seenOpacity(el) < (own ? 0.98 : 0.5)) return ['hidden', say('whyTransparent')];
    if (own) {
      if (cs.transform !== 'none' || cs.filter !== 'none' || cs.clipPath !== 'none' || cs.mixBlendMode !== 'normal') {
        return ['hidden', say('whyDistorted')];
      }
      const drawn = (pseudo) => !['none', 'normal', ''].includes(getComputedStyle(el, pseudo).content);
      if (drawn('::before') || drawn('::after')) return ['obscured', say('whyDrawsOver')];
      if (own.seen === false) return ['obscured', say('whyDrawnOver')];
    }
    return null;
  }

  // Refuses a capture the admin may not have meant, and says why on the control.
  function refuse(control, [reason, why]) {
    setState(control, 'refused', say('refusedTip', why), null, reason);
  }

  // A click on the save control: trusted, on top and visible, or refused. Without a vault it
  // opens the vault setup instead (the key stays on the page meanwhile).
  function onSave(c, e) {
    if (!e.isTrusted || capture !== c) return;
    const blocked = obstruction(c.el, ...clickPoint(e, c.el), c);
    if (blocked) return refuse(c.el, blocked);
    if (c.state === 'novault' || c.state === 'received') {
      Promise.resolve(ext.runtime.sendMessage({ v: VERSION, body: { type: 'open_setup' } })).catch(() => {});
      return;
    }
    handOver();
  }

  // The save control's colours per state and scheme (text on background at 4.5:1 or more):
  // amber to save, green once saved, red when it was refused or failed.
  const dark = () => matchMedia('(prefers-color-scheme: dark)').matches;
  const PALETTE = {
    light: { ready: ['#ffffff', '#b45309'], saved: ['#ffffff', '#166534'], refused: ['#ffffff', '#b91c1c'] },
    dark: { ready: ['#111827', '#fbbf24'], saved: ['#052e16', '#86efac'], refused: ['#450a0a', '#fca5a5'] },
  };
  function paint(button, state) {
    const tone = state === 'saved' ? 'saved' : ['refused', 'error', 'received', 'novault'].includes(state) ? 'refused' : 'ready';
    const [color, background] = PALETTE[dark() ? 'dark' : 'light'][tone];
    Object.assign(button.style, { color, background });
  }
  matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', () => {
    if (capture) paint(capture.button, capture.state);
    const frame = panel?.root.querySelector('iframe');
    if (frame) frame.style.background = dark() ? '#111827' : '#fff';
  });

  const STATE_TEXT = {
    ready: say('saveReady'),
    saving: say('saveSaving'),
    saved: say('saveSaved'),
    received: say('saveReceived'),
    novault: say('saveNoVault'),
    error: say('saveError'),
  };
  const STATE_TIP = { received: say('saveReceivedTip'), novault: say('saveNoVaultTip') };
  const REFUSED_TEXT = {
    covered: say('refusedCovered'), obscured: say('refusedObscured'), hidden: say('refusedHidden'), 'off-screen': say('refusedOffScreen'),
  };

  // Shows a capture state on the control: its data-state (and data-reason when refused), its
  // label (once saved, with the key's last four characters) and a tooltip with the reason.
  function setState(control, state, reason, hint, refusal) {
    if (capture?.el !== control) return;
    capture.state = state;
    capture.reason = refusal || null;
    pin(capture);
    paint(capture.button, state);
    const tail = typeof hint === 'string' && /^…[\x21-\x7e]{1,4}$/.test(hint) ? hint : null;
    capture.button.textContent = state === 'refused' ? REFUSED_TEXT[refusal] || REFUSED_TEXT.covered
      : state === 'saved' && tail ? say('saveSavedHint', tail) : STATE_TEXT[state] || STATE_TEXT.error;
    capture.button.title = reason || STATE_TIP[state] || '';
    capture.button.setAttribute('aria-label', state === 'ready' ? say('saveLabel', capture.label || 'key') : capture.button.textContent);
    repositionSoon();
  }

  // Reads the key the admin asked to save and hands it to the worker; nothing keeps it here.
  function handOver() {
    if (!capture) return;
    const el = capture.key;
    const source = el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' ? el.value : el.textContent;
    const key = findKey(source);
    const control = capture.el;
    if (!key) { setState(control, 'error'); return; }
    setState(control, 'saving');
    Promise.resolve(ext.runtime.sendMessage({ v: VERSION, body: { type: 'capture', seq, key, fields: remembered } })).then((reply) => {
      const ok = reply?.v === VERSION && reply.body?.type === 'captured';
      setState(control, ok ? reply.body.state : 'error', ok ? '' : word(reply?.body?.message), ok ? reply.body.hint : null);
    }, () => setState(control, 'error'));
  }

  function reposition() {
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    if (highlight) {
      // A target the page took away (a route change, a closed dialog) is not pointed at, and its
      // step not shown, while the next report is on its way.
      if (!highlight.target.isConnected) {
        hideHighlight();
        hideStalePanel();
        return;
      }
      const r = highlight.target.getBoundingClientRect();
      place(highlight.el, r.left - PAD, r.top - PAD, r.width + 2 * PAD, r.height + 2 * PAD);
    }
    if (capture) {
      const r = capture.key.getBoundingClientRect();
      const w = Math.max(170, Math.min(360, textWidth(capture.button.textContent, '600 13px system-ui, sans-serif') + 24));
      const h = 30;
      // Beside the key, else under it, else above it, else under the row of buttons below it:
      // never over the vendor's own controls around the key.
      const avoid = [capture.copy, highlight?.target, ...(capture.nearby || [])]
        .filter((el) => el && el.isConnected)
        .map((el) => el.getBoundingClientRect())
        .filter((a) => a.width > 0 && a.height > 0);
      const below = Math.max(r.bottom, ...avoid.filter((a) => a.top < r.bottom + 60 && a.bottom > r.top).map((a) => a.bottom));
      const spots = [
        [r.right + 8, r.top + r.height / 2 - h / 2],
        [r.left, r.bottom + 6],
        [r.left, r.top - h - 6],
        [r.left, below + 6],
      ];
      const free = ([x, y]) => x + w <= vw && y >= 0 && y + h <= vh
        && avoid.every((a) => x + w <= a.left || x >= a.right || y + h <= a.top || y >= a.bottom);
      const [left, top] = spots.find(free) ?? spots[1];
      capture.box = [left, top, w, h];
      pin(capture);
    }
    if (panel?.el.hasAttribute('data-shown')) {
      // Placing the panel measures every vendor control near the target: done after each draw and
      // whenever the target, the key, the view or the panel's own state moved, not at every change.
      const t = highlight?.target.getBoundingClientRect();
      const waiting = !Number.isFinite(panel.fit) && performance.now() - panel.born < FIT_WAIT_MS;
      const geometry = JSON.stringify([t && [t.left, t.top, t.width, t.height], capture?.box, vw, vh, panel.fit, waiting,
        expanded, highlight?.el.getAttribute('data-step'), window.scrollX, window.scrollY]);
      if (replace || geometry !== placed) placePanel(vw, vh);
      placed = geometry;
      replace = false;
    }
  }
  let placed = null;
  let replace = true;

  // The target resized, or the page around it (fonts, stylesheets): its highlight and the panel follow.
  const relayout = new ResizeObserver(() => repositionSoon());
  let frame = 0;
  function repositionSoon() {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; reposition(); });
  }

  function readField(el, read) {
    if (read === 'value') return el.type === 'password' ? '' : String(el.value ?? '');
    if (read === 'checked') {
      return [...el.querySelectorAll('input[type=checkbox]:checked, [role=checkbox][aria-checked=true]')]
        .map((box) => collapse(box.labels?.[0]?.textContent || box.getAttribute('aria-label') || box.textContent)).filter(Boolean).join(', ');
    }
    if (read === 'items') {
      return [...el.querySelectorAll('option, li, [role=option]')].map((o) => collapse(o.textContent)).filter(Boolean).join(', ');
    }
    return el.textContent;
  }

  function remember(fields) {
    for (const f of fields || []) {
      const el = elements[f.element];
      if (!el) continue;
      const value = clip(readField(el, f.read));
      // Metadata only: anything shaped like a key is left out.
      if (value && !findKey(value)) remembered[f.name] = value;
    }
  }

  function draw(d) {
    if (d.highlight) showHighlight(d.highlight); else hideHighlight();
    const vendor = d.highlight?.vendor ?? d.capture?.vendor ?? panel?.el.getAttribute('data-vendor') ?? '';
    label = !d.pill ? 'keywarden'
      : d.pill.saved ? say('pillSaved', d.pill.vendor_name)
        : say('pillStep', d.pill.vendor_name, String(d.pill.position), String(d.pill.total));
    if (d.panel) showPanel(vendor); else { panel?.el.removeAttribute('data-shown'); hidePanel(); }
    if (d.capture) showCapture(d.capture); else hideCapture();
    fieldMarks = d.fields || [];
    remember(fieldMarks);
    clearTimeout(recheck);
    const drawn = JSON.stringify({ ...d, seq: 0 });
    if (controlsChanged || drawn !== lastDraw) replace = true;
    controlsChanged = false;
    lastDraw = drawn;
    recheck = d.recheck_ms ? setTimeout(() => schedule(true), d.recheck_ms) : null;
    reposition();
    if (d.panel) frameNewPanel();
  }

  // ---- Listening -------------------------------------------------------------------------------

  // Where the admin's focus was on the page, to return it there when the panel closes.
  let lastFocus = null;
  document.addEventListener('focusin', (e) => {
    if (e.target instanceof Element && !OWN.has(e.target.nodeName)) lastFocus = e.target;
  }, true);

  // Escape closes the panel from the page too ("not now"), unless a vendor control had a use for it.
  window.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !e.isTrusted || e.defaultPrevented || !panel?.el.hasAttribute('data-shown')) return;
    const a = document.activeElement;
    if (a && a !== document.body && !OWN.has(a.nodeName)
      && a.closest('input,textarea,select,[contenteditable=true],dialog,[role=dialog],[role=alertdialog],[role=menu],[role=listbox]')) return;
    Promise.resolve(ext.runtime.sendMessage({ v: VERSION, body: { type: 'dismiss', seq } })).catch(() => {});
  });

  // A route change in a single-page app: the old step's highlight and panel go at once, so no
  // stale step shows while the new page is described.
  function routed() {
    if (location.href === lastHref) return;
    // A reply to a report of the old route is dropped when it arrives.
    seq += 1;
    lastHref = location.href;
    hideHighlight();
    hideStalePanel();
    schedule(true);
  }

  ext.runtime.onMessage.addListener((message, sender) => {
    if (sender.id !== ext.runtime.id || message?.v !== VERSION) return;
    if (message.body?.type === 'draw' && message.body.seq === seq) draw(message.body);
    // The content height of this script's own frame (named by its nonce), relayed by the worker.
    const fit = message.body;
    if (fit?.type === 'panel_fit' && panel && fit.panel === panel.nonce && Number.isFinite(fit.height)) {
      panel.fit = fit.height;
      repositionSoon();
    }
  });

  const ours = (n) => n && OWN.has(n.nodeName);
  // Every change of the page is noted (what changed, for the next description) and reported;
  // changes to keywarden's own elements are not the page's.
  const changes = new MutationObserver((mutations) => {
    let relevant = false;
    for (const m of mutations) {
      if (ours(m.target) || (m.type === 'childList' && [...m.addedNodes, ...m.removedNodes].every(ours))) continue;
      relevant = true;
      noteChange(m);
    }
    if (relevant) { schedule(); repositionSoon(); }
  });
  const watchChanges = () => changes.observe(document.documentElement, {
    subtree: true, childList: true, characterData: true, attributes: true,
    // Every attribute the description reads.
    attributeFilter: ['class', 'style', 'hidden', 'open', 'disabled', 'aria-hidden', 'aria-expanded', 'aria-checked', 'aria-disabled', 'value', 'readonly',
      'role', 'href', 'tabindex', 'type', 'id', 'for', 'checked', 'selected', 'multiple', 'size', 'popover', 'placeholder', 'title', 'data-qtip',
      'aria-label', 'aria-labelledby', 'aria-haspopup', 'aria-level', 'data-icon', 'svgicon'],
  });
  // A field the worker pointed at is read again as the admin types, so a capture right after
  // typing (before the next draw) keeps the metadata as typed.
  const typed = (e) => {
    if (fieldMarks.some((f) => elements[f.element]?.contains(e.target))) remember(fieldMarks);
    schedule();
  };
  document.addEventListener('input', typed, true);
  document.addEventListener('change', typed, true);
  // A real press on a reported element: the worker remembers a step the admin performed there (a
  // user created, a key generated). Scripts' events are not trusted and never count.
  const pressed = (e) => {
    if (!e.isTrusted || !(e.target instanceof Node) || OWN.has(e.target.nodeName)) return;
    for (let i = elements.length - 1; i >= 0; i -= 1) {
      if (elements[i].contains(e.target)) {
        const message = { v: VERSION, body: { type: 'pressed', seq, element: i } };
        Promise.resolve(ext.runtime.sendMessage(message)).catch(() => {});
        return;
      }
    }
  };
  document.addEventListener('click', pressed, true);
  // A control made of a div with a button role, worked from the keyboard, gets no click from the
  // browser: Enter (on key down) and Space (on key up) count as its press. Native controls turn
  // both into a click, which already counted.
  const NATIVE = 'button, a[href], input, select, textarea, summary, [contenteditable=""], [contenteditable="true"]';
  const keyed = (e) => {
    const key = e.type === 'keydown' ? 'Enter' : ' ';
    if (e.key !== key || e.repeat || !(e.target instanceof Element) || e.target.closest(NATIVE)) return;
    if (!/^(button|link|menuitem|tab|option)$/.test(e.target.getAttribute('role') || '')) return;
    pressed(e);
  };
  document.addEventListener('keydown', keyed, true);
  document.addEventListener('keyup', keyed, true);
  document.addEventListener('click', (e) => {
    if (!e.isTrusted || !capture || !(e.target instanceof Node)) return;
    if (capture.copy?.contains(e.target)) {
      const blocked = obstruction(capture.copy, ...clickPoint(e, capture.copy), null);
      if (blocked) refuse(capture.el, blocked); else handOver();
      return;
    }
    // A real click meant for the save control that something of the page's caught instead.
    if (e.target !== capture.el && !OWN.has(e.target.nodeName) && e.detail > 0) {
      const r = capture.el.getBoundingClientRect();
      if (e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom) {
        refuse(capture.el, ['covered', say('whyCovered')]);
        return;
      }
    }
    // Leaving a key that is shown only once without saving it: ask first.
    const saved = capture.el.getAttribute('data-state') === 'saved';
    if (!saved && capture.guards?.some((g) => g.contains(e.target))
      && !window.confirm(say('leaveUnsaved', capture.label))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // A transition or animation that ended may have shown or hidden what it moved.
  const settled = (e) => { changedAt(e.target); schedule(); };
  document.addEventListener('transitionend', settled, true);
  document.addEventListener('animationend', settled, true);
  window.addEventListener('hashchange', routed);
  window.addEventListener('popstate', routed);
  window.navigation?.addEventListener?.('navigatesuccess', routed);
  window.navigation?.addEventListener?.('currententrychange', routed);
  // Back from setting up the vault in another tab: the save control says what a save does now.
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') schedule(true); });
  window.addEventListener('scroll', repositionSoon, { capture: true, passive: true });
  window.addEventListener('resize', repositionSoon, { passive: true });
  // Layout also changes with no DOM mutation (a web font or a stylesheet arriving): place again.
  // The page is first described at DOMContentLoaded, when a style sheet may still be on its way
  // (nothing waits for one the page's scripts do not): then, once it is in, the whole page is
  // described again, as it may show or hide what the first description saw (a report goes only
  // if that changed anything).
  let stylesPending = false;
  window.addEventListener('load', () => {
    repositionSoon();
    if (!stylesPending) return;
    whole = true;
    schedule();
  });
  document.fonts?.addEventListener?.('loadingdone', repositionSoon);
  // pushState/replaceState leave no event in this isolated world; a cheap URL comparison catches them.
  setInterval(routed, 250);

  // This script is injected before the page is parsed, so that the page is first described as
  // DOMContentLoaded is dispatched, ahead of the first frame (as a script of the page's own would
  // be), not after it; changes are followed from then on, not the parser's every insertion.
  const start = () => {
    stylesPending = [...document.querySelectorAll('link[rel~="stylesheet" i]')].some((l) => !l.sheet && !l.disabled);
    watchChanges();
    report(true);
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
    // A stopped worker is started now, while the page loads, rather than by the first report: it
    // takes the port for no panel of this tab's and closes it.
    try { ext.runtime.connect({ name: 'wake' }); } catch { /* the extension is being reloaded */ }
  } else {
    start();
  }
})();
