/* The demo page's script (demo.html): captcha form, user miner, shortlink form. */
(function (root) {
  'use strict';

  var doc = root.document;
  var main = doc.getElementById('demo');
  var WP = root.WorkProof;
  if (!main || !WP) return;
  var site = main.dataset.site, api = main.dataset.api;
  function $(id) { return doc.getElementById(id); }

  /** Posts a form with fetch and shows the JSON answer. */
  function ajaxForm(form, out, onAnswer) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      out.textContent = '…';
      root.fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
        .then(function (r) { return r.json(); })
        .then(function (json) {
          out.textContent = JSON.stringify(json, null, 2);
          if (onAnswer) onAnswer(json);
        }, function (err) { out.textContent = 'Request failed: ' + err.message; });
    });
  }

  // 1. captcha
  root.workproofDemoVerified = function (token) {
    $('captcha-result').textContent = 'Token ' + token + ' is in the form; press “Send”.';
  };
  ajaxForm($('captcha-form'), $('captcha-result'), function () {
    // a token verifies once: the next send needs a new captcha (reset clears the field)
    if (root.WorkProofCaptcha) root.WorkProofCaptcha.reset();
  });

  // 2. user miner
  var miner = null, log = $('miner-log'), lines = [];
  function note(text) {
    lines.push(new Date().toLocaleTimeString() + '  ' + text);
    if (lines.length > 8) lines.shift();
    log.textContent = lines.join('\n');
  }
  $('throttle').addEventListener('input', function () {
    $('throttle-value').textContent = this.value;
    if (miner) miner.setThrottle(Number(this.value));
  });
  $('threads').addEventListener('change', function () {
    if (miner) miner.setNumThreads(Number(this.value));
  });
  $('miner-start').addEventListener('click', function () {
    if (miner) miner.stop();
    miner = new WP.User(site, $('user-name').value || 'demo-user', {
      api: api, throttle: Number($('throttle').value), threads: Number($('threads').value) || 2
    });
    miner.on('open', function () { note('connected'); });
    miner.on('job', function (e) { note('job: ' + e.count + ' × ' + e.difficulty + ' hashes'); });
    miner.on('accepted', function (e) { note('accepted ' + e.hashes + ' hashes'); });
    miner.on('pause', function (e) { note('paused (' + e.reason + ')'); });
    miner.on('resume', function () { note('working'); });
    miner.on('error', function (e) { note('error: ' + e.error); });
    miner.on('close', function () { note('stopped'); });
    miner.start();
    $('miner-start').disabled = true;
    $('miner-stop').disabled = false;
  });
  $('miner-stop').addEventListener('click', function () {
    if (miner) miner.stop();
    $('miner-start').disabled = false;
    $('miner-stop').disabled = true;
  });
  setInterval(function () {
    if (!miner) return;
    $('stat-rate').textContent = WP.formatRate(miner.getHashesPerSecond());
    $('stat-total').textContent = miner.getTotalHashes().toLocaleString();
    $('stat-accepted').textContent = miner.getAcceptedHashes().toLocaleString();
    $('stat-engine').textContent = miner.getEngine() || '–';
  }, 500);

  // 3. shortlink
  ajaxForm($('link-form'), $('link-result'), function (json) {
    if (json && json.success && /^https?:\/\//.test(String(json.url))) {
      var out = $('link-result');
      out.textContent = '';
      var a = doc.createElement('a');
      a.href = json.url;
      a.textContent = json.url;
      a.target = '_blank';
      a.rel = 'noopener';
      out.appendChild(a);
    }
  });
})(window);
