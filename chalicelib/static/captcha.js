/*
 * Workproof captcha widget.
 *
 *   <form action="/login" method="post">
 *     <div class="workproof-captcha" data-key="SITE_KEY" data-hashes="4194304"
 *          data-callback="onVerified" data-disable-elements="button[type=submit]"></div>
 *     <button type="submit">Log in</button>
 *   </form>
 *   <script src="https://API/lib/captcha.js" async></script>
 *
 * Nothing is computed until the visitor clicks "verify" (or presses Enter/Space on it).
 * Then the browser solves `data-hashes` hashes of proof-of-work for a new token, shows
 * progress, puts the token into the form as `coinhive-captcha-token` (Coinhive's field
 * name, so existing backends keep working) and calls window[data-callback](token).
 * The backend checks it once with POST /token/verify (secret, token, hashes).
 *
 * Attributes: data-key (site key, required), data-hashes (default 4194304),
 * data-callback, data-disable-elements (CSS selector, disabled until verified),
 * data-whitelabel ("true" hides the brand line), data-theme ("light" | "dark" | auto),
 * data-lang (e.g. "de"; default: the browser's languages), data-threads, data-api.
 * Old markup with class "coinhive-captcha" works too.
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var script = doc.currentScript;
  var API = (function () {
    if (script && script.src) {
      var u = new URL(script.src, root.location.href);
      return u.origin + u.pathname.replace(/\/lib\/[^/]*$/, '');
    }
    return '';
  })();
  var DEFAULT_HASHES = 4194304;
  var FIELD = 'coinhive-captcha-token';
  var TOKEN_LIFETIME_MS = 55 * 60 * 1000;  // the server keeps tokens for one hour


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

  var libLoading = null;
  function loadLibrary(api) {
    if (root.WorkProof) return Promise.resolve(root.WorkProof);
    if (libLoading) return libLoading;
    libLoading = new Promise(function (resolve, reject) {
      var s = doc.createElement('script');
      s.src = api + '/lib/workproof.js';
      s.async = true;
      s.onload = function () { root.WorkProof ? resolve(root.WorkProof) : reject(new Error('library missing')); };
      s.onerror = function () { libLoading = null; reject(new Error('cannot load ' + s.src)); };
      (doc.head || doc.documentElement).appendChild(s);
    });
    return libLoading;
  }

  var CSS =
    ':host{all:initial;display:inline-block}' +
    '.box{--bg:#f9f9f9;--fg:#1b1b1b;--mut:#555;--bd:#c8c8c8;--acc:#0b57d0;--ok:#1a7f37;--bad:#b3261e;--bar:#e4e4e4;' +
    'box-sizing:border-box;width:304px;max-width:100%;min-height:78px;padding:12px 14px;border:1px solid var(--bd);' +
    'border-radius:6px;background:var(--bg);color:var(--fg);font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
    'display:flex;flex-direction:column;gap:8px}' +
    '.dark{--bg:#222;--fg:#eee;--mut:#bbb;--bd:#555;--acc:#8ab4f8;--ok:#6dd58c;--bad:#f2b8b5;--bar:#444}' +
    '@media (prefers-color-scheme:dark){.auto{--bg:#222;--fg:#eee;--mut:#bbb;--bd:#555;--acc:#8ab4f8;--ok:#6dd58c;--bad:#f2b8b5;--bar:#444}}' +
    'button{all:unset;box-sizing:border-box;display:flex;width:100%;align-items:center;gap:10px;cursor:pointer;border-radius:4px;padding:2px 4px 2px 0;color:var(--fg)}' +
    'button:focus-visible{outline:2px solid var(--acc);outline-offset:2px}' +
    'button[disabled]{cursor:default}' +
    '.chk{width:22px;height:22px;flex:none;border:2px solid var(--mut);border-radius:4px;background:transparent;position:relative}' +
    '.busy .chk{border-color:var(--acc);border-right-color:transparent;border-radius:50%;animation:spin 1s linear infinite}' +
    '.ok .chk{border-color:var(--ok);background:var(--ok)}' +
    '.ok .chk::after{content:"";position:absolute;left:6px;top:1px;width:6px;height:12px;border:solid var(--bg);border-width:0 3px 3px 0;transform:rotate(45deg)}' +
    '.paused .chk{border-color:var(--mut);border-style:dashed;animation:none;border-radius:4px}' +
    '@keyframes spin{to{transform:rotate(360deg)}}' +
    '@media (prefers-reduced-motion:reduce){.busy .chk{animation:none}}' +
    '.bar{height:6px;border-radius:3px;background:var(--bar);overflow:hidden}' +
    '.fill{height:100%;width:0;background:var(--acc);transition:width .2s}' +
    '.ok .fill{background:var(--ok)}' +
    '.row{display:flex;justify-content:space-between;align-items:baseline;gap:8px;font-size:12px;color:var(--mut)}' +
    '.err .status{color:var(--bad)}' +
    '.brand{font-size:11px;white-space:nowrap}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}';

  /** Renders one widget into el (idempotent). Returns its controller. */
  function render(el) {
    if (el.__workproof) return el.__workproof;
    var d = el.dataset;
    var api = (d.api || API).replace(/\/+$/, '');
    var hashes = Math.floor(Number(d.hashes)) || DEFAULT_HASHES;
    var t = strings(d.lang);
    var shadow = el.attachShadow({ mode: 'closed' });
    adoptStyle(shadow, CSS);
    var box = doc.createElement('div');
    var theme = d.theme === 'dark' ? 'dark' : d.theme === 'light' ? '' : 'auto';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', t.captchaLabel);
    var btn = doc.createElement('button');
    btn.type = 'button';
    btn.className = 'verify';
    var chk = doc.createElement('span');
    chk.className = 'chk';
    chk.setAttribute('aria-hidden', 'true');
    var label = doc.createElement('span');
    label.textContent = t.verify;
    btn.appendChild(chk); btn.appendChild(label);
    var bar = doc.createElement('div');
    bar.className = 'bar';
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-label', t.progress);
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    bar.setAttribute('aria-valuenow', '0');
    var fill = doc.createElement('div');
    fill.className = 'fill';
    bar.appendChild(fill);
    var row = doc.createElement('div');
    row.className = 'row';
    var status = doc.createElement('span');
    status.className = 'status';
    // screen readers hear state changes and every 25 %, not every percent
    var live = doc.createElement('span');
    live.className = 'sr';
    live.setAttribute('aria-live', 'polite');
    live.setAttribute('role', 'status');
    var brand = doc.createElement('span');
    brand.className = 'brand';
    brand.textContent = t.by;
    row.appendChild(status);
    if (d.whitelabel !== 'true') row.appendChild(brand);
    box.appendChild(btn); box.appendChild(bar); box.appendChild(row); box.appendChild(live);
    shadow.appendChild(box);

    var state = 'idle', miner = null, lastPct = -1, expiry = null;
    function setState(s, text) {
      state = s;
      box.className = 'box ' + theme + ' ' + s;
      status.textContent = text || '';
      live.textContent = text || '';
      btn.disabled = s === 'busy' || s === 'ok' || s === 'paused';
      btn.setAttribute('aria-disabled', btn.disabled ? 'true' : 'false');
    }
    function setProgress(p) {
      var pct = Math.max(0, Math.min(100, Math.floor(p * 100)));
      fill.style.width = pct + '%';
      bar.setAttribute('aria-valuenow', String(pct));
      bar.setAttribute('aria-valuetext', pct + '%');
      if (state === 'busy' && pct !== lastPct) {
        var milestone = Math.floor(pct / 25) !== Math.floor(Math.max(lastPct, 0) / 25);
        lastPct = pct;
        label.textContent = t.verifying + ' ' + pct + '%';
        status.textContent = t.progress + ': ' + pct + '%';
        if (milestone) live.textContent = t.progress + ': ' + pct + '%';
      }
    }
    function disableTargets(disabled) {
      if (!d.disableElements) return;
      var list;
      try { list = doc.querySelectorAll(d.disableElements); } catch (e) { return; }
      for (var i = 0; i < list.length; i++) list[i].disabled = disabled;
    }
    function putToken(token) {
      var form = el.closest('form');
      if (!form) return;
      var input = form.querySelector('input[name="' + FIELD + '"]');
      if (!input) {
        input = doc.createElement('input');
        input.type = 'hidden';
        input.name = FIELD;
        form.appendChild(input);
      }
      input.value = token;
    }
    function fail(message) {
      if (miner) { miner.stop(); miner = null; }
      label.textContent = t.retry;
      setState('err', t.failed + (message ? ' (' + message + ')' : ''));
    }
    function begin() {
      if (state !== 'idle' && state !== 'err') return;
      lastPct = -1;
      setState('busy', t.verifying);
      setProgress(0);
      loadLibrary(api).then(function (WP) {
        var opts = { api: api, indicator: el };
        if (d.threads) opts.threads = Number(d.threads);
        if (d.engine) opts.engine = d.engine;
        miner = new WP.Token(d.key, hashes, opts);
        miner.on('progress', function (e) { setProgress(e.progress); });
        miner.on('pause', function () {
          if (state === 'busy') setState('paused', t.paused);
        });
        miner.on('resume', function () {
          if (state === 'paused') setState('busy', t.verifying);
        });
        miner.on('error', function (e) {
          if (e.error === 'connection_error' || e.error === 'invalid_share') return;  // retried by the miner
          fail(e.error);
        });
        miner.on('done', function (e) {
          setProgress(1);
          label.textContent = t.verified;
          setState('ok', t.verified);
          putToken(e.token);
          disableTargets(false);
          miner = null;
          // tokens live one hour: offer a fresh verification before this one expires
          expiry = setTimeout(function () { putToken(''); ctl.reset(); }, TOKEN_LIFETIME_MS);
          var cb = d.callback && root[d.callback];
          if (typeof cb === 'function') {
            try { cb(e.token); } catch (err) { setTimeout(function () { throw err; }, 0); }
          }
          el.dispatchEvent(new CustomEvent('workproof-verified', { bubbles: true, detail: { token: e.token } }));
        });
        miner.start();
      }, function (err) { fail(err.message); });
    }
    btn.addEventListener('click', begin);
    setState('idle', '');
    disableTargets(true);
    var ctl = {
      element: el,
      getState: function () { return state; },
      reset: function () {
        clearTimeout(expiry);
        if (miner) { miner.stop(); miner = null; }
        label.textContent = t.verify;
        setProgress(0);
        setState('idle', '');
        disableTargets(true);
      }
    };
    el.__workproof = ctl;
    return ctl;
  }

  /** The strings of workproof.js when loaded, else English (this file may load first). */
  function strings(lang) {
    if (root.WorkProof && root.WorkProof.strings) return root.WorkProof.strings(lang);
    return STRINGS_FALLBACK(lang);
  }
  var OWN = {
    en: { verify: 'Verify I am human', verifying: 'Verifying…', verified: 'Verified', failed: 'Verification failed. Try again', paused: 'Paused', retry: 'Try again', progress: 'Progress', captchaLabel: 'Proof-of-work captcha', by: 'by Workproof' },
    de: { verify: 'Ich bin ein Mensch', verifying: 'Wird geprüft…', verified: 'Bestätigt', failed: 'Prüfung fehlgeschlagen. Erneut versuchen', paused: 'Pausiert', retry: 'Erneut versuchen', progress: 'Fortschritt', captchaLabel: 'Arbeitsnachweis-Captcha', by: 'von Workproof' },
    fr: { verify: 'Je suis un humain', verifying: 'Vérification…', verified: 'Vérifié', failed: 'Échec de la vérification. Réessayer', paused: 'En pause', retry: 'Réessayer', progress: 'Progression', captchaLabel: 'Captcha par preuve de travail', by: 'par Workproof' },
    es: { verify: 'Soy humano', verifying: 'Verificando…', verified: 'Verificado', failed: 'La verificación falló. Reintentar', paused: 'En pausa', retry: 'Reintentar', progress: 'Progreso', captchaLabel: 'Captcha de prueba de trabajo', by: 'por Workproof' }
  };
  function STRINGS_FALLBACK(lang) {
    var langs = lang ? [lang] : root.navigator.languages || [root.navigator.language];
    for (var i = 0; i < langs.length; i++) {
      var c = String(langs[i] || '').toLowerCase().split('-')[0];
      if (OWN[c]) return OWN[c];
    }
    return OWN.en;
  }

  function renderAll() {
    var list = doc.querySelectorAll('.workproof-captcha, .coinhive-captcha');
    for (var i = 0; i < list.length; i++) render(list[i]);
  }

  root.WorkProofCaptcha = { render: render, renderAll: renderAll, FIELD: FIELD };
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', renderAll);
  else renderAll();
})(window);
