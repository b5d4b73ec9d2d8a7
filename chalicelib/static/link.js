/*
 * The shortlink page's script (link.html): shows the work, solves it visibly with a
 * pause/resume control and progress, then goes to the URL the server reveals only
 * after the final submit. The page starts the work itself: it exists to show it.
 * Text comes in the page's language (the server chose it from Accept-Language);
 * screen readers hear the state changes and each quarter of the progress, no more.
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var main = doc.getElementById('wp-link');
  var WP = root.WorkProof;
  if (!main || !WP) return;
  var d = main.dataset;
  var loc = WP.locale(doc.documentElement.lang);
  var hashes = Math.floor(Number(d.hashes)) || 0;
  var shownHashes = doc.getElementById('wp-hashes');
  if (shownHashes && hashes) shownHashes.textContent = loc.number(hashes);
  // The size said honestly: the time this work takes a typical phone (Chromium's WASM solver,
  // 16.7 MH/s per desktop worker in bench/miner/RESULTS.md, on two workers of a phone's CPU
  // about 4x slower: about 4 MH/s together).
  var TYPICAL_PHONE_RATE = 4e6;
  var estimate = doc.getElementById('wp-estimate');
  if (estimate && hashes) {
    estimate.textContent = '≈ ' + loc.duration(hashes / TYPICAL_PHONE_RATE);
    doc.getElementById('wp-estimate-row').hidden = false;
  }

  // the progress panel, in a closed shadow root: it is the miner's indicator
  var host = doc.getElementById('wp-panel');
  var shadow = host.attachShadow({ mode: 'closed' });
  WP.adoptStyle(shadow,
    ':host{all:initial;display:block}' +
    '.p{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;display:flex;flex-direction:column;gap:10px}' +
    '.bar{height:10px;border-radius:5px;background:#ddd;overflow:hidden}' +
    '.fill{height:100%;width:0;background:#0b57d0;transition:width .2s}' +
    '.row{display:flex;justify-content:space-between;align-items:center;gap:10px}button{flex:none;white-space:nowrap}' +
    'button{font:inherit;min-height:32px;padding:4px 14px;border-radius:6px;border:1px solid #767676;background:#f3f3f3;color:#111;cursor:pointer}' +
    'button:focus-visible{outline:2px solid #0b57d0;outline-offset:2px}' +
    '.s{color:#555;font-variant-numeric:tabular-nums}.err .s{color:#b3261e}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '[hidden]{display:none}' +
    '@media (prefers-color-scheme:dark){.p{color:#eee}.bar{background:#444}.fill{background:#8ab4f8}.s{color:#bbb}' +
    'button{background:#333;color:#eee;border-color:#8f8f8f}button:focus-visible{outline-color:#8ab4f8}.err .s{color:#f2b8b5}}' +
    '@media (prefers-reduced-motion:reduce){.fill{transition:none}}');
  var panel = doc.createElement('div');
  panel.className = 'p';
  panel.dir = loc.dir;
  panel.lang = loc.code;
  var bar = doc.createElement('div');
  bar.className = 'bar';
  bar.setAttribute('role', 'progressbar');
  bar.setAttribute('aria-label', loc.text('progressLabel'));
  bar.setAttribute('aria-valuemin', '0');
  bar.setAttribute('aria-valuemax', '100');
  bar.setAttribute('aria-valuenow', '0');
  var fill = doc.createElement('div');
  fill.className = 'fill';
  bar.appendChild(fill);
  var row = doc.createElement('div');
  row.className = 'row';
  var status = doc.createElement('span');
  status.className = 's';
  var live = doc.createElement('span');
  live.className = 'sr';
  live.setAttribute('role', 'status');
  var btn = doc.createElement('button');
  btn.type = 'button';
  btn.textContent = loc.text('pause');
  row.appendChild(status); row.appendChild(btn);
  panel.appendChild(bar); panel.appendChild(row); panel.appendChild(live);
  shadow.appendChild(panel);

  var miner = new WP.Link(d.site, d.code, { api: d.api, indicator: host, hashes: hashes, language: loc.code });
  var fraction = 0, quarter = 0, finished = false, lastState = '';

  function announce(text) { live.textContent = text; }
  function state() {
    if (miner.isPaused()) return 'paused';
    if (doc.hidden) return 'pausedHidden';
    if (miner.busyUntil > Date.now()) return 'busy';  // the server asked to wait (Retry-After)
    return 'working';
  }
  function show() {
    if (finished) return;
    var now = state();
    var text = now === 'working'
      ? loc.text('progressAnnounce', { pct: loc.percent(fraction) }) + ' · ' + WP.formatRate(miner.getHashesPerSecond())
      : now === 'busy' ? WP.busyText(loc, miner.busyUntil - Date.now()) : loc.text(now);
    status.textContent = text;
    btn.textContent = loc.text(miner.isPaused() ? 'resume' : 'pause');
    if (now !== lastState && lastState) announce(now === 'working' ? loc.text('progressAnnounce', { pct: loc.percent(fraction) }) : text);
    lastState = now;
  }
  miner.on('progress', function (e) {
    fraction = Math.max(0, Math.min(1, e.progress));
    fill.style.width = Math.floor(fraction * 100) + '%';
    var q = Math.floor(fraction * 4);
    if (q > quarter) {  // each quarter once: the bar's value and one announcement
      quarter = q;
      bar.setAttribute('aria-valuenow', String(q * 25));
      if (q < 4) announce(loc.text('progressAnnounce', { pct: loc.percent(q / 4) }));
    }
    show();
  });
  miner.on('pause', show);
  miner.on('resume', show);
  miner.on('error', function (e) {
    if (e.error === 'busy') { show(); return; }  // retried by the miner after Retry-After
    if (e.error === 'connection_error' || e.error === 'invalid_share') return;
    finished = true;
    panel.className = 'p err';
    // The visitor reads words; the code is for the site's developer (attribute and console).
    status.textContent = loc.text('linkError');
    host.setAttribute('data-workproof-error', e.error);
    if (root.console) root.console.warn('Workproof link: ' + e.error);
    announce(loc.text('linkError'));
    btn.hidden = true;
  });
  miner.on('redirect', function (e) {
    finished = true;
    fill.style.width = '100%';
    bar.setAttribute('aria-valuenow', '100');
    status.textContent = loc.text('linkDone');
    announce(loc.text('linkDone'));
    btn.hidden = true;
    var url;
    try { url = new URL(e.url); } catch (err) { url = null; }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      panel.className = 'p err';
      status.textContent = loc.text('linkError');
      return;
    }
    root.location.replace(url.href);
  });
  btn.addEventListener('click', function () {
    if (miner.isPaused()) miner.resume(); else miner.pause();
    show();
  });
  setInterval(show, 1000);
  show();
  miner.start();
})(window);
