/*
 * Workproof dashboard, settings: allowed origins, secret rotation (asks for
 * the current secret; the new one is shown once, then sign in again) and the snippets to paste.
 */
(function () {
  'use strict';

  var WD = window.workproofDashboard;
  var $ = WD.$;

  function load() {
    WD.call('GET', 'settings').then(function (answer) {
      if (!WD.ok(answer)) return;
      $('origins').value = answer.origins.join('\n');
      $('snippet-captcha').textContent = answer.snippets.captcha;
      $('snippet-miner').textContent = answer.snippets.miner;
    });
  }

  $('origins-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var origins = $('origins').value.split('\n').map(function (s) { return s.trim(); })
      .filter(function (s) { return s; });
    WD.call('POST', 'settings/origins', { origins: origins }).then(function (answer) {
      if (!answer.success && answer.error === 'bad_request') {
        WD.say('Each line must be an origin: https://host or https://host:port.', true);
        return;
      }
      if (!WD.ok(answer)) return;
      $('origins').value = answer.origins.join('\n');
      WD.say(answer.origins.length ? 'Saved: only these origins may run your miners.'
        : 'Saved: any origin may run your miners.');
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
            WD.say('That is not the current secret of this site: nothing was changed.', true);
            return;
          }
          if (!WD.ok(answer)) return;
          var dialog = $('secret-dialog');
          $('new-secret').value = answer.secret;
          dialog.addEventListener('close', function () {
            $('new-secret').value = '';  // shown once: gone from the page when closed
            WD.signedOut('');
            $('signin-key').value = answer.siteKey;
            WD.say('Secret rotated: sign in with the new one.');
          }, { once: true });
          dialog.showModal();
        });
      });
  });

  WD.views.settings = { show: load };
})();
