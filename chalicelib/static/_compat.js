/*
 * reCAPTCHA's and Turnstile's browser APIs over the Workproof widget, served as
 * /recaptcha/api.js (the `grecaptcha` object) and /turnstile/v0/api.js (`turnstile`), bundled
 * after i18n.js, the miner and the widget. A page written for either changes only the script's
 * host (and its backend the verify URL's): see docs/captcha.md, "Switching from reCAPTCHA or Turnstile".
 *
 *   grecaptcha.render(container, params) -> id     turnstile.render(container, params) -> id
 *   grecaptcha.reset(id?), getResponse(id?),       turnstile.reset(id?), getResponse(id?),
 *   execute(id?), ready(fn)                        execute(id?), remove(id?), isExpired(id?),
 *                                                  ready(fn)
 *
 * params: sitekey, callback, 'expired-callback', 'error-callback' (functions or global names),
 * theme (light | dark | auto), size, action, cdata, language or hl, tabindex (accepted),
 * Turnstile's appearance, 'response-field' and 'response-field-name', and Workproof's hashes;
 * markup: class g-recaptcha or cf-turnstile with the same as data- attributes. Script URL
 * parameters: ?onload=fnName (called once the API is ready), render=explicit (no automatic
 * rendering), hl. The token goes into the form field g-recaptcha-response or
 * cf-turnstile-response inside the container, as theirs does.
 *
 * Work starts on the visitor's click, or on execute(): the page's explicit request, and the
 * work is always shown. A widget theirs keeps invisible (reCAPTCHA's size invisible,
 * Turnstile's appearance execute) is shown from execute() on. reCAPTCHA's button binding
 * (class g-recaptcha on a button) is started by the click on that button, which submits
 * nothing until the token is there: the widget appears next to the button, its progress
 * shown and announced, then the data-callback gets the token (or, without one, the form is
 * submitted with it). What is not served is named in the console (NOT_SERVED, reCAPTCHA v3).
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var script = doc.currentScript;
  var scriptUrl = script && script.src ? new URL(script.src, root.location.href) : null;
  // The flavor and the API's base from the URL the page wrote (currentScript.src stays it
  // after the redirect to /lib/'s hashed name), or from that hashed name, loaded directly.
  var FLAVORS = [
    { global: 'grecaptcha', path: /\/(recaptcha\/api|lib\/recaptcha\.[0-9a-f]{12})\.js$/, className: 'g-recaptcha',
      field: 'g-recaptcha-response', idOf: function (n) { return n; } },
    { global: 'turnstile', path: /\/(turnstile\/v0\/api|lib\/turnstile\.[0-9a-f]{12})\.js$/, className: 'cf-turnstile',
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
  var PASSED = ['sitekey', 'callback', 'expired-callback', 'error-callback', 'theme', 'hashes',
                'action', 'cdata', 'response-field-name'];
  // Their sizes -> the widget's (reCAPTCHA's invisible: shown from execute() on).
  var SIZES = {
    grecaptcha: { normal: 'normal', compact: 'compact', invisible: 'normal' },
    turnstile: { normal: 'turnstile', compact: 'compact', flexible: 'flexible' }
  }[flavor.global];
  // Their options that are not served, named in the console when a page sets them.
  var NOT_SERVED = {
    grecaptcha: {
      badge: 'there is no badge: the widget is shown where the page puts it',
      isolated: 'every widget is isolated already'
    },
    turnstile: {
      'refresh-expired': 'an expired token is cleared and the visitor starts again (as "manual")',
      'refresh-timeout': 'an unsolved widget never times out',
      retry: 'transient errors are always retried, failures wait for the visitor',
      'retry-interval': 'transient errors are retried after the server\'s Retry-After',
      'feedback-enabled': 'there is no feedback form',
      execution: 'work starts on the visitor\'s click or on execute(), never at render',
      'before-interactive-callback': 'every widget is interactive: the visitor starts it',
      'after-interactive-callback': 'every widget is interactive: the visitor starts it',
      'unsupported-callback': 'a browser without WebAssembly solves in JavaScript',
      'timeout-callback': 'an unsolved widget never times out'
    }
  }[flavor.global];
  var V3 = 'reCAPTCHA v3 (api.js?render=SITE_KEY, grecaptcha.execute(siteKey, {action})) is not ' +
           'served: proof of work needs a visible start. Use a reCAPTCHA v2 widget instead: a ' +
           'class="g-recaptcha" element (or a button bound with class="g-recaptcha" and ' +
           'data-callback), or grecaptcha.render() and grecaptcha.execute(widgetId).';
  var captcha = root.WorkProofCaptcha;
  var slots = [];  // {id, container, host, widget (WorkProofCaptcha's id), removed}
  var booted = false, waiting = [];

  function warn(message) { if (root.console) root.console.warn('Workproof (' + flavor.global + '): ' + message); }
  function complain(message) { if (root.console) root.console.error('Workproof (' + flavor.global + '): ' + message); }

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

  var warned = {};
  /** Names, once a page, each option of theirs the page sets that is not served. */
  function warnNotServed(container, params) {
    for (var name in NOT_SERVED) {
      if (warned[name] || (params[name] === undefined && !container.hasAttribute('data-' + name))) continue;
      warned[name] = true;
      warn('"' + name + '" is not served: ' + NOT_SERVED[name]);
    }
  }

  /** A param, else the container's data- attribute (null when neither). */
  function setting(container, params, name) {
    return params[name] !== undefined && params[name] !== null ? params[name] : container.getAttribute('data-' + name);
  }

  function optionsOf(container, params) {
    var options = { api: API, 'response-field': flavor.field };
    for (var i = 0; i < PASSED.length; i++) {
      var value = setting(container, params, PASSED[i]);
      if (value !== undefined && value !== null) options[PASSED[i]] = value;
    }
    if (String(setting(container, params, 'response-field')) === 'false') options['response-field'] = 'false';
    var size = setting(container, params, 'size') || 'normal';
    if (!SIZES[size]) warn('size "' + size + '" is not served: the ' + flavor.global + ' normal size is used');
    options.size = SIZES[size] || SIZES.normal;
    var lang = params.language || params.hl || container.getAttribute('data-language');
    if (lang && lang !== 'auto') options.lang = lang;
    return options;
  }

  /** reCAPTCHA's "bind the challenge to a button": class g-recaptcha on a button. */
  function isButton(el) {
    var tag = el.tagName;
    return flavor.global === 'grecaptcha' &&
      (tag === 'BUTTON' || (tag === 'INPUT' && /^(submit|button|image)$/i.test(el.type)));
  }

  /** Shown only from execute() on: their invisible widgets (work is never hidden). */
  function shownOnExecute(container, params) {
    return setting(container, params, 'size') === 'invisible' ||
      setting(container, params, 'appearance') === 'execute';
  }

  function stateOf(entry) { return entry.host.getAttribute('data-workproof-state'); }

  /** Starts the work of a slot, showing it first when it was kept out of sight. */
  function start(entry) {
    if (entry.panel) entry.panel.hidden = false;
    captcha.execute(entry.widget);
  }

  /** The form submitted as its button would have, the token in it (no data-callback). */
  function submitWith(button) {
    var form = button.form;
    if (!form) return;
    if (typeof form.requestSubmit !== 'function') { form.submit(); return; }
    if (button.type === 'submit' || button.type === 'image') form.requestSubmit(button);
    else form.requestSubmit();
  }

  /** The bound button's click is the visitor's start: no submit until the token is there. */
  function bindButton(entry) {
    entry.container.addEventListener('click', function (event) {
      event.preventDefault();
      var state = stateOf(entry);
      if (entry.removed || state === 'working' || state === 'paused') return;
      if (state === 'solved') captcha.reset(entry.widget);  // each click a new challenge, as theirs
      start(entry);
    });
  }

  /** Renders the widget into a new element inside `container` (or, for a bound button, next
   * to it); returns its id. */
  function render(container, params) {
    var el = elementOf(container);
    if (!el) throw new Error('Workproof (' + flavor.global + '): no element ' + container);
    var existing = slotOf(el);
    if (existing) { warn('a widget is already rendered in this element'); return existing.id; }
    params = params || {};
    warnNotServed(el, params);
    var bound = isButton(el);
    var options = optionsOf(el, params);
    var host = doc.createElement('div');
    var panel = null;
    if (bound || shownOnExecute(el, params)) {
      // Out of sight until its start; the panel, not the widget's host, carries `hidden`.
      panel = doc.createElement('div');
      panel.hidden = true;
      panel.className = 'workproof-panel';
      panel.appendChild(host);
      if (bound) el.insertAdjacentElement('afterend', panel); else el.appendChild(panel);
    } else {
      el.appendChild(host);
    }
    if (bound && !options.callback) options.callback = function () { submitWith(el); };
    var widget;
    try {
      widget = captcha.render(host, options);
    } catch (err) {
      (panel || host).parentNode.removeChild(panel || host);
      throw err;
    }
    var entry = { id: flavor.idOf(slots.length), container: el, host: host, panel: panel,
                  widget: widget, removed: false };
    slots.push(entry);
    if (bound) bindButton(entry);
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
    var outer = entry.panel || entry.host;
    if (outer.parentNode) outer.parentNode.removeChild(outer);
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
      if (!entry && flavor.global === 'grecaptcha' && typeof ref === 'string' && !elementOf(ref)) {
        // grecaptcha.execute(siteKey, {action}): reCAPTCHA v3's call, answered as v3 would fail.
        complain(V3);
        return Promise.reject(new Error('Workproof (grecaptcha): ' + V3));
      }
      start(entry || slot(ref));
    },
    ready: ready,
    workproof: true
  };
  if (flavor.global === 'turnstile') {
    api.remove = remove;
    api.isExpired = function (ref) { return captcha.isExpired(slot(ref).widget); };
  }
  root[flavor.global] = api;

  // reCAPTCHA v3's script URL: api.js?render=SITE_KEY.
  var renderParam = SCRIPT_PARAMS.get('render');
  if (flavor.global === 'grecaptcha' && renderParam && renderParam !== 'explicit' && renderParam !== 'onload') {
    complain(V3);
  }

  function boot() {
    if (!renderParam || renderParam === 'onload') renderAll();  // theirs: explicit, or a v3 key
    booted = true;
    var onload = SCRIPT_PARAMS.get('onload');
    if (onload && typeof root[onload] === 'function') root[onload]();
    while (waiting.length) waiting.shift()();
  }
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', boot);
  else boot();
})(window);
