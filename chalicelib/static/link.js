/*
 * The shortlink page's script (link.html): shows the work, solves it visibly with a
 * pause/resume control and progress, then goes to the URL the server reveals only
 * after the final submit. The page starts the work itself: it exists to show it.
 */
(function (root) {
  'use strict';

  var doc = root.document;
  var main = doc.getElementById('wp-link');
  var WP = root.WorkProof;
  if (!main || !WP) return;
  var d = main.dataset;
  var t = WP.strings();
  var hashes = Math.floor(Number(d.hashes)) || 0;

  // localise the static text
  var nodes = main.querySelectorAll('[data-t]');
  for (var i = 0; i < nodes.length; i++) {
    var key = nodes[i].getAttribute('data-t');
    if (t[key]) nodes[i].textContent = t[key];
  }
  doc.documentElement.lang = t === WP.strings('de') ? 'de' : t === WP.strings('fr') ? 'fr' : t === WP.strings('es') ? 'es' : 'en';
  var hn = doc.getElementById('wp-hashes');
  if (hn && hashes) hn.textContent = hashes.toLocaleString();

  // the progress panel, in a closed shadow root: it is the miner's indicator
  var host = doc.getElementById('wp-panel');
  var shadow = host.attachShadow({ mode: 'closed' });
  WP.adoptStyle(shadow,
    ':host{all:initial;display:block}' +
    '.p{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:inherit;display:flex;flex-direction:column;gap:10px}' +
    '.bar{height:10px;border-radius:5px;background:#ddd;overflow:hidden}' +
    '.fill{height:100%;width:0;background:#0b57d0;transition:width .2s}' +
    '.row{display:flex;justify-content:space-between;align-items:center;gap:10px}' +
    'button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #777;background:#f3f3f3;color:#111;cursor:pointer}' +
    'button:focus-visible{outline:2px solid #0b57d0;outline-offset:2px}' +
    '.s{color:#555}.err .s{color:#b3261e}' +
    '@media (prefers-color-scheme:dark){.bar{background:#444}.fill{background:#8ab4f8}.s{color:#bbb}' +
    'button{background:#333;color:#eee;border-color:#888}.err .s{color:#f2b8b5}}');
  var panel = doc.createElement('div');
  panel.className = 'p';
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
  status.className = 's';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  var btn = doc.createElement('button');
  btn.type = 'button';
  btn.textContent = t.pause;
  row.appendChild(status); row.appendChild(btn);
  panel.appendChild(bar); panel.appendChild(row);
  shadow.appendChild(panel);

  var miner = new WP.Link(d.site, d.code, { api: d.api, indicator: host, hashes: hashes });
  var pct = 0, finished = false;

  function show() {
    if (finished) return;
    var text = miner.isPaused() ? t.paused : t.working + ' · ' + pct + '% · ' + WP.formatRate(miner.getHashesPerSecond());
    if (!miner.isPaused() && doc.hidden) text = t.hiddenPaused;
    status.textContent = text;
    btn.textContent = miner.isPaused() ? t.resume : t.pause;
  }
  miner.on('progress', function (e) {
    pct = Math.floor(e.progress * 100);
    fill.style.width = pct + '%';
    bar.setAttribute('aria-valuenow', String(pct));
    show();
  });
  miner.on('pause', show);
  miner.on('resume', show);
  miner.on('error', function (e) {
    if (e.error === 'connection_error' || e.error === 'invalid_share') return;
    finished = true;
    panel.className = 'p err';
    status.textContent = t.linkError + ' (' + e.error + ')';
    btn.hidden = true;
  });
  miner.on('redirect', function (e) {
    finished = true;
    fill.style.width = '100%';
    bar.setAttribute('aria-valuenow', '100');
    status.textContent = t.linkDone;
    btn.hidden = true;
    var url;
    try { url = new URL(e.url); } catch (err) { url = null; }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      panel.className = 'p err';
      status.textContent = t.linkError;
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
