/*
 * Workproof browser library: visible, consent-first SHA-256 proof-of-work miners
 * for the Workproof API (a self-hosted Coinhive HTTP API).
 *
 *   var miner = new WorkProof.User(siteKey, 'alice', {threads: 2, throttle: 0.2});
 *   miner.on('accepted', function (e) { console.log(e.hashes, e.total); });
 *   miner.start();
 *
 * Miners: WorkProof.User(siteKey, name, opts), WorkProof.Token(siteKey, targetHashes, opts),
 * WorkProof.Anonymous(siteKey, opts) and WorkProof.Link(siteKey, code, opts) (shortlink pages).
 * Methods: start(), stop(), isRunning(), getHashesPerSecond(), getTotalHashes(),
 * getAcceptedHashes(), getToken(), setThrottle(x), getThrottle(), setNumThreads(n),
 * getNumThreads(), pause(), resume(), isPaused(), didOptOut(seconds), on(event, fn), off(event, fn).
 * Events: open, authed, close, error, job, found, accepted, progress, pause, resume,
 * done (a Token reached its target), redirect (a Link visit is complete) and optin
 * ({status: 'accepted' | 'canceled'}, with opts.optIn). Errors the miner retries by itself:
 * connection_error ({retryIn: ms}), invalid_share and busy (the server is over a limit:
 * {retryAfter: seconds, retryIn: ms}; the same request goes again after Retry-After, and the
 * badge says so meanwhile); any other error stops it.
 * Options: threads (default hardware concurrency), throttle (0..0.99, share of time idle),
 * api (API base URL; default: where this script was loaded from), difficulty (user miners:
 * work per puzzle wished), indicator (an element that shows the work, else a badge),
 * engine ('auto' | 'js' | 'wasm-simd'; forceASMJS: true = 'js'), language (the badge's language:
 * a tag or 'auto' = the browser's), optIn (the badge asks Allow / Cancel before any work, as
 * AuthedMine did; coinhive.min.js's compatibility layer sets it for authedmine.min.js).
 *
 * Consent rules enforced here: nothing is requested and no worker exists before start();
 * every running miner has an indicator (a badge in a closed shadow root, or the element the
 * captcha / shortlink page renders); work pauses while the document is hidden or while the
 * indicator is off-screen, covered, transparent or hidden, and the visitor can pause it.
 * Served bundled after i18n.js (its strings); see chalicelib/pages.py.
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var currentScript = doc && doc.currentScript;

  /** API base derived from this script's URL (".../lib/workproof.js" -> "..."). */
  function defaultApi() {
    if (root.WorkProofConfig && typeof root.WorkProofConfig.api === 'string') return root.WorkProofConfig.api;
    if (currentScript && currentScript.src) {
      var u = new URL(currentScript.src, root.location.href);
      return u.origin + u.pathname.replace(/\/lib\/[^/]*$/, '');
    }
    return '';
  }
  var DEFAULT_API = defaultApi();
  // worker.js by its immutable, hashed name, written in when served (chalicelib/library.py).
  var WORKER_PATH = '/{{lib/worker.js}}';

  if (root.WorkProof && root.WorkProof.VERSION) return;  // bundled twice on one page

  // ------------------------------------------------------------------ i18n

  /** The visitor's language (or a forced one) from i18n.js, bundled before this file. */
  function locale(lang) {
    if (!root.WorkProofI18n) throw new Error('Workproof: i18n.js must load first (use /lib/workproof.js)');
    return root.WorkProofI18n.locale(lang);
  }

  /** The strings of a language (older API: WorkProof.strings('de').verify). */
  function strings(lang) {
    return locale(lang).t;
  }

  /** "Busy — retrying in 5 s" (in loc's language) for a retry `ms` away. */
  function busyText(loc, ms) {
    return loc.text('busy', { s: loc.number(Math.max(1, Math.ceil(ms / 1000))) });
  }

  /** "12.7 MH/s", its number and unit held together by a no-break space (never "12.7 / MH/s"). */
  function formatRate(hps) {
    if (hps >= 1e6) return (hps / 1e6).toFixed(1) + '\u00a0MH/s';
    if (hps >= 1e3) return (hps / 1e3).toFixed(1) + '\u00a0kH/s';
    return Math.round(hps) + '\u00a0H/s';
  }

  // ------------------------------------------------------------------ network

  /** POST a form to the API; resolves with the JSON body, rejects on network/HTTP trouble. */
  function post(api, path, params) {
    var body = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null) body.append(k, String(params[k]));
    });
    return root.fetch(api + path, {
      method: 'POST', body: body, credentials: 'omit', cache: 'no-store', mode: 'cors'
    }).then(function (res) {
      // Lambda's own answer when every instance is busy (the function URL behind the
      // CDN): not the app's JSON, but the same meaning as `busy`.
      if (res.status === 429) return { success: false, error: 'busy', retryAfter: res.headers.get('Retry-After') };
      if (res.status >= 500) throw new Error('HTTP ' + res.status);
      return res.json().then(function (json) {
        if (!json || typeof json.success !== 'boolean') throw new Error('malformed answer');
        // The deployed gateway's throttle and WAF answer `internal_error` with a Retry-After:
        // that is the stack being over a limit, retried like `busy`, not a failure.
        var retryAfter = res.headers.get('Retry-After');
        if (!json.success && json.error === 'internal_error' && retryAfter) json = { success: false, error: 'busy' };
        if (!json.success && json.error === 'internal_error') throw new Error('internal_error');
        if (!json.success && json.error === 'busy') json.retryAfter = retryAfter;
        return json;
      });
    });
  }

  // A `busy` answer (the visitor's source or the site is over its limit; nothing was read or
  // written) is retried after its Retry-After: a missing or unreadable one means BUSY_DEFAULT_S,
  // a larger one BUSY_MAX_S, and up to BUSY_JITTER more so a crowd does not return at once.
  var BUSY_DEFAULT_S = 5, BUSY_MAX_S = 60, BUSY_JITTER = 0.2;

  /** Retry-After (delta-seconds or an HTTP date) in whole seconds, 1..BUSY_MAX_S. */
  function retryAfterSeconds(header) {
    var text = String(header === null || header === undefined ? '' : header).trim();
    var s = /^\d+$/.test(text) ? Number(text) : text ? (Date.parse(text) - Date.now()) / 1000 : NaN;
    if (!isFinite(s)) return BUSY_DEFAULT_S;
    return Math.max(1, Math.min(BUSY_MAX_S, Math.ceil(s)));
  }

  // ------------------------------------------------------------------ visibility

  /** True when el is rendered, on screen, opaque, visible and not covered. */
  function elementShown(el) {
    if (!el || !el.isConnected) return false;
    var r = el.getBoundingClientRect();
    if (r.width < 4 || r.height < 4) return false;
    var vw = root.innerWidth || doc.documentElement.clientWidth;
    var vh = root.innerHeight || doc.documentElement.clientHeight;
    var visW = Math.min(r.right, vw) - Math.max(r.left, 0);
    var visH = Math.min(r.bottom, vh) - Math.max(r.top, 0);
    if (visW <= 0 || visH <= 0 || visW * visH < 0.5 * r.width * r.height) return false;
    if (typeof el.checkVisibility === 'function') {
      if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true })) return false;
    }
    for (var n = el; n && n.nodeType === 1; n = n.parentElement) {
      var cs = root.getComputedStyle(n);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.visibility === 'collapse' ||
          parseFloat(cs.opacity) < 0.2) return false;
    }
    // covered by something else? (a closed shadow root retargets hits to its host)
    var cx = Math.max(0, Math.min(vw - 1, (Math.max(r.left, 0) + Math.min(r.right, vw)) / 2));
    var cy = Math.max(0, Math.min(vh - 1, (Math.max(r.top, 0) + Math.min(r.bottom, vh)) / 2));
    var hit = doc.elementFromPoint(cx, cy);
    if (hit && hit !== el && !el.contains(hit)) return false;
    return true;
  }

  // ------------------------------------------------------------------ the badge

  /** Styles a shadow root without an inline <style> where possible (CSP style-src safe). */
  function adoptStyle(shadow, css) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
      return;
    } catch (e) { /* older browsers: a <style> element */ }
    var style = doc.createElement('style');
    style.textContent = css;
    shadow.appendChild(style);
  }

  var BADGE_CSS =
    ':host{all:initial}' +
    '.b{display:flex;align-items:center;gap:8px;' +
    'font:13px/1.3 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#fff;color:#111;' +
    'border:1px solid #767676;border-radius:8px;padding:8px 10px;box-shadow:0 2px 8px rgba(0,0,0,.25);max-width:340px}' +
    '.d{width:10px;height:10px;border-radius:50%;background:#1a7f37;flex:none;animation:p 1.2s infinite}' +
    '.paused .d,.ask .d{background:#b7791f;animation:none}' +
    '@keyframes p{50%{opacity:.35}}' +
    '.t{flex:1 1 auto;min-width:0}.ask{flex-wrap:wrap}.ask .d{display:none}.ask .t{flex:1 1 100%}' +
    'button{font:inherit;min-height:24px;min-width:24px;border:1px solid #767676;border-radius:5px;' +
    'background:#f3f3f3;color:#111;padding:2px 8px;cursor:pointer}' +
    'button.main{background:#0b57d0;border-color:#0b57d0;color:#fff}' +
    'button:focus-visible{outline:2px solid #0b57d0;outline-offset:2px}' +
    // The text wraps; the rate and the buttons keep their width (a label never runs over its button).
    '.r{font-variant-numeric:tabular-nums;color:#444;flex:none;white-space:nowrap}' +
    'button{flex:none;white-space:nowrap}.ask button{flex:0 0 auto}' +
    '[hidden]{display:none}' +
    '@media (prefers-color-scheme:dark){.b{background:#1f1f1f;color:#eee;border-color:#8f8f8f}' +
    'button{background:#333;color:#eee;border-color:#8f8f8f}button.main{background:#8ab4f8;border-color:#8ab4f8;color:#111}' +
    '.r{color:#bbb}button:focus-visible{outline-color:#8ab4f8}}' +
    '@media (prefers-reduced-motion:reduce){.d{animation:none}}';

  /**
   * The default indicator: a fixed badge in a closed shadow root, in the visitor's language,
   * with a pause button; with opts.optIn it first asks Allow / Cancel and nothing hashes
   * until the visitor allows.
   */
  function Badge(miner) {
    var loc = locale(miner.opts.language);
    this.loc = loc;
    this.host = doc.createElement('workproof-indicator');
    var hs = this.host.style;
    [['display', 'block'], ['visibility', 'visible'], ['opacity', '1'], ['position', 'fixed'], ['right', '12px'],
     ['bottom', '12px'], ['left', 'auto'], ['top', 'auto'], ['z-index', '2147483647'], ['transform', 'none'],
     ['filter', 'none'], ['margin', '0'], ['pointer-events', 'auto']].forEach(function (kv) {
      hs.setProperty(kv[0], kv[1], 'important');
    });
    var shadow = this.host.attachShadow({ mode: 'closed' });
    adoptStyle(shadow, BADGE_CSS);
    var box = doc.createElement('div');
    box.className = 'b';
    box.dir = loc.dir;
    box.lang = loc.code;
    var dot = doc.createElement('span');
    dot.className = 'd';
    dot.setAttribute('aria-hidden', 'true');
    // Announced once when it appears (a status region filled after insertion).
    var text = doc.createElement('span');
    text.className = 't';
    text.setAttribute('role', 'status');
    var rate = doc.createElement('span');
    rate.className = 'r';
    rate.setAttribute('aria-hidden', 'true');
    var btn = doc.createElement('button');
    btn.type = 'button';
    btn.textContent = loc.text('pause');
    btn.addEventListener('click', function () {
      if (miner.isPaused()) miner.resume(); else miner.pause();
    });
    var allow = doc.createElement('button');
    allow.type = 'button';
    allow.className = 'main';
    allow.textContent = loc.text('allow');
    allow.hidden = true;
    var cancel = doc.createElement('button');
    cancel.type = 'button';
    cancel.textContent = loc.text('cancel');
    cancel.hidden = true;
    box.appendChild(dot); box.appendChild(text); box.appendChild(rate);
    box.appendChild(btn); box.appendChild(allow); box.appendChild(cancel);
    shadow.appendChild(box);
    this.box = box; this.text = text; this.rate = rate; this.btn = btn;
    this.allow = allow; this.cancel = cancel;
    (doc.body || doc.documentElement).appendChild(this.host);
    setTimeout(function () { if (!text.textContent) text.textContent = loc.text('badge'); }, 50);
  }
  /** Opt-in mode: the question and Allow / Cancel instead of the pause button. */
  Badge.prototype.ask = function (onAllow, onCancel) {
    var self = this;
    this.asking = true;
    this.box.className = 'b ask';
    this.text.textContent = this.loc.text('optinText');
    this.btn.hidden = true;
    this.rate.hidden = true;
    this.allow.hidden = false;
    this.cancel.hidden = false;
    this.allow.onclick = function () { self._answered(); onAllow(); };
    this.cancel.onclick = function () { self._answered(); onCancel(); };
  };
  Badge.prototype._answered = function () {
    this.asking = false;
    this.text.textContent = this.loc.text('badge');
    this.btn.hidden = false;
    this.rate.hidden = false;
    this.allow.hidden = true;
    this.cancel.hidden = true;
  };
  Badge.prototype.update = function (miner) {
    if (this.asking) return;
    var paused = miner.isPaused() || !miner._active;
    var waiting = miner.busyUntil - Date.now();
    this.box.className = paused || waiting > 0 ? 'b paused' : 'b';
    this.btn.textContent = this.loc.text(miner.isPaused() ? 'resume' : 'pause');
    this.rate.textContent = paused ? this.loc.text('paused')
      : waiting > 0 ? busyText(this.loc, waiting) : formatRate(miner.getHashesPerSecond());
  };
  Badge.prototype.remove = function () {
    if (this.host.parentNode) this.host.parentNode.removeChild(this.host);
  };

  // ------------------------------------------------------------------ workers

  var inlineLoad = null;

  /** Loads worker.js into the page (for solving without Workers). */
  function loadSolverScript(api) {
    if (root.WorkProofSolver) return Promise.resolve(root.WorkProofSolver);
    if (inlineLoad) return inlineLoad;
    inlineLoad = new Promise(function (resolve, reject) {
      var s = doc.createElement('script');
      s.src = api + WORKER_PATH;
      s.async = true;
      s.onload = function () { root.WorkProofSolver ? resolve(root.WorkProofSolver) : reject(new Error('solver missing')); };
      s.onerror = function () { inlineLoad = null; reject(new Error('solver script blocked')); };
      (doc.head || doc.documentElement).appendChild(s);
    });
    return inlineLoad;
  }

  /**
   * One solving thread: a Web Worker, or (when Workers are blocked) the same solver
   * run on the page in short slices. Calls onReady(thread) / onResult(thread, msg) / onFail.
   */
  function Thread(api, engine, onReady, onResult, onFail) {
    var self = this;
    this.busy = false; this.ready = false; this.dead = false; this.engine = null;
    this.taskSize = 20000;  // adapted to ~100 ms per task
    this.onReady = onReady; this.onResult = onResult; this.onFail = onFail;
    var url = new URL(api + WORKER_PATH, root.location.href).href;
    var worker = null;
    try {
      if (new URL(url).origin === root.location.origin) {
        worker = new root.Worker(url);
      } else {
        var blob = new Blob(['importScripts(' + JSON.stringify(url) + ');'], { type: 'text/javascript' });
        worker = new root.Worker(URL.createObjectURL(blob));
      }
    } catch (err) {
      worker = null;
    }
    if (!worker) { this._inline(api, engine); return; }
    this.worker = worker;
    var timer = setTimeout(function () {
      if (!self.ready) { self._drop(); self._inline(api, engine); }
    }, 8000);
    worker.onmessage = function (ev) {
      var m = ev.data || {};
      if (m.type === 'ready') {
        clearTimeout(timer);
        self.ready = true; self.engine = m.engine;
        self.onReady(self);
      } else if (m.type === 'result' || m.type === 'error') {
        self.busy = false;
        self.onResult(self, m);
      }
    };
    worker.onerror = function (ev) {
      if (ev && ev.preventDefault) ev.preventDefault();
      if (!self.ready) { clearTimeout(timer); self._drop(); self._inline(api, engine); return; }
      self.busy = false;
      self.onResult(self, { type: 'error', message: 'worker error' });
    };
    worker.postMessage({ type: 'init', engine: engine });
  }
  Thread.prototype._drop = function () {
    if (this.worker) { try { this.worker.terminate(); } catch (e) { /* already gone */ } }
    this.worker = null;
  };
  Thread.prototype._inline = function (api, engine) {
    var self = this;
    this.inline = true;
    this.taskSize = 5000;  // short slices keep the page responsive
    loadSolverScript(api).then(function (S) {
      if (self.dead) return;
      self.solver = new S.Solver(engine === 'wasm-simd' ? 'auto' : engine);
      self.engine = self.solver.engineName + '-inline';
      self.ready = true;
      self.onReady(self);
    }, function (err) {
      self.dead = true;
      self.onFail(self, err);
    });
  };
  Thread.prototype.send = function (task) {
    var self = this;
    this.busy = true;
    if (!this.inline) {
      this.worker.postMessage(task);
      return;
    }
    setTimeout(function () {
      if (self.dead) return;
      var msg;
      try {
        var t = Date.now();
        var r = self.solver.task(task.job, task.i, task.difficulty, task.s0, task.count);
        msg = { type: 'result', id: task.id, i: task.i, nonce: r.nonce, hashes: r.hashes, exhausted: r.exhausted, ms: Date.now() - t };
      } catch (err) {
        msg = { type: 'error', id: task.id, message: String(err && err.message || err) };
      }
      self.busy = false;
      self.onResult(self, msg);
    }, 0);
  };
  Thread.prototype.terminate = function () {
    this.dead = true;
    this._drop();
  };

  // ------------------------------------------------------------------ consent memory

  // An accepted opt-in holds for this browser session, at most a day (as AuthedMine's);
  // a canceled one is remembered so pages can honour miner.didOptOut(seconds).
  var OPTIN_KEY = 'workproof.optin', OPTOUT_KEY = 'workproof.optout', OPTIN_LIFETIME_MS = 864e5;

  function remember(storage, key) {
    try { storage.setItem(key, String(Date.now())); } catch (e) { /* storage blocked: ask again */ }
  }
  function recalled(storage, key) {
    try { return Number(storage.getItem(key)) || 0; } catch (e) { return 0; }
  }
  function optInGiven() {
    var at = recalled(root.sessionStorage, OPTIN_KEY);
    return at > 0 && Date.now() - at < OPTIN_LIFETIME_MS;
  }

  // ------------------------------------------------------------------ the miner

  var nextTaskId = 1;

  function clampThrottle(x) {
    x = Number(x);
    if (!(x > 0)) return 0;
    return Math.min(0.99, x);
  }

  function defaultThreads() {
    var n = root.navigator && root.navigator.hardwareConcurrency;
    return Math.max(1, Math.min(16, n || 2));
  }

  function Miner(kind, siteKey, account, opts) {
    opts = opts || {};
    this.kind = kind;
    this.siteKey = String(siteKey || '');
    this.account = account;
    this.opts = opts;
    this.api = typeof opts.api === 'string' ? opts.api.replace(/\/+$/, '') : DEFAULT_API;
    this.engine = opts.engine || (opts.forceASMJS ? 'js' : 'auto');
    this.target = kind === 'token' ? Math.max(1, Math.floor(Number(opts.target) || 0)) : 0;
    this.threads = Math.max(1, Math.floor(Number(opts.threads) || defaultThreads()));
    this.throttle = clampThrottle(opts.throttle);
    this.handlers = {};
    this.token = kind === 'token' ? (opts.token || '') : null;
    this.tokenCredited = !!this.token;  // opts.token: continue an existing token
    this.running = false;
    this.userPaused = false;
    this._active = false;       // allowed to hash right now (consent + visibility)
    this._pauseSaid = false;    // the last of pause / resume emitted was pause
    this.threadsList = [];
    this.job = null;            // {text, difficulty, count, expires, puzzles: [...]}
    this.chainTotal = 0;
    this.totalHashes = 0;
    this.acceptedHashes = 0;
    this.samples = [];
    this.engineName = null;
    this.done = false;
    this.busyUntil = 0;         // when a `busy` answer's retry is due (0: none pending)
    this._gen = 0;              // bumps on stop: late callbacks from an old run are ignored
    this._listen = this._check.bind(this);
    this._holds = {};           // reasons not to hash besides consent and visibility (opt-in, tabs)
  }

  Miner.prototype.on = function (event, fn) {
    (this.handlers[event] = this.handlers[event] || []).push(fn);
    return this;
  };
  Miner.prototype.off = function (event, fn) {
    var list = this.handlers[event] || [];
    var i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  };
  Miner.prototype._emit = function (event, data) {
    var list = (this.handlers[event] || []).slice();
    for (var i = 0; i < list.length; i++) {
      try { list[i].call(this, data); } catch (err) { setTimeout(function () { throw err; }, 0); }
    }
  };

  Miner.prototype.isRunning = function () { return this.running; };
  Miner.prototype.isPaused = function () { return this.userPaused; };
  Miner.prototype.getToken = function () { return this.token || null; };
  Miner.prototype.getTotalHashes = function () { return this.totalHashes; };
  Miner.prototype.getAcceptedHashes = function () { return this.acceptedHashes; };
  Miner.prototype.getThrottle = function () { return this.throttle; };
  Miner.prototype.setThrottle = function (x) { this.throttle = clampThrottle(x); };
  Miner.prototype.getNumThreads = function () { return this.threads; };
  Miner.prototype.getEngine = function () { return this.engineName; };
  Miner.prototype.hasWASMSupport = function () { return typeof WebAssembly === 'object'; };
  Miner.prototype.setNumThreads = function (n) {
    this.threads = Math.max(1, Math.min(64, Math.floor(Number(n)) || 1));
    if (this.running && this._active) this._ensureThreads();
  };
  Miner.prototype.getHashesPerSecond = function () {
    var now = Date.now(), s = this.samples;
    while (s.length && now - s[0].t > 5000) s.shift();
    if (!s.length || !this._active) return 0;
    var sum = 0;
    for (var i = 0; i < s.length; i++) sum += s[i].h;
    var span = Math.max(1000, now - this._rateStart);
    return sum / Math.min(5000, span) * 1000;
  };

  /** Starts (or continues) mining; the indicator shows before any work is requested. */
  Miner.prototype.start = function () {
    if (this.running || this.done) return;
    this.running = true;
    this._gen++;
    if (this.opts.indicator && this.opts.indicator.nodeType === 1) {
      this.indicatorEl = this.opts.indicator;
    } else {
      this.badge = new Badge(this);
      this.indicatorEl = this.badge.host;
      if (this.opts.optIn && !optInGiven()) this._askOptIn();
    }
    doc.addEventListener('visibilitychange', this._listen);
    root.addEventListener('scroll', this._listen, { passive: true });
    root.addEventListener('resize', this._listen);
    if (typeof IntersectionObserver === 'function') {
      this.io = new IntersectionObserver(this._listen);
      this.io.observe(this.indicatorEl);
    }
    this.timer = setInterval(this._tick.bind(this), 500);
    // work begins only after the indicator has been painted (a frame, then a task)
    var self = this, gen = this._gen;
    this._painted = false;
    this._pauseSaid = false;
    root.requestAnimationFrame(function () {
      setTimeout(function () {
        if (gen !== self._gen) return;
        self._painted = true;
        self._check();
      }, 0);
    });
  };

  /** Stops mining and its workers. */
  Miner.prototype.stop = function () {
    if (!this.running) return;
    this.running = false;
    this._active = false;
    this._gen++;
    this.threadsList.forEach(function (t) { t.terminate(); });
    this.threadsList = [];
    this.job = null;  // a restart asks for a fresh job (a token continues its chain)
    this._requesting = false;
    this.busyUntil = 0;
    doc.removeEventListener('visibilitychange', this._listen);
    root.removeEventListener('scroll', this._listen);
    root.removeEventListener('resize', this._listen);
    if (this.io) { this.io.disconnect(); this.io = null; }
    clearInterval(this.timer);
    if (this.badge) { this.badge.remove(); this.badge = null; }
    this.samples = [];
    this._emit('close', { reason: this.done ? 'done' : 'stopped' });
  };

  /** Visitor-requested pause (the badge's button, the shortlink page's button). */
  Miner.prototype.pause = function () {
    this.userPaused = true;
    this._check();
    // Paused before the work first ran (its frame not yet painted): _check saw no change to
    // announce, but the visitor did press Pause, and the widget must say so.
    if (this.running && !this._pauseSaid) this._said('pause', { reason: 'user' });
  };
  Miner.prototype.resume = function () {
    this.userPaused = false;
    this._check();
  };

  /** Holds hashing for `reason` (on) or releases it; used by the opt-in and tab rules. */
  Miner.prototype._hold = function (reason, on) {
    if (on) this._holds[reason] = true; else delete this._holds[reason];
    this._check();
  };

  /** AuthedMine's rule: nothing runs until the visitor allows it in the badge. */
  Miner.prototype._askOptIn = function () {
    var self = this, gen = this._gen;
    this._holds.optin = true;
    this.badge.ask(function () {
      if (gen !== self._gen) return;
      remember(root.sessionStorage, OPTIN_KEY);
      self._emit('optin', { status: 'accepted' });
      self._hold('optin', false);
    }, function () {
      if (gen !== self._gen) return;
      remember(root.localStorage, OPTOUT_KEY);
      self._emit('optin', { status: 'canceled' });
      self.stop();
    });
  };

  /** True when the visitor canceled an opt-in question within the last `seconds`. */
  Miner.prototype.didOptOut = function (seconds) {
    var at = recalled(root.localStorage, OPTOUT_KEY);
    return at > 0 && Date.now() - at < Math.max(0, Number(seconds) || 0) * 1000;
  };

  Miner.prototype._tick = function () {
    this._check();
    if (this.badge) this.badge.update(this);
  };

  /** Re-evaluates whether hashing is allowed now, and pauses or resumes. */
  Miner.prototype._check = function () {
    if (!this.running) return;
    var held = Object.keys(this._holds);
    var allowed = this._painted && !this.userPaused && !held.length && !doc.hidden &&
      elementShown(this.indicatorEl);
    if (allowed === this._active) return;
    this._active = allowed;
    if (this.badge) this.badge.update(this);
    if (allowed) {
      this._rateStart = Date.now();
      if (this._pauseSaid) this._said('resume', {});
      this._ensureThreads();
      if (!this.job && !this._requesting) this._requestJob();
      else this._dispatch();
    } else {
      this.samples = [];
      this._said('pause', { reason: this.userPaused ? 'user' : held.length ? held[0] : doc.hidden ? 'hidden' : 'indicator' });
    }
  };

  /** Emits pause or resume, remembering which was said last so each pause has one resume. */
  Miner.prototype._said = function (event, detail) {
    this._pauseSaid = event === 'pause';
    this._emit(event, detail);
  };

  Miner.prototype._ensureThreads = function () {
    var self = this, gen = this._gen;
    var list = this.threadsList;
    while (list.length > this.threads) list.pop().terminate();
    while (list.length < this.threads) {
      list.push(new Thread(this.api, this.engine,
        function (t) {
          if (gen !== self._gen) return;
          self.engineName = self.engineName || t.engine;
          self._dispatch();
        },
        function (t, msg) { if (gen === self._gen) self._onResult(t, msg); },
        function (t, err) {
          if (gen !== self._gen) return;
          var i = self.threadsList.indexOf(t);
          if (i >= 0) self.threadsList.splice(i, 1);
          if (!self.threadsList.length) {
            self._emit('error', { error: 'solver_unavailable', message: String(err && err.message || err) });
            self.stop();
          }
        }));
    }
  };

  Miner.prototype._accountParams = function () {
    var p = { site: this.siteKey };
    if (this.kind === 'user') p.user = this.account;
    else if (this.kind === 'token') {
      // a token exists from its first accepted submit; until then ask for a new one
      p.token = this.tokenCredited ? this.token : '';
      p.hashes = this.target;
    }
    else if (this.kind === 'link') p.link = this.account;
    else p.anonymous = 1;
    if (this.opts.difficulty) p.difficulty = this.opts.difficulty;
    return p;
  };

  /**
   * Calls the API, retrying network trouble with exponential backoff (1 s .. 30 s) and `busy`
   * after its Retry-After (announced as an `error` event {error: 'busy', retryAfter: seconds,
   * retryIn: ms}). `stale()`, when given and true at a `busy` answer, ends the retries: the
   * `busy` answer resolves (a solved job that expired meanwhile is not worth resubmitting).
   */
  Miner.prototype._call = function (path, params, stale) {
    var self = this, gen = this._gen, attempt = 0, busy = null;
    return new Promise(function (resolve, reject) {
      function answered(res) {
        // an answer after stop() still resolves: a submit in flight was credited, and counts
        if (res.success || res.error !== 'busy' || (stale && stale())) {
          if (gen === self._gen) self.busyUntil = 0;
          resolve(res);
          return;
        }
        if (gen !== self._gen) { reject(new Error('stopped')); return; }
        busy = res;
        var seconds = retryAfterSeconds(res.retryAfter);
        var wait = Math.round(seconds * 1000 * (1 + Math.random() * BUSY_JITTER));
        self.busyUntil = Date.now() + wait;
        if (self.badge) self.badge.update(self);
        self._emit('error', { error: 'busy', retryAfter: seconds, retryIn: wait });
        setTimeout(go, wait);
      }
      function go() {
        if (gen !== self._gen) { reject(new Error('stopped')); return; }
        if (busy && stale && stale()) { answered(busy); return; }
        post(self.api, path, params).then(answered, function (err) {
          if (gen !== self._gen) { reject(new Error('stopped')); return; }
          var wait = Math.min(30000, 1000 * Math.pow(2, attempt++)) * (0.75 + Math.random() * 0.5);
          self._emit('error', { error: 'connection_error', message: String(err && err.message || err), retryIn: Math.round(wait) });
          setTimeout(go, wait);
        });
      }
      go();
    });
  };

  Miner.prototype._requestJob = function () {
    var self = this, gen = this._gen;
    this._requesting = true;
    this._call('/pow/job', this._accountParams()).then(function (res) {
      if (gen !== self._gen) return;  // answered after stop()
      self._requesting = false;
      if (!res.success) { self._fail(res.error); return; }
      var first = !self.opened;
      if (first) { self.opened = true; self._emit('open', {}); }
      if (res.token) self.token = res.token;
      if (first) self._emit('authed', { token: self.token, hashes: 0 });
      if (self.kind !== 'token') self.chainTotal = 0;  // a token continues; a link job is a new visit
      self._setJob(res);
    }, function () { self._requesting = false; });
  };

  Miner.prototype._setJob = function (res) {
    var count = Math.max(1, Math.floor(Number(res.count) || 1));
    var puzzles = [];
    for (var i = 0; i < count; i++) puzzles.push({ nonce: null, next: 0, active: 0 });
    this.job = {
      text: String(res.job), difficulty: Number(res.difficulty), count: count,
      expires: Number(res.expires) || 0, puzzles: puzzles, solved: 0, submitting: false
    };
    this._emit('job', { job: this.job.text, difficulty: this.job.difficulty, count: count, expires: this.job.expires });
    this._progress();
    this._dispatch();
  };

  /** Gives every idle thread a slice of the least-covered unsolved puzzle. */
  Miner.prototype._dispatch = function () {
    if (!this.running || !this._active || !this.job || this.job.submitting) return;
    var job = this.job, self = this;
    this.threadsList.forEach(function (t) {
      if (!t.ready || t.busy || t.dead || t.waiting) return;
      var pick = -1;
      for (var i = 0; i < job.count; i++) {
        var p = job.puzzles[i];
        if (p.nonce !== null || p.exhausted) continue;
        if (pick < 0 || p.active < job.puzzles[pick].active) pick = i;
      }
      if (pick < 0) return;
      var pz = job.puzzles[pick];
      var size = Math.max(100, Math.round(t.taskSize / 100) * 100);
      var task = { type: 'task', id: nextTaskId++, job: job.text, i: pick, difficulty: job.difficulty, s0: pz.next, count: size };
      pz.next += size;
      pz.active++;
      t.task = { job: job, i: pick, started: Date.now() };
      t.send(task);
      self._rateStart = self._rateStart || Date.now();
    });
  };

  Miner.prototype._onResult = function (t, msg) {
    var info = t.task, self = this;
    t.task = null;
    if (!info) return;
    var job = info.job, pz = job.puzzles[info.i];
    pz.active--;
    var elapsed = Date.now() - info.started;
    if (msg.type === 'error') {
      this._emit('error', { error: 'solver_error', message: msg.message });
      pz.exhausted = true;  // do not loop on a puzzle the solver cannot handle
    } else {
      this.totalHashes += msg.hashes;
      this.samples.push({ t: Date.now(), h: msg.hashes });
      if (msg.ms > 5 && msg.hashes > 0) {
        var rate = msg.hashes / msg.ms;
        t.taskSize = Math.max(1000, Math.min(5e6, rate * (t.inline ? 40 : 100)));
      }
      if (msg.nonce !== null && msg.nonce !== undefined && pz.nonce === null && job === this.job) {
        pz.nonce = String(msg.nonce);
        job.solved++;
        this._progress();
        if (job.solved === job.count) this._submit(job);
      } else if (msg.exhausted) {
        pz.exhausted = true;
        if (job === this.job) { this.job = null; this._requestJob(); }
      }
    }
    // throttle: stay idle for throttle / (1 - throttle) of the time spent working
    var idle = this.throttle > 0 ? elapsed * this.throttle / (1 - this.throttle) : 0;
    if (idle >= 1) {
      t.waiting = true;
      setTimeout(function () { t.waiting = false; self._dispatch(); }, idle);
    } else {
      this._dispatch();
    }
  };

  Miner.prototype._progress = function () {
    var job = this.job;
    if (!job) return;
    var work = job.solved * job.difficulty;
    var target = this.kind === 'token' ? this.target : this.kind === 'link' ? this.linkTarget || 0 : 0;
    var done = this.chainTotal + work;
    this._emit('progress', {
      solved: job.solved, count: job.count, hashes: done, target: target,
      progress: target ? Math.min(1, done / target) : job.solved / job.count
    });
  };

  Miner.prototype._submit = function (job) {
    var self = this;
    job.submitting = true;
    var nonces = job.puzzles.map(function (p) { return p.nonce; }).join(',');
    this._emit('found', { job: job.text, nonce: nonces });
    // a refused (busy) submit is sent again, same job and nonces, while the job lives
    function expired() { return job.expires > 0 && Date.now() >= job.expires * 1000; }
    var params = { job: job.text, nonce: nonces };
    // A token's label (Turnstile's action and cdata): the submit that creates the token stores it.
    if (this.kind === 'token') { params.action = this.opts.action; params.cdata = this.opts.cdata; }
    this._call('/pow/submit', params, expired).then(function (res) {
      var current = job === self.job && self.running;
      if (!res.success) {
        if (!current) return;
        if (res.error === 'invalid_job' || res.error === 'duplicate_share' || res.error === 'invalid_share' ||
            res.error === 'busy') {
          // expired (while busy, too) or already credited (a retried submit): a fresh job
          if (res.error === 'invalid_share') self._emit('error', { error: 'invalid_share' });
          self.job = null;
          self._requestJob();
        } else {
          self._fail(res.error);
        }
        return;
      }
      var credited = Number(res.hashes) || 0;
      if (self.kind === 'token' && credited > 0) self.tokenCredited = true;
      self.acceptedHashes += credited;
      self.chainTotal = Number(res.total) || self.chainTotal + credited;
      self._emit('accepted', { hashes: credited, total: self.chainTotal });
      if (!current) return;  // credited after stop(): counted, but the chain ends here
      if (res.redirect) {
        self.done = true;
        self.job = null;
        self._emit('redirect', { url: String(res.redirect) });
        self.stop();
        return;
      }
      if (self.kind === 'token' && self.chainTotal >= self.target) {
        self.done = true;
        self.job = null;
        self._emit('done', { token: self.token, hashes: self.chainTotal });
        self.stop();
        return;
      }
      if (res.job) self._setJob(res);
      else { self.job = null; self._requestJob(); }
    }, function () { /* stopped */ });
  };

  /** A refusal the miner cannot recover from by itself (invalid_site, invalid_link, ...). */
  Miner.prototype._fail = function (code) {
    this._emit('error', { error: code || 'unknown_error' });
    this.stop();
  };

  // ------------------------------------------------------------------ public constructors

  function User(siteKey, name, opts) {
    if (!(this instanceof User)) return new User(siteKey, name, opts);
    Miner.call(this, 'user', siteKey, String(name), opts);
  }
  function Token(siteKey, targetHashes, opts) {
    if (!(this instanceof Token)) return new Token(siteKey, targetHashes, opts);
    var o = {};
    Object.keys(opts || {}).forEach(function (k) { o[k] = opts[k]; });
    o.target = targetHashes;
    Miner.call(this, 'token', siteKey, null, o);
  }
  function Anonymous(siteKey, opts) {
    if (!(this instanceof Anonymous)) return new Anonymous(siteKey, opts);
    Miner.call(this, 'anonymous', siteKey, null, opts);
  }
  function Link(siteKey, code, opts) {
    if (!(this instanceof Link)) return new Link(siteKey, code, opts);
    Miner.call(this, 'link', siteKey, String(code), opts);
    this.linkTarget = Math.max(0, Math.floor(Number(opts && opts.hashes) || 0));
  }
  [User, Token, Anonymous, Link].forEach(function (C) {
    C.prototype = Object.create(Miner.prototype);
    C.prototype.constructor = C;
  });

  root.WorkProof = {
    User: User,
    Token: Token,
    Anonymous: Anonymous,
    Link: Link,
    CONFIG: { API: DEFAULT_API },
    VERSION: '1.0.0',
    strings: strings,
    locale: locale,
    formatRate: formatRate,
    busyText: busyText,
    elementShown: elementShown,
    adoptStyle: adoptStyle,
    hasWASMSupport: function () { return typeof WebAssembly === 'object'; },
    isMobile: function () { return /Mobi|Android/i.test(root.navigator.userAgent); }
  };
})(window);
