/*
 * Workproof dashboard: the shared part (server calls, messages, dialogs, views,
 * session). Each view is a script of its own (dashboard-overview.js, -users.js,
 * -links.js, -settings.js) that registers itself in `workproofDashboard.views`.
 *
 * Talks only to <api>/dashboard/* on its own origin. The session is an HttpOnly
 * cookie this script never sees; state-changing calls carry the CSRF token that
 * /dashboard/session and /dashboard/signin answer. Numbers and dates use the
 * browser's locale. For tests and curious operators: window.workproofDashboard
 * holds the state and the charts.
 */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  var API = $('dashboard').getAttribute('data-api') || '';
  var MESSAGES = {
    invalid_secret: 'That site key and secret do not match.',
    too_many_attempts: 'Too many failed sign-ins from your address: wait a minute, then try again.',
    signed_out: 'Your session has ended: sign in again.',
    invalid_csrf: 'This page is out of date: reload it.',
    secret_required: 'Enter the current secret: this action needs it.',
    invalid_levels: 'Those levels do not make sense: nothing was changed.',
    unknown_user: 'No user of that name (users exist from their first accepted hashes).',
    insufficent_funds: 'Not enough balance for that withdrawal.',
    invalid_amount: 'The amount must be a whole number of hashes, at least 1.',
    invalid_page: 'That page of results is no longer valid: reload it.',
    invalid_link: 'No such link of this site (deleted already?): reload the list.',
    invalid_url: 'The target must be a full http or https URL.',
    missing_input: 'Fill in every field.',
    bad_request: 'The server refused the request as malformed.',
    internal_error: 'Something went wrong on the server: try again.',
    network: 'The server could not be reached.'
  };
  var state = { csrf: '', site: null, view: null };
  var WD = window.workproofDashboard = {
    // Views by name, from the URL's fragment: no prototype, so `#constructor` or
    // `#__proto__` names no view.
    $: $, state: state, views: Object.create(null), charts: {},
    ints: new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }),
    dateTime: new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
  };

  // --- talking to the server --------------------------------------------------

  WD.call = function (method, path, body) {
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
      if (!answer.success && answer.error === 'signed_out' && state.site) signedOut(MESSAGES.signed_out);
      return answer;
    });
  };

  WD.query = function (params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined) {
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(params[k]));
      }
    });
    return parts.length ? '?' + parts.join('&') : '';
  };

  /**
   * Says `text` in the feedback box `where` (the id of the box next to the form or
   * control that caused it; default: the page's own, for what no control caused).
   * A confirmation is a role=status line, an error a role=alert one; empty text clears.
   */
  WD.say = function (text, isError, where) {
    var box = $(where || 'status');
    box.textContent = '';
    if (!text) return;
    var line = document.createElement('p');
    line.className = 'status' + (isError ? ' error' : '');
    line.setAttribute('role', isError ? 'alert' : 'status');
    line.textContent = text;
    box.appendChild(line);
    // Right under the control that caused it, but that may be the viewport's last line.
    if (where && box.scrollIntoView) box.scrollIntoView({ block: 'nearest' });
  };

  WD.fail = function (answer, where) {
    var text = MESSAGES[answer.error] || ('Refused: ' + answer.error);
    if (answer.error === 'too_many_attempts' && answer.retryAfter) {
      text = 'Too many failed sign-ins from your address: try again in ' + answer.retryAfter + ' s.';
    }
    WD.say(text, true, where);
  };

  /** True for a success; otherwise says why in `where` (a lost session already did) and is false. */
  WD.ok = function (answer, where) {
    if (answer.success) return true;
    if (answer.error !== 'signed_out') WD.fail(answer, where);
    return false;
  };

  /** A rate in hashes a second, in the miner's units: H/s, kH/s, MH/s, GH/s (3 significant digits). */
  var rateDigits = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 3 });
  var RATE_UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s'];
  WD.rate = function (hashesPerSecond) {
    var value = Number(hashesPerSecond) || 0;
    var unit = 0;
    // Rounded first, so 999,999 H/s reads 1 MH/s and never "1,000 kH/s".
    while (unit < RATE_UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
      value /= 1000;
      unit += 1;
    }
    return rateDigits.format(value) + ' ' + RATE_UNITS[unit];
  };

  // --- shared page parts --------------------------------------------------------

  WD.cell = function (row, text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  };

  /** Each cell names its column (shown above the value when tables become cards on phones). */
  WD.labelCells = function (table) {
    var names = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) {
      return th.textContent;
    });
    table.querySelectorAll('tbody tr').forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (td, i) { td.setAttribute('data-label', names[i] || ''); });
    });
  };

  WD.confirmAction = function (text, okLabel) {
    return new Promise(function (resolve) {
      var dialog = $('confirm');
      $('confirm-text').textContent = text;
      $('confirm-ok').textContent = okLabel;
      dialog.returnValue = '';
      dialog.addEventListener('close', function () { resolve(dialog.returnValue === 'ok'); }, { once: true });
      dialog.showModal();
    });
  };

  function selectText(el) {
    if (el.select) { el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll('.copy').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = $(button.getAttribute('data-copy'));
      var text = source.tagName === 'INPUT' ? source.value : source.textContent;
      var done = function () {
        button.textContent = 'Copied';
        setTimeout(function () { button.textContent = 'Copy'; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
      } else {
        selectText(source);
      }
    });
  });

  // --- views and the session ------------------------------------------------------

  function showView(name) {
    var signedIn = !!state.site;
    // A message belongs to the view it was said in: leaving that view clears it.
    if (name !== state.view) {
      document.querySelectorAll('.feedback').forEach(function (box) { box.textContent = ''; });
    }
    $('view-signin').hidden = signedIn;
    $('nav').hidden = !signedIn;
    $('site-line').hidden = !signedIn;
    Object.keys(WD.views).forEach(function (v) {
      $('view-' + v).hidden = !signedIn || v !== name;
      if (v !== name && WD.views[v].hide) WD.views[v].hide();
    });
    document.querySelectorAll('#nav a').forEach(function (a) {
      if (a.getAttribute('data-view') === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    state.view = signedIn ? name : null;
    if (!signedIn) { $('signin-key').focus(); return; }
    WD.views[name].show();
  }

  function route() {
    var name = location.hash.replace('#', '');
    showView(Object.prototype.hasOwnProperty.call(WD.views, name) ? name : 'overview');
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
    showView(null);
    WD.say(message || '', !!message, 'signin-feedback');
  }
  WD.signedOut = signedOut;

  $('signin-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var button = $('signin-submit');
    var secretField = $('signin-secret');
    button.disabled = true;
    WD.call('POST', 'signin', { site_key: $('signin-key').value.trim(), secret: secretField.value })
      .then(function (answer) {
        button.disabled = false;
        secretField.value = '';  // the secret leaves the page as soon as it is sent
        if (!answer.success) { WD.fail(answer, 'signin-feedback'); return; }
        WD.say('', false, 'signin-feedback');
        signedIn(answer);
      });
  });

  $('sign-out').addEventListener('click', function () {
    WD.call('POST', 'signout').then(function (answer) {
      if (!answer.success && answer.error !== 'signed_out') { WD.fail(answer); return; }
      signedOut('');
      WD.say('Signed out.', false, 'signin-feedback');
    });
  });

  window.addEventListener('hashchange', function () { if (state.site) route(); });
  // Choosing the view already shown reloads it (no hashchange then).
  document.querySelectorAll('#nav a').forEach(function (a) {
    a.addEventListener('click', function () {
      if (state.site && a.getAttribute('data-view') === state.view) showView(state.view);
    });
  });

  // The view scripts load after this one: start once they have registered.
  document.addEventListener('DOMContentLoaded', function () {
    try { $('signin-key').value = localStorage.getItem('workproof.siteKey') || ''; } catch (e) { /* private mode */ }
    WD.call('GET', 'session').then(function (answer) {
      if (answer.success) signedIn(answer);
      else signedOut('');
    });
  });
})();
