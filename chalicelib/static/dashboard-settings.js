/*
 * Workproof dashboard, settings: allowed origins, the work levels under pressure
 * (shown with where the site stands now, and set), the least captcha work
 * siteverify asks when the backend names none, secret rotation (asks for
 * the current secret; the new one is shown once, then sign in again) and the snippets to paste
 * (the two-URL switch from reCAPTCHA and Turnstile among them). Each form's messages show
 * in the feedback box under it.
 */
(function () {
  'use strict';

  var WD = window.workproofDashboard;
  var $ = WD.$;

  var percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });
  var rates = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

  function showPressure(p) {
    $('pressure-level').textContent = WD.ints.format(p.level);
    $('pressure-work').textContent = WD.ints.format(p.minWorkNow);
    $('pressure-admitted').textContent = percent.format(p.admitted);
    $('pressure-rate').textContent = rates.format(p.sharesPerMinute);
    $('pressure-heavy').textContent = WD.ints.format(p.heavySources);
    $('pressure-custom').textContent = p.custom ? 'This site has levels of its own.'
      : 'This site follows the deployment\'s defaults.';
    var body = $('levels-table').querySelector('tbody');
    body.textContent = '';
    p.levels.forEach(function (work, i) {
      var row = document.createElement('tr');
      if (i === p.level) row.className = 'current';
      WD.cell(row, WD.ints.format(i));
      WD.cell(row, WD.ints.format(work), 'num');
      WD.cell(row, i === p.level ? 'now' : '');
      body.appendChild(row);
    });
    WD.labelCells($('levels-table'));
    $('levels-works').value = p.levels.join(',');
    $('levels-step-up').value = p.stepUp;
    $('levels-ceiling').value = p.ceiling;
  }

  function saveLevels(body) {
    WD.call('POST', 'settings/levels', body).then(function (answer) {
      if (!answer.success && answer.error === 'invalid_levels') {
        WD.say('Levels must rise, each from 1 to 4,294,967,296 hashes (at most 8 levels); '
          + 'step-up and ceiling from 1 to 10,000,000 shares a minute.', true, 'levels-feedback');
        return;
      }
      if (!WD.ok(answer, 'levels-feedback')) return;
      showPressure(answer.pressure);
      WD.say(answer.pressure.custom ? 'Levels saved.' : 'Back to the default levels.', false,
        'levels-feedback');
    });
  }

  $('levels-form').addEventListener('submit', function (e) {
    e.preventDefault();
    saveLevels({ works: $('levels-works').value, step_up: Number($('levels-step-up').value),
                 ceiling: Number($('levels-ceiling').value) });
  });

  $('levels-reset').addEventListener('click', function () { saveLevels({ reset: true }); });

  function showCaptcha(c) {
    $('captcha-hashes').value = c.hashes;
    $('captcha-custom').textContent = c.custom ? 'This site set its own.'
      : 'This site asks its base work (level 0).';
  }

  function saveCaptcha(body) {
    WD.call('POST', 'settings/captcha', body).then(function (answer) {
      if (!answer.success && answer.error === 'bad_request') {
        WD.say('The least captcha work is a whole number of hashes from 1 to 9,007,199,254,740,991.', true,
          'captcha-feedback');
        return;
      }
      if (!WD.ok(answer, 'captcha-feedback')) return;
      showCaptcha(answer.captcha);
      WD.say(answer.captcha.custom ? 'Least captcha work saved.' : 'Back to the base work.', false,
        'captcha-feedback');
    });
  }

  $('captcha-form').addEventListener('submit', function (e) {
    e.preventDefault();
    saveCaptcha({ hashes: Number($('captcha-hashes').value) });
  });

  $('captcha-reset').addEventListener('click', function () { saveCaptcha({ reset: true }); });

  function load() {
    WD.call('GET', 'settings').then(function (answer) {
      if (!WD.ok(answer)) return;
      showPressure(answer.pressure);
      showCaptcha(answer.captcha);
      $('origins').value = answer.origins.join('\n');
      ['captcha', 'miner', 'recaptchaFront', 'recaptchaBack', 'turnstileFront', 'turnstileBack']
        .forEach(function (name) { $('snippet-' + name).textContent = answer.snippets[name]; });
    });
  }

  $('origins-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var origins = $('origins').value.split('\n').map(function (s) { return s.trim(); })
      .filter(function (s) { return s; });
    WD.call('POST', 'settings/origins', { origins: origins }).then(function (answer) {
      if (!answer.success && answer.error === 'bad_request') {
        WD.say('Each line must be an origin: https://host or https://host:port.', true,
          'origins-feedback');
        return;
      }
      if (!WD.ok(answer, 'origins-feedback')) return;
      $('origins').value = answer.origins.join('\n');
      WD.say(answer.origins.length ? 'Saved: only these origins may run your miners.'
        : 'Saved: any origin may run your miners.', false, 'origins-feedback');
    });
  });

  $('rotate-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var secretField = $('rotate-secret');
    WD.confirmAction('Rotate the secret? The current one stops working at once, for your backends too.', 'Rotate')
      .then(function (ok) {
        if (!ok) return;
        var secret = secretField.value;
        secretField.value = '';  // the secret leaves the page as soon as it is sent
        WD.call('POST', 'settings/rotate', { secret: secret }).then(function (answer) {
          if (!answer.success && answer.error === 'invalid_secret') {
            WD.say('That is not the current secret of this site: nothing was changed.', true,
              'rotate-feedback');
            return;
          }
          if (!WD.ok(answer, 'rotate-feedback')) return;
          var dialog = $('secret-dialog');
          $('new-secret').value = answer.secret;
          dialog.addEventListener('close', function () {
            $('new-secret').value = '';  // shown once: gone from the page when closed
            WD.signedOut('');
            $('signin-key').value = answer.siteKey;
            WD.say('Secret rotated: sign in with the new one.', false, 'signin-feedback');
          }, { once: true });
          dialog.showModal();
        });
      });
  });

  WD.views.settings = { show: load };
})();
