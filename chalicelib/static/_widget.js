/*
 * Workproof captcha widget (served as /lib/captcha.js, bundled after i18n.js and the miner).
 *
 *   <form action="/login" method="post">
 *     <div class="workproof-captcha" data-key="SITE_KEY" data-hashes="4194304"
 *          data-callback="onVerified" data-response-field="g-recaptcha-response"></div>
 *     <button type="submit">Log in</button>
 *   </form>
 *   <script src="https://API/lib/captcha.js" async></script>
 *
 * Nothing is computed until the visitor clicks the box (anywhere in it) or presses Enter or
 * Space on its button. Then the browser solves `data-hashes` hashes of proof-of-work for a new
 * token, shows progress, puts the token into the form field the backend expects and calls the
 * callback. The backend checks it once: POST /siteverify (secret, response) in the
 * reCAPTCHA / hCaptcha / Turnstile shape, or Coinhive's POST /token/verify (secret, token, hashes).
 *
 * Attributes (each also an option of render(), without "data-"):
 *   data-key | data-sitekey   site key (required)
 *   data-hashes               work to solve (default 4194304)
 *   data-response-field       coinhive-captcha-token (default), g-recaptcha-response,
 *                             h-captcha-response or cf-turnstile-response; "false": no
 *                             field, the token only through the callback (Turnstile's)
 *   data-response-field-name  the field's name when it is none of those (Turnstile's)
 *   data-action, data-cdata   Turnstile's label, stored with the token (at most 32 and 255
 *                             characters of [A-Za-z0-9_-]) and answered by /siteverify
 *   data-size                 normal (304 wide), compact (150 x 140), flexible (100 %,
 *                             at least 300 wide) or turnstile (Turnstile's normal, 300 x 65)
 *   data-callback             called with the token when solved
 *   data-expired-callback     called when the token expired unused (after 55 minutes)
 *   data-error-callback       called with the error code when solving failed
 *                             (callbacks: a function as an option, a global function's name as
 *                             an attribute, as reCAPTCHA does)
 *   data-lang | data-hl       forces a language (default: the browser's languages)
 *   data-theme                light | dark | auto (default)
 *   data-disable-elements     CSS selector of elements disabled until solved
 *   data-whitelabel           "true" hides the "by Workproof" line
 *   data-threads, data-engine, data-api   solver threads, engine, API base
 * Old markup with class "coinhive-captcha" works too.
 *
 * JavaScript API, in the shape of reCAPTCHA's:
 *   WorkProofCaptcha.render(elementOrId, options) -> widget id (0, 1, ...)
 *   WorkProofCaptcha.reset(id)          back to the start, token cleared
 *   WorkProofCaptcha.getResponse(id)    the token, or "" until solved
 *   WorkProofCaptcha.isExpired(id)      true once a token expired unused (until the next one)
 * (id defaults to the first widget). Load with ?render=explicit to render only through
 * render(), and ?onload=fnName to have fnName() called once the API is ready; ?hl=xx sets
 * every widget's default language. The host element carries data-workproof-state
 * (idle | working | paused | solved | failed) for the page's own styling, and after a failure
 * data-workproof-error with the error code (the visitor reads words; the code is for developers,
 * also written to the console). While it works, a Pause / Resume button lets the visitor stop it.
 */
(function (root) {
  'use strict';
  if (root.WorkProofCaptcha) return;

  var doc = root.document;
  var script = doc.currentScript;
  var scriptUrl = script && script.src ? new URL(script.src, root.location.href) : null;
  var API = scriptUrl ? scriptUrl.origin + scriptUrl.pathname.replace(/\/lib\/[^/]*$/, '') : '';
  var SCRIPT_PARAMS = scriptUrl ? scriptUrl.searchParams : new URLSearchParams('');
  var DEFAULT_HASHES = 4194304;
  var FIELDS = ['coinhive-captcha-token', 'g-recaptcha-response', 'h-captcha-response', 'cf-turnstile-response'];
  var TOKEN_LIFETIME_MS = 55 * 60 * 1000;  // the server keeps tokens for one hour
  // Errors the miner recovers from by itself (it retries them; `busy` after its Retry-After).
  var TRANSIENT = { connection_error: true, invalid_share: true, busy: true };
  // Errors only the site's owner can fix: the visitor is told so, not to try again.
  var SITE_ERRORS = { invalid_site: true, not_configured: true, bad_request: true, missing_input: true,
                      not_found: true, wrong_method: true };
  var widgets = [];
  // Published test site keys: no work and no call to the API; the token is a dummy that
  // only the test secrets accept. Turnstile's pass or fail as soon as they are rendered, as
  // theirs do without a visitor's action, but for 3x..FF (an interactive challenge: a click);
  // reCAPTCHA's waits for the click on its checkbox, as Google's does.
  var TEST_SITE_KEYS = {
    '1x00000000000000000000AA': { pass: true, click: false },   // visible, passes
    '2x00000000000000000000AB': { pass: false, click: false },  // visible, fails
    '1x00000000000000000000BB': { pass: true, click: false },   // invisible, passes
    '2x00000000000000000000BB': { pass: false, click: false },  // invisible, fails
    '3x00000000000000000000FF': { pass: true, click: true },    // forces an interaction
    '6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI': { pass: true, click: true }
  };
  // Box sizes (data-size): Workproof's own, and Turnstile's documented ones.
  var SIZES = { normal: true, compact: true, flexible: true, turnstile: true };
  var TEST_TOKEN = 'XXXX.DUMMY.TOKEN.XXXX';

  var CSS =
    ':host{all:initial;display:inline-block}' +
    '.box{--bg:#f9f9f9;--fg:#1b1b1b;--mut:#555;--bd:#767676;--acc:#0b57d0;--ok:#1a7f37;--bad:#b3261e;--bar:#e4e4e4;' +
    'box-sizing:border-box;width:304px;max-width:100%;min-height:78px;padding:12px 14px;border:1px solid var(--bd);' +
    'border-radius:6px;background:var(--bg);color:var(--fg);font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
    'display:flex;flex-direction:column;gap:8px;text-align:start}' +
    '.dark{--bg:#222;--fg:#eee;--mut:#bbb;--bd:#8f8f8f;--acc:#8ab4f8;--ok:#6dd58c;--bad:#f2b8b5;--bar:#444}' +
    '@media (prefers-color-scheme:dark){.auto{--bg:#222;--fg:#eee;--mut:#bbb;--bd:#8f8f8f;--acc:#8ab4f8;--ok:#6dd58c;--bad:#f2b8b5;--bar:#444}}' +
    '.idle,.failed{cursor:pointer}' +
    '.top{display:flex;align-items:center;gap:8px}' +
    'button{all:unset;box-sizing:border-box;display:flex;min-height:28px;align-items:center;gap:10px;' +
    'border-radius:4px;padding:2px 4px;color:var(--fg);font-weight:600}' +
    '.verify{flex:1 1 auto;min-width:0}' +
    '.pause{flex:none;white-space:nowrap;padding:2px 10px;border:1px solid var(--bd);font-size:12px;font-weight:400;cursor:pointer}' +
    '.pause[hidden]{display:none}' +
    'button:focus-visible{outline:2px solid var(--acc);outline-offset:2px}' +
    '.chk{width:22px;height:22px;flex:none;box-sizing:border-box;border:2px solid var(--mut);border-radius:4px;position:relative}' +
    '.working .chk{border-color:var(--acc);border-inline-end-color:transparent;border-radius:50%;animation:spin 1s linear infinite}' +
    '.solved .chk{border-color:var(--ok);background:var(--ok)}' +
    '.solved .chk::after{content:"";position:absolute;left:6px;top:1px;width:6px;height:12px;border:solid var(--bg);border-width:0 3px 3px 0;transform:rotate(45deg)}' +
    '.paused .chk{border-style:dashed}' +
    '.failed .chk{border-color:var(--bad)}' +
    '@keyframes spin{to{transform:rotate(360deg)}}' +
    '@media (prefers-reduced-motion:reduce){.working .chk{animation:none}}' +
    '.bar{height:6px;border-radius:3px;background:var(--bar);overflow:hidden}' +
    '.fill{height:100%;width:0;background:var(--acc);transition:width .2s}' +
    '@media (prefers-reduced-motion:reduce){.fill{transition:none}}' +
    '.solved .fill{background:var(--ok);transition:none}' +
    // Two lines kept for the status in every state, so the box never changes height (nor moves
    // what follows it); a longer status is cut at two lines, whole in its title and announced.
    '.row{display:flex;justify-content:space-between;align-items:flex-start;gap:8px;font-size:12px;color:var(--mut);' +
    'min-height:2.7em}' +
    '.status{flex:1 1 auto;min-width:0;overflow:hidden;display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2}' +
    '.failed .status{color:var(--bad)}' +
    '.brand{flex:none;font-size:11px;white-space:nowrap}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    // Turnstile's sizes: 300 x 65 (its normal), 150 x 140 (compact), 100 % from 300 wide (flexible).
    ':host([data-workproof-size=flexible]){display:block;min-width:300px}' +
    '.turnstile,.flexible{height:65px;min-height:0;padding:5px 10px;gap:3px}' +
    '.turnstile{width:300px}.flexible{width:100%;min-width:300px;max-width:none}' +
    '.turnstile .row,.flexible .row{min-height:1.35em}' +
    '.turnstile .status,.flexible .status{-webkit-line-clamp:1}' +
    '.turnstile button,.flexible button{min-height:24px}' +
    '.compact{width:150px;height:140px;min-height:0;padding:8px 10px;overflow:hidden}' +
    '.compact .top{flex-wrap:wrap;gap:4px}.compact .row{flex-direction:column;gap:2px}';

  function camel(name) {
    return name.replace(/-([a-z])/g, function (m, c) { return c.toUpperCase(); });
  }

  /** An option: render()'s options win over the element's data- attributes. */
  function option(options, el, name) {
    var keys = [name, camel(name)];
    for (var i = 0; i < keys.length; i++) {
      if (options[keys[i]] !== undefined && options[keys[i]] !== null) return options[keys[i]];
    }
    var value = el.getAttribute('data-' + name);
    return value === null ? undefined : value;
  }

  /** A callback: a function, or the name of a global function (reCAPTCHA's data- style). */
  function callbackOf(value) {
    if (typeof value === 'function') return value;
    if (typeof value === 'string' && value && typeof root[value] === 'function') return root[value];
    return null;
  }

  function call(fn, arg) {
    if (!fn) return;
    try { fn(arg); } catch (err) { setTimeout(function () { throw err; }, 0); }
  }

  /** Styles a shadow root with a constructed stylesheet (allowed by CSP style-src 'self'). */
  function adoptStyle(shadow, css) {
    if (root.WorkProof && root.WorkProof.adoptStyle) { root.WorkProof.adoptStyle(shadow, css); return; }
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    shadow.adoptedStyleSheets = [sheet];
  }

  function make(tag, className) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    return node;
  }

  function Widget(el, options) {
    var self = this;
    this.el = el;
    this.siteKey = String(option(options, el, 'sitekey') || option(options, el, 'key') || '');
    if (!this.siteKey) throw new Error('Workproof captcha: missing site key (data-key or the sitekey option)');
    this.hashes = Math.floor(Number(option(options, el, 'hashes'))) || DEFAULT_HASHES;
    this.api = String(option(options, el, 'api') || API).replace(/\/+$/, '');
    this.threads = option(options, el, 'threads');
    this.engine = option(options, el, 'engine');
    this.disableSelector = option(options, el, 'disable-elements');
    this.onSolved = callbackOf(option(options, el, 'callback'));
    this.onExpired = callbackOf(option(options, el, 'expired-callback'));
    this.onError = callbackOf(option(options, el, 'error-callback'));
    this.action = String(option(options, el, 'action') || '');
    this.cdata = String(option(options, el, 'cdata') || '');
    var field = option(options, el, 'response-field');
    var named = option(options, el, 'response-field-name');
    var noField = String(field) === 'false';
    if (field && !noField && FIELDS.indexOf(field) < 0) {
      if (root.console) root.console.warn('Workproof captcha: unknown data-response-field ' + field);
      field = null;
    }
    this.field = named ? String(named) : noField ? '' : field || FIELDS[0];
    var size = String(option(options, el, 'size') || 'normal');
    this.size = SIZES[size] ? size : 'normal';
    el.setAttribute('data-workproof-size', this.size);
    this.loc = root.WorkProof.locale(option(options, el, 'lang') || option(options, el, 'hl') ||
                                      SCRIPT_PARAMS.get('hl') || undefined);
    var theme = option(options, el, 'theme');
    this.theme = theme === 'dark' ? 'dark' : theme === 'light' ? 'light' : 'auto';
    this.whitelabel = String(option(options, el, 'whitelabel')) === 'true';

    // The field a backend reads: a hidden input in the widget's element, so it is posted
    // with the form that holds the widget (reCAPTCHA keeps its textarea there too); none
    // with response-field "false" (the token reaches the page through its callback).
    this.token = '';
    this.expired = false;
    this.input = null;
    if (this.field) {
      this.input = doc.createElement('input');
      this.input.type = 'hidden';
      this.input.name = this.field;
      this.input.value = '';
      el.appendChild(this.input);
    }

    this._build();
    this.state = '';
    this.miner = null;
    this.quarter = 0;
    this.expiry = null;
    this.busyTimer = null;
    this.box.addEventListener('click', function (e) { if (e.target !== self.pauseBtn) self.begin(); });
    this.pauseBtn.addEventListener('click', function () { self.togglePause(); });
    this._setState('idle', this.loc.text('idleHint'));
    this._disableTargets(true);
  }

  Widget.prototype._build = function () {
    var loc = this.loc;
    var shadow = this.el.attachShadow({ mode: 'closed' });
    adoptStyle(shadow, CSS);
    var box = this.box = make('div', 'box');
    box.dir = loc.dir;
    box.lang = loc.code;
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', loc.text('captchaLabel'));
    var btn = this.btn = make('button', 'verify');
    btn.type = 'button';
    var chk = make('span', 'chk');
    chk.setAttribute('aria-hidden', 'true');
    this.label = make('span', 'label');
    btn.appendChild(chk); btn.appendChild(this.label);
    var top = make('div', 'top');
    top.appendChild(btn);
    // The visitor's own pause while the work runs (keyboard: Tab to it, Enter or Space).
    var pause = this.pauseBtn = make('button', 'pause');
    pause.type = 'button';
    pause.hidden = true;
    pause.textContent = loc.text('pause');
    top.appendChild(pause);
    // The bar's value moves by quarters only, like the announcements; the fill every step.
    var bar = this.bar = make('div', 'bar');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-label', loc.text('progressLabel'));
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    bar.setAttribute('aria-valuenow', '0');
    bar.setAttribute('aria-valuetext', loc.percent(0));
    this.fill = make('div', 'fill');
    bar.appendChild(this.fill);
    var row = make('div', 'row');
    this.status = make('span', 'status');
    row.appendChild(this.status);
    if (!this.whitelabel) {
      var brand = make('span', 'brand');
      brand.textContent = loc.text('by');
      row.appendChild(brand);
    }
    // What screen readers hear: state changes and each quarter of the progress, no more.
    this.live = make('span', 'sr');
    this.live.setAttribute('role', 'status');
    box.appendChild(top); box.appendChild(bar); box.appendChild(row); box.appendChild(this.live);
    shadow.appendChild(box);
  };

  /** idle | working | paused | solved | failed: label, status line, announcement. */
  Widget.prototype._setState = function (state, status, announce) {
    var loc = this.loc;
    this.state = state;
    this.box.className = 'box ' + this.theme + ' ' + this.size + ' ' + state;
    this.el.setAttribute('data-workproof-state', state);
    this.label.textContent = loc.text({ idle: 'verify', working: 'verifying', paused: 'paused',
                                        solved: 'verified', failed: 'retry' }[state]);
    this.status.textContent = status || '';
    this.status.title = status || '';
    var running = state === 'working' || state === 'paused';
    this.pauseBtn.hidden = !running;
    this.pauseBtn.textContent = loc.text(running && this.miner && this.miner.isPaused() ? 'resume' : 'pause');
    // Only idle and failed start work; the button stays focusable meanwhile.
    this.btn.setAttribute('aria-disabled', state === 'idle' || state === 'failed' ? 'false' : 'true');
    if (announce) this.live.textContent = announce;
  };

  /** The server is busy: "Busy — retrying in N s", counted down, until the miner goes on. */
  Widget.prototype._busy = function (ms) {
    var self = this, until = Date.now() + (Number(ms) || 0);
    clearInterval(this.busyTimer);
    function show() {
      var left = until - Date.now();
      if (self.state !== 'working' || left <= 0) { clearInterval(self.busyTimer); self.busyTimer = null; }
      if (self.state === 'working') {
        self.status.textContent = left > 0 ? root.WorkProof.busyText(self.loc, left) : self.loc.text('verifying');
      }
    }
    this.busyTimer = setInterval(show, 1000);
    show();
    if (this.state === 'working') this.live.textContent = this.status.textContent;
  };

  Widget.prototype._progress = function (fraction) {
    clearInterval(this.busyTimer);
    this.busyTimer = null;
    fraction = Math.max(0, Math.min(1, fraction));
    this.fill.style.width = (fraction * 100).toFixed(1) + '%';
    var quarter = Math.floor(fraction * 4);
    var loc = this.loc;
    if (quarter !== this.quarter || !this.bar.hasAttribute('aria-valuenow')) {
      var grew = quarter > this.quarter;
      this.quarter = quarter;
      this.bar.setAttribute('aria-valuenow', String(quarter * 25));
      this.bar.setAttribute('aria-valuetext', loc.percent(quarter / 4));
      if (grew && quarter < 4) this.live.textContent = loc.text('progressAnnounce', { pct: loc.percent(quarter / 4) });
    }
    if (this.state === 'working') this.status.textContent = loc.text('progressAnnounce', { pct: loc.percent(fraction) });
  };

  Widget.prototype._disableTargets = function (disabled) {
    if (!this.disableSelector) return;
    var list;
    try { list = doc.querySelectorAll(this.disableSelector); } catch (e) { return; }
    for (var i = 0; i < list.length; i++) list[i].disabled = disabled;
  };

  /** Starts the work: only from the visitor's click or key press (or a failed attempt). */
  Widget.prototype.begin = function () {
    if (this.state !== 'idle' && this.state !== 'failed') return;
    var self = this, loc = this.loc;
    this.quarter = 0;
    this.bar.removeAttribute('aria-valuenow');
    this.el.removeAttribute('data-workproof-error');
    this._setState('working', '', loc.text('verifying'));
    this._progress(0);
    if (TEST_SITE_KEYS.hasOwnProperty(this.siteKey)) {
      setTimeout(function () {
        if (self.state !== 'working') return;
        if (TEST_SITE_KEYS[self.siteKey].pass) self._solved(TEST_TOKEN);
        else self._fail('test_site_key');
      }, 0);
      return;
    }
    var opts = { api: this.api, indicator: this.el, language: loc.code, action: this.action,
                 cdata: this.cdata };
    if (this.threads) opts.threads = Number(this.threads);
    if (this.engine) opts.engine = this.engine;
    var miner = this.miner = new root.WorkProof.Token(this.siteKey, this.hashes, opts);
    miner.on('progress', function (e) { if (miner === self.miner) self._progress(e.progress); });
    miner.on('pause', function (e) {
      if (miner !== self.miner || self.state !== 'working') return;
      var why = loc.text(e.reason === 'user' ? 'paused' : e.reason === 'hidden' ? 'pausedHidden' : 'pausedOffscreen');
      self._setState('paused', why, why);
    });
    miner.on('resume', function () {
      if (miner !== self.miner || self.state !== 'paused') return;
      self._setState('working', '', loc.text('verifying'));
      self._progress(self.quarter / 4);
      if (miner.busyUntil > Date.now()) self._busy(miner.busyUntil - Date.now());
    });
    miner.on('error', function (e) {
      if (miner !== self.miner) return;
      if (e.error === 'busy') self._busy(e.retryIn);
      else if (!TRANSIENT[e.error]) self._fail(e.error);
    });
    miner.on('done', function (e) { if (miner === self.miner) self._solved(e.token); });
    miner.start();
  };

  /** The visitor's Pause / Resume while the work runs. */
  Widget.prototype.togglePause = function () {
    var miner = this.miner;
    if (!miner || (this.state !== 'working' && this.state !== 'paused')) return;
    if (miner.isPaused()) miner.resume(); else miner.pause();
    this.pauseBtn.textContent = this.loc.text(miner.isPaused() ? 'resume' : 'pause');
  };

  Widget.prototype._fail = function (code) {
    var loc = this.loc;
    this._stopMiner();
    if (code) {
      this.el.setAttribute('data-workproof-error', code);
      if (root.console) root.console.warn('Workproof captcha: ' + code);
    }
    var text = loc.text(SITE_ERRORS[code] ? 'failedSite' : 'failed');
    this._setState('failed', text, text);
    call(this.onError, code);
  };

  Widget.prototype._solved = function (token) {
    var self = this, loc = this.loc;
    this.miner = null;
    this._progress(1);
    this.token = token;
    this.expired = false;
    if (this.input) this.input.value = token;
    this._setState('solved', loc.text('verified'), loc.text('verified'));
    this._disableTargets(false);
    // Tokens live one hour: clear this one and offer a fresh verification before it expires.
    this.expiry = setTimeout(function () { self._expire(); }, TOKEN_LIFETIME_MS);
    call(this.onSolved, token);
    this.el.dispatchEvent(new CustomEvent('workproof-verified', { bubbles: true, detail: { token: token } }));
  };

  Widget.prototype._expire = function () {
    var loc = this.loc;
    this.reset();
    this.expired = true;
    this._setState('idle', loc.text('expired'), loc.text('expired'));
    call(this.onExpired);
  };

  Widget.prototype._stopMiner = function () {
    clearInterval(this.busyTimer);
    this.busyTimer = null;
    if (this.miner) { var m = this.miner; this.miner = null; m.stop(); }
  };

  Widget.prototype.reset = function () {
    clearTimeout(this.expiry);
    this._stopMiner();
    this.token = '';
    this.expired = false;
    if (this.input) this.input.value = '';
    this.quarter = 0;
    this.el.removeAttribute('data-workproof-error');
    this.fill.style.width = '0%';
    this.bar.setAttribute('aria-valuenow', '0');
    this.bar.setAttribute('aria-valuetext', this.loc.percent(0));
    this._setState('idle', this.loc.text('idleHint'));
    this._disableTargets(true);
  };

  function element(ref) {
    var el = typeof ref === 'string' ? doc.getElementById(ref) : ref;
    if (!el || el.nodeType !== 1) throw new Error('Workproof captcha: no element ' + ref);
    return el;
  }

  function widget(id) {
    var w = widgets[id === undefined || id === null ? 0 : id];
    if (!w) throw new Error('Workproof captcha: no widget ' + id);
    return w;
  }

  /** Renders a widget into an element (or its id); returns the widget id. Idempotent. */
  function render(ref, options) {
    var el = element(ref);
    for (var i = 0; i < widgets.length; i++) if (widgets[i].el === el) return i;
    var made = new Widget(el, options || {});
    widgets.push(made);
    var test = TEST_SITE_KEYS[made.siteKey];
    if (test && !test.click) made.begin();  // no work to consent to: resolves as theirs does
    return widgets.length - 1;
  }

  function renderAll() {
    var list = doc.querySelectorAll('.workproof-captcha, .coinhive-captcha');
    for (var i = 0; i < list.length; i++) {
      try { render(list[i]); } catch (err) { if (root.console) root.console.error(err.message); }
    }
  }

  root.WorkProofCaptcha = {
    render: render,
    reset: function (id) { widget(id).reset(); },
    getResponse: function (id) { return widget(id).token; },
    isExpired: function (id) { return widget(id).expired; },
    // The page's explicit request to start (reCAPTCHA's and Turnstile's execute()).
    execute: function (id) { widget(id).begin(); },
    renderAll: renderAll,
    FIELD: FIELDS[0],
    FIELDS: FIELDS.slice()
  };

  function ready() {
    if (SCRIPT_PARAMS.get('render') !== 'explicit') renderAll();
    call(callbackOf(SCRIPT_PARAMS.get('onload')));
  }
  // Bundled behind /recaptcha/api.js or /turnstile/v0/api.js, _compat.js boots instead
  // (their markup, their onload): only /lib/ scripts render .workproof-captcha by themselves.
  if (scriptUrl && !/\/lib\/[^/]*$/.test(scriptUrl.pathname)) return;
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', ready);
  else ready();
})(window);
