/*
 * reCAPTCHA's and Turnstile's browser APIs over the Workproof widget, served as
 * /recaptcha/api.js (the `grecaptcha` object) and /turnstile/v0/api.js (`turnstile`), bundled
 * after i18n.js, the miner and the widget. A page written for either changes only the script's
 * host (and its backend the verify URL's): see docs/captcha.md, "Switching from reCAPTCHA or Turnstile".
 *
 *   grecaptcha.render(container, params) -> id     turnstile.render(container, params) -> id
 *   grecaptcha.reset(id?), getResponse(id?),       turnstile.reset(id?), getResponse(id?),
 *   execute(id?), ready(fn)                        execute(id?), remove(id?), ready(fn)
 *
 * params: sitekey, callback, 'expired-callback', 'error-callback' (functions or global names),
 * theme (light | dark | auto), size and tabindex (accepted; the widget is always visible, as
 * consent requires), language or hl, and Workproof's hashes. Markup: class g-recaptcha or
 * cf-turnstile with data-sitekey, data-callback, data-expired-callback, data-error-callback,
 * data-theme, data-hashes. Script URL parameters: ?onload=fnName (called once the API is
 * ready), render=explicit (no automatic rendering), hl. The token goes into the form field
 * g-recaptcha-response or cf-turnstile-response inside the container, as theirs does.
 * Work starts on the visitor's click, or on execute(): the page's explicit request.
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var script = doc.currentScript;
  var scriptUrl = script && script.src ? new URL(script.src, root.location.href) : null;
  var FLAVORS = [
    { global: 'grecaptcha', path: /\/recaptcha\/api\.js$/, className: 'g-recaptcha',
      field: 'g-recaptcha-response', idOf: function (n) { return n; } },
    { global: 'turnstile', path: /\/turnstile\/v0\/api\.js$/, className: 'cf-turnstile',
      field: 'cf-turnstile-response', idOf: function (n) { return 'workproof-' + n; } }
  ];
  var flavor = FLAVORS[0];
  for (var f = 0; f < FLAVORS.length; f++) {
    if (scriptUrl && FLAVORS[f].path.test(scriptUrl.pathname)) flavor = FLAVORS[f];
  }
  if (root[flavor.global] && root[flavor.global].workproof) return;  // loaded twice

  var API = scriptUrl ? scriptUrl.origin + scriptUrl.pathname.replace(flavor.path, '') : '';
  var SCRIPT_PARAMS = scriptUrl ? scriptUrl.searchParams : new URLSearchParams('');
  // Their params (and data- attributes) the widget takes as they are.
  var PASSED = ['sitekey', 'callback', 'expired-callback', 'error-callback', 'theme', 'hashes'];
  var captcha = root.WorkProofCaptcha;
  var slots = [];  // {id, container, host, widget (WorkProofCaptcha's id), removed}
  var booted = false, waiting = [];

  function warn(message) { if (root.console) root.console.warn('Workproof (' + flavor.global + '): ' + message); }

  /** An element, an element's id, or (Turnstile) a CSS selector. */
  function elementOf(ref) {
    if (ref && ref.nodeType === 1) return ref;
    if (typeof ref !== 'string' || !ref) return null;
    var el = doc.getElementById(ref.charAt(0) === '#' ? ref.slice(1) : ref);
    if (el) return el;
    try { return doc.querySelector(ref); } catch (e) { return null; }
  }

  /** The slot a widget id, a container (element, id or selector) or nothing (the first) names. */
  function slotOf(ref) {
    var i;
    for (i = 0; i < slots.length; i++) {
      if (slots[i].removed) continue;
      if (ref === undefined || ref === null || ref === slots[i].id) return slots[i];
    }
    var el = elementOf(ref);
    for (i = 0; el && i < slots.length; i++) {
      if (!slots[i].removed && (slots[i].container === el || slots[i].host === el)) return slots[i];
    }
    return null;
  }

  function slot(ref) {
    var found = slotOf(ref);
    if (!found) throw new Error('Workproof (' + flavor.global + '): no widget ' + ref);
    return found;
  }

  function optionsOf(container, params) {
    var options = { api: API, 'response-field': flavor.field };
    for (var i = 0; i < PASSED.length; i++) {
      var name = PASSED[i];
      var value = params[name] !== undefined ? params[name] : container.getAttribute('data-' + name);
      if (value !== undefined && value !== null) options[name] = value;
    }
    var lang = params.language || params.hl || container.getAttribute('data-language');
    if (lang && lang !== 'auto') options.lang = lang;
    return options;
  }

  /** Renders the widget into a new element inside `container`; returns its id. */
  function render(container, params) {
    var el = elementOf(container);
    if (!el) throw new Error('Workproof (' + flavor.global + '): no element ' + container);
    var existing = slotOf(el);
    if (existing) { warn('a widget is already rendered in this element'); return existing.id; }
    var host = doc.createElement('div');
    el.appendChild(host);
    var widget;
    try {
      widget = captcha.render(host, optionsOf(el, params || {}));
    } catch (err) {
      el.removeChild(host);
      throw err;
    }
    var entry = { id: flavor.idOf(slots.length), container: el, host: host, widget: widget, removed: false };
    slots.push(entry);
    return entry.id;
  }

  function renderAll() {
    var list = doc.getElementsByClassName(flavor.className);
    for (var i = 0; i < list.length; i++) {
      if (slotOf(list[i])) continue;
      try { render(list[i], {}); } catch (err) { if (root.console) root.console.error(err.message); }
    }
  }

  function remove(ref) {
    var entry = slot(ref);
    captcha.reset(entry.widget);  // stops its work and its expiry timer
    entry.removed = true;
    if (entry.host.parentNode) entry.host.parentNode.removeChild(entry.host);
  }

  /** Calls fn once the API is ready (after automatic rendering), at once if it is. */
  function ready(fn) {
    if (typeof fn !== 'function') return;
    if (booted) fn(); else waiting.push(fn);
  }

  var api = {
    render: render,
    reset: function (ref) { captcha.reset(slot(ref).widget); },
    getResponse: function (ref) { return captcha.getResponse(slot(ref).widget); },
    execute: function (ref, params) {
      // Turnstile: execute(container, params) renders first when needed.
      var entry = slotOf(ref);
      if (!entry && flavor.global === 'turnstile' && elementOf(ref)) entry = slot(render(ref, params));
      captcha.execute(slot(entry ? entry.id : ref).widget);
    },
    ready: ready,
    workproof: true
  };
  if (flavor.global === 'turnstile') api.remove = remove;
  root[flavor.global] = api;

  function boot() {
    if (SCRIPT_PARAMS.get('render') !== 'explicit') renderAll();
    booted = true;
    var onload = SCRIPT_PARAMS.get('onload');
    if (onload && typeof root[onload] === 'function') root[onload]();
    while (waiting.length) waiting.shift()();
  }
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', boot);
  else boot();
})(window);
