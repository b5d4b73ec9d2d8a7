/*
 * Workproof dashboard: sign-in, overview (live), users, links, settings.
 *
 * Talks only to <api>/dashboard/* on its own origin. The session is an HttpOnly
 * cookie this script never sees; state-changing calls carry the CSRF token that
 * /dashboard/session and /dashboard/signin answer. Numbers and dates use the
 * browser's locale. Charts are uPlot (vendored at /lib/uPlot.iife.min.js).
 * For tests and curious operators: window.workproofDashboard holds the charts.
 */
(function () {
  'use strict';

  var main = document.getElementById('dashboard');
  var API = main.getAttribute('data-api') || '';
  var POLL_MS = 5000;
  var HOUR = 3600;
  var ints = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  var rates = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  var compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
  var dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  var hourOnly = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  var dayOnly = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' });
  var VIEWS = ['overview', 'users', 'links', 'settings'];
  var MESSAGES = {
    invalid_secret: 'That site key and secret do not match.',
    too_many_attempts: 'Too many failed sign-ins from your address: wait a minute, then try again.',
    signed_out: 'Your session has ended: sign in again.',
    invalid_csrf: 'This page is out of date: reload it.',
    unknown_user: 'No user of that name (users exist from their first accepted hashes).',
    insufficent_funds: 'Not enough balance for that withdrawal.',
    invalid_amount: 'The amount must be a whole number of hashes, at least 1.',
    invalid_page: 'That page of results is no longer valid: reload it.',
    missing_input: 'Fill in every field.',
    bad_request: 'The server refused the request as malformed.',
    internal_error: 'Something went wrong on the server: try again.',
    network: 'The server could not be reached.'
  };

  var state = {
    csrf: '', site: null, view: null, range: 24, overview: null, pollTimer: null,
    loadingOverview: false, usersOrder: 'total', user: null, linksNext: null
  };
  var charts = { hashes: null, activity: null };
  window.workproofDashboard = { charts: charts, state: state };

  function $(id) { return document.getElementById(id); }

  // --- talking to the server ------------------------------------------------

  function call(method, path, body) {
    var init = { method: method, credentials: 'same-origin', cache: 'no-store', headers: {} };
    if (method === 'POST') {
      init.headers['Content-Type'] = 'application/json';
      init.headers['X-Workproof-Csrf'] = state.csrf;
      init.body = JSON.stringify(body || {});
    }
    return fetch(API + '/dashboard/' + path, init).then(function (response) {
      return response.json().then(function (answer) {
        answer.retryAfter = response.headers.get('Retry-After');
        return answer;
      });
    }, function () { return { success: false, error: 'network' }; }).then(function (answer) {
      if (!answer.success && answer.error === 'signed_out' && state.site) {
        signedOut(MESSAGES.signed_out);
      }
      return answer;
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined) {
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(params[k]));
      }
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function say(text, isError) {
    var status = $('status');
    status.textContent = text || '';
    status.hidden = !text;
    status.classList.toggle('error', !!isError);
  }

  function fail(answer) {
    var text = MESSAGES[answer.error] || ('Refused: ' + answer.error);
    if (answer.error === 'too_many_attempts' && answer.retryAfter) {
      text = 'Too many failed sign-ins from your address: try again in ' + answer.retryAfter + ' s.';
    }
    say(text, true);
  }

  // --- views ----------------------------------------------------------------

  function showView(name) {
    var signedIn = !!state.site;
    $('view-signin').hidden = signedIn;
    $('nav').hidden = !signedIn;
    $('site-line').hidden = !signedIn;
    VIEWS.forEach(function (v) { $('view-' + v).hidden = !signedIn || v !== name; });
    document.querySelectorAll('#nav a').forEach(function (a) {
      if (a.getAttribute('data-view') === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    state.view = signedIn ? name : null;
    stopPolling();
    if (!signedIn) { $('signin-key').focus(); return; }
    if (name === 'overview') refreshOverview();
    if (name === 'users') loadUsers();
    if (name === 'links') loadLinks(false);
    if (name === 'settings') loadSettings();
  }

  function route() {
    var name = location.hash.replace('#', '');
    showView(VIEWS.indexOf(name) >= 0 ? name : 'overview');
  }

  function signedIn(answer) {
    state.csrf = answer.csrf;
    state.site = answer.site;
    $('site-name').textContent = answer.site.name;
    $('site-key').textContent = answer.site.siteKey;
    try { localStorage.setItem('workproof.siteKey', answer.site.siteKey); } catch (e) { /* private mode */ }
    route();
  }

  function signedOut(message) {
    state.site = null;
    state.csrf = '';
    state.overview = null;
    showView(null);
    say(message || '', !!message);
  }

  // --- overview -------------------------------------------------------------

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function chartWidth(el) { return Math.max(260, el.clientWidth); }

  function timeAxis() {
    return {
      stroke: css('--mut'), grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') },
      values: function (u, splits) {
        // Over 7 days: the day at midnight, the hour elsewhere.
        return splits.map(function (s) {
          var d = new Date(s * 1000);
          var midnight = d.getHours() === 0 && d.getMinutes() === 0;
          return (state.range > 24 && midnight ? dayOnly : hourOnly).format(d);
        });
      }
    };
  }

  function countAxis() {
    return {
      stroke: css('--mut'), grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') }, size: 56,
      values: function (u, splits) { return splits.map(function (v) { return compact.format(v); }); }
    };
  }

  function valueOf(u, v) { return v === null || v === undefined ? '–' : ints.format(v); }
  function timeOf(u, v) { return v === null || v === undefined ? '–' : dateTime.format(new Date(v * 1000)); }

  function makeChart(el, series) {
    var opts = {
      width: chartWidth(el), height: 240,
      scales: {
        // Half an hour of room on each side, so the first and last hours' bars show whole.
        x: { time: true, range: function (u, min, max) { return [min - HOUR / 2, max + HOUR / 2]; } },
        y: { range: function (u, min, max) { return [0, Math.max(4, max * 1.1)]; } }
      },
      axes: [timeAxis(), countAxis()],
      series: [{ label: 'Hour', value: timeOf }].concat(series),
      cursor: { points: { size: 6 } },
      legend: { live: true }
    };
    return new uPlot(opts, [[], []].concat(series.slice(1).map(function () { return []; })), el);
  }

  function nonZeroPoints() {
    return {
      show: false, size: 7,
      filter: function (u, seriesIdx) {
        var found = [];
        u.data[seriesIdx].forEach(function (v, i) { if (v > 0) found.push(i); });
        return found.length ? found : null;
      }
    };
  }

  function buildCharts() {
    Object.keys(charts).forEach(function (k) { if (charts[k]) { charts[k].destroy(); charts[k] = null; } });
    var acc = css('--acc');
    charts.hashes = makeChart($('chart-hashes'), [{
      label: 'Hashes', stroke: acc, fill: acc + '55', width: 1, value: valueOf,
      paths: uPlot.paths.bars({ size: [0.7, 48] }), points: { show: false }
    }]);
    charts.activity = makeChart($('chart-activity'), [
      // Dashes and dots at the non-zero hours keep overlapping series apart.
      { label: 'Captchas solved', stroke: css('--acc'), width: 2, value: valueOf, points: nonZeroPoints() },
      { label: 'Captchas verified', stroke: css('--acc3'), width: 2, dash: [8, 4], value: valueOf,
        points: nonZeroPoints() },
      { label: 'Link visits', stroke: css('--acc4'), width: 2, dash: [2, 3], value: valueOf,
        points: nonZeroPoints() }
    ]);
    drawOverview();
  }

  function sum(list) { return list.reduce(function (a, b) { return a + b; }, 0); }

  function drawOverview() {
    var data = state.overview;
    if (!data || !charts.hashes) return;
    var n = state.range;
    var hours = data.hours.slice(-n);
    var s = data.series;
    charts.hashes.setData([hours, s.hashes.slice(-n)]);
    charts.activity.setData([hours, s.captchasSolved.slice(-n), s.captchasVerified.slice(-n),
      s.linkVisits.slice(-n)]);
    $('ov-rate').textContent = rates.format(data.hashesPerSecond);
    $('ov-total').textContent = ints.format(data.hashesTotal);
    $('ov-solved').textContent = ints.format(sum(s.captchasSolved.slice(-n)));
    $('ov-verified').textContent = ints.format(sum(s.captchasVerified.slice(-n)));
    $('ov-visits').textContent = ints.format(sum(s.linkVisits.slice(-n)));
    document.querySelectorAll('.range-label').forEach(function (el) {
      el.textContent = n > 24 ? '(7 days)' : '(24 hours)';
    });
    $('chart-hashes').setAttribute('data-updated', String(data.now));
  }

  function refreshOverview() {
    if (state.loadingOverview) return Promise.resolve();
    state.loadingOverview = true;
    return call('GET', 'overview').then(function (answer) {
      state.loadingOverview = false;
      if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
      state.overview = answer;
      if (!charts.hashes) buildCharts(); else drawOverview();
    }).then(schedulePoll, schedulePoll);
  }

  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
    $('ov-live').classList.add('paused');
    $('ov-live').textContent = 'Paused';
  }

  // Polls while the overview is shown and the page is visible; stops otherwise.
  function schedulePoll() {
    stopPolling();
    if (state.view !== 'overview' || document.visibilityState !== 'visible') return;
    $('ov-live').classList.remove('paused');
    $('ov-live').textContent = 'Live';
    state.pollTimer = setTimeout(refreshOverview, POLL_MS);
  }

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && state.view === 'overview') refreshOverview();
    else stopPolling();
  });

  document.querySelectorAll('[data-range]').forEach(function (button) {
    button.addEventListener('click', function () {
      state.range = Number(button.getAttribute('data-range'));
      document.querySelectorAll('[data-range]').forEach(function (b) {
        b.setAttribute('aria-pressed', String(b === button));
      });
      if (charts.hashes) buildCharts();  // the time axis' labels change with the range
    });
  });

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(charts).forEach(function (k) {
        var u = charts[k];
        if (u) u.setSize({ width: chartWidth(u.root.parentNode), height: 240 });
      });
    }, 100);
  });
  if (window.matchMedia) {
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', function () {
      if (charts.hashes) buildCharts();
    });
  }

  // --- users ----------------------------------------------------------------

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  // Each cell names its column (shown above the value when tables become cards on phones).
  function labelCells(table) {
    var names = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) {
      return th.textContent;
    });
    table.querySelectorAll('tbody tr').forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (td, i) { td.setAttribute('data-label', names[i] || ''); });
    });
  }

  function loadUsers() {
    return call('GET', 'users' + query({ order: state.usersOrder })).then(function (answer) {
      if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
      var body = $('users-table').querySelector('tbody');
      body.textContent = '';
      answer.users.forEach(function (u, i) {
        var row = document.createElement('tr');
        cell(row, ints.format(i + 1), 'num');
        var name = cell(row, '', 'name');
        var pick = document.createElement('button');
        pick.type = 'button';
        pick.className = 'linkish';
        pick.textContent = u.name;
        pick.addEventListener('click', function () { $('user-name').value = u.name; findUser(u.name); });
        name.appendChild(pick);
        cell(row, ints.format(u.total), 'num');
        cell(row, ints.format(u.withdrawn), 'num');
        cell(row, ints.format(u.balance), 'num');
        body.appendChild(row);
      });
      labelCells($('users-table'));
      $('users-empty').hidden = answer.users.length > 0;
    });
  }

  function showUser(user) {
    state.user = user;
    $('user-card').hidden = !user;
    if (!user) return;
    $('user-card-name').textContent = user.name;
    $('user-total').textContent = ints.format(user.total);
    $('user-withdrawn').textContent = ints.format(user.withdrawn);
    $('user-balance').textContent = ints.format(user.balance);
  }

  function findUser(name) {
    return call('GET', 'user' + query({ name: name })).then(function (answer) {
      if (!answer.success) { showUser(null); if (answer.error !== 'signed_out') fail(answer); return; }
      say('');
      showUser(answer.user);
    });
  }

  $('users-order').addEventListener('change', function (e) {
    state.usersOrder = e.target.value;
    loadUsers();
  });
  $('user-search').addEventListener('submit', function (e) {
    e.preventDefault();
    findUser($('user-name').value);
  });
  $('withdraw-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var user = state.user;
    var amount = Number($('withdraw-amount').value);
    if (!user) return;
    confirmAction('Withdraw ' + ints.format(amount) + ' hashes from “' + user.name + '”?', 'Withdraw')
      .then(function (ok) {
        if (!ok) return;
        call('POST', 'user/withdraw', { name: user.name, amount: amount }).then(function (answer) {
          if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
          say('Withdrew ' + ints.format(answer.amount) + ' hashes from “' + answer.name + '”.');
          $('withdraw-amount').value = '';
          showUser(answer.user);
          loadUsers();
        });
      });
  });
  $('reset-user').addEventListener('click', function () {
    var user = state.user;
    if (!user) return;
    confirmAction('Reset “' + user.name + '” to zero? Total, withdrawn and balance all become 0.', 'Reset')
      .then(function (ok) {
        if (!ok) return;
        call('POST', 'user/reset', { name: user.name }).then(function (answer) {
          if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
          say('“' + answer.name + '” was reset to zero.');
          findUser(answer.name);
          loadUsers();
        });
      });
  });

  // --- links ----------------------------------------------------------------

  function when(seconds) { return seconds ? dateTime.format(new Date(seconds * 1000)) : 'never'; }

  function loadLinks(more) {
    var page = more ? state.linksNext : null;
    return call('GET', 'links' + query({ page: page })).then(function (answer) {
      if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
      var body = $('links-table').querySelector('tbody');
      if (!more) body.textContent = '';
      answer.links.forEach(function (link) {
        var row = document.createElement('tr');
        var first = cell(row, '');
        var a = document.createElement('a');
        a.href = link.url;
        a.textContent = link.code;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        first.appendChild(a);
        cell(row, link.host, 'name');
        cell(row, ints.format(link.hashes), 'num');
        cell(row, ints.format(link.visitsStarted), 'num');
        cell(row, ints.format(link.visitsCompleted), 'num');
        cell(row, when(link.lastVisit));
        cell(row, when(link.created));
        row.setAttribute('data-code', link.code);
        body.appendChild(row);
      });
      labelCells($('links-table'));
      state.linksNext = answer.nextPage;
      $('links-more').hidden = !answer.nextPage;
      $('links-empty').hidden = body.children.length > 0;
    });
  }
  $('links-more').addEventListener('click', function () { loadLinks(true); });

  // --- settings -------------------------------------------------------------

  function loadSettings() {
    return call('GET', 'settings').then(function (answer) {
      if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
      $('origins').value = answer.origins.join('\n');
      $('snippet-captcha').textContent = answer.snippets.captcha;
      $('snippet-miner').textContent = answer.snippets.miner;
    });
  }

  $('origins-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var origins = $('origins').value.split('\n').map(function (s) { return s.trim(); })
      .filter(function (s) { return s; });
    call('POST', 'settings/origins', { origins: origins }).then(function (answer) {
      if (!answer.success) {
        if (answer.error === 'bad_request') say('Each line must be an origin: https://host or https://host:port.', true);
        else if (answer.error !== 'signed_out') fail(answer);
        return;
      }
      $('origins').value = answer.origins.join('\n');
      say(answer.origins.length ? 'Saved: only these origins may run your miners.' : 'Saved: any origin may run your miners.');
    });
  });

  $('rotate').addEventListener('click', function () {
    confirmAction('Rotate the secret? The current one stops working at once, for your backends too.', 'Rotate')
      .then(function (ok) {
        if (!ok) return;
        call('POST', 'settings/rotate').then(function (answer) {
          if (!answer.success) { if (answer.error !== 'signed_out') fail(answer); return; }
          var dialog = $('secret-dialog');
          $('new-secret').value = answer.secret;
          dialog.addEventListener('close', function () {
            $('new-secret').value = '';  // shown once: gone from the page when closed
            var key = state.site.siteKey;
            signedOut('');
            $('signin-key').value = key;
            say('Secret rotated: sign in with the new one.');
          }, { once: true });
          dialog.showModal();
        });
      });
  });

  document.querySelectorAll('.copy').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = $(button.getAttribute('data-copy'));
      var text = 'value' in source && source.tagName === 'INPUT' ? source.value : source.textContent;
      var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
      } else {
        selectText(source);
      }
    });
  });

  function selectText(el) {
    if (el.select) { el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function confirmAction(text, okLabel) {
    return new Promise(function (resolve) {
      var dialog = $('confirm');
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = okLabel;
      dialog.returnValue = '';
      dialog.addEventListener('close', function () { resolve(dialog.returnValue === 'ok'); }, { once: true });
      dialog.showModal();
    });
  }

  // --- session ----------------------------------------------------------------

  $('signin-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var button = $('signin-submit');
    var secretField = $('signin-secret');
    button.disabled = true;
    call('POST', 'signin', { site_key: $('signin-key').value.trim(), secret: secretField.value })
      .then(function (answer) {
        button.disabled = false;
        secretField.value = '';  // the secret leaves the page as soon as it is sent
        if (!answer.success) { fail(answer); return; }
        say('');
        signedIn(answer);
      });
  });

  $('sign-out').addEventListener('click', function () {
    call('POST', 'signout').then(function (answer) {
      if (!answer.success && answer.error !== 'signed_out') { fail(answer); return; }
      signedOut('');
      say('Signed out.');
    });
  });

  window.addEventListener('hashchange', function () { if (state.site) route(); });

  try { $('signin-key').value = localStorage.getItem('workproof.siteKey') || ''; } catch (e) { /* private mode */ }
  call('GET', 'session').then(function (answer) {
    if (answer.success) signedIn(answer);
    else signedOut('');
  });
})();
