/*
 * Workproof dashboard, users: the top 100 by total, balance or withdrawn, a
 * user found by exact name, and withdraw / reset after a confirmation.
 */
(function () {
  'use strict';

  var WD = window.workproofDashboard;
  var $ = WD.$;
  var ints = WD.ints;
  var view = { order: 'total', user: null };

  /*
   * Names are opaque (as Coinhive's): "Ångström" precomposed and decomposed are two
   * users that look alike. A name not in Unicode NFC gets a visible mark, so an
   * operator never takes one for the other.
   */
  function nfcMark(name) {
    if (name.normalize('NFC') === name) return null;
    var mark = document.createElement('span');
    mark.className = 'not-nfc';
    mark.textContent = 'not NFC — looks like another name';
    mark.title = 'This name is not in Unicode normal form C: another user may have a name '
      + 'that looks the same but is written with other code points.';
    return mark;
  }

  function load() {
    WD.call('GET', 'users' + WD.query({ order: view.order })).then(function (answer) {
      if (!WD.ok(answer)) return;
      var body = $('users-table').querySelector('tbody');
      body.textContent = '';
      answer.users.forEach(function (u, i) {
        var row = document.createElement('tr');
        WD.cell(row, ints.format(i + 1), 'num');
        var pick = document.createElement('button');
        pick.type = 'button';
        pick.className = 'linkish';
        pick.textContent = u.name;
        pick.addEventListener('click', function () { $('user-name').value = u.name; find(u.name); });
        var nameCell = WD.cell(row, '', 'name');
        nameCell.appendChild(pick);
        var mark = nfcMark(u.name);
        if (mark) nameCell.appendChild(mark);
        WD.cell(row, ints.format(u.total), 'num');
        WD.cell(row, ints.format(u.withdrawn), 'num');
        WD.cell(row, ints.format(u.balance), 'num');
        body.appendChild(row);
      });
      WD.labelCells($('users-table'));
      $('users-empty').hidden = answer.users.length > 0;
    });
  }

  function show(user) {
    view.user = user;
    $('user-card').hidden = !user;
    if (!user) return;
    $('user-card-name').textContent = user.name;
    var mark = nfcMark(user.name);
    if (mark) $('user-card-name').appendChild(mark);
    $('user-total').textContent = ints.format(user.total);
    $('user-withdrawn').textContent = ints.format(user.withdrawn);
    $('user-balance').textContent = ints.format(user.balance);
  }

  function find(name) {
    WD.call('GET', 'user' + WD.query({ name: name })).then(function (answer) {
      if (!WD.ok(answer, 'user-search-feedback')) { show(null); return; }
      WD.say('', false, 'user-search-feedback');
      show(answer.user);
    });
  }

  $('users-order').addEventListener('change', function (e) {
    view.order = e.target.value;
    load();
  });

  $('user-search').addEventListener('submit', function (e) {
    e.preventDefault();
    find($('user-name').value);
  });

  $('withdraw-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var user = view.user;
    var amount = Number($('withdraw-amount').value);
    if (!user) return;
    WD.confirmAction('Withdraw ' + ints.format(amount) + ' hashes from “' + user.name + '”?', 'Withdraw')
      .then(function (ok) {
        if (!ok) return;
        WD.call('POST', 'user/withdraw', { name: user.name, amount: amount }).then(function (answer) {
          if (!WD.ok(answer, 'withdraw-feedback')) return;
          WD.say('Withdrew ' + ints.format(answer.amount) + ' hashes from “' + answer.name + '”.', false,
            'withdraw-feedback');
          $('withdraw-amount').value = '';
          show(answer.user);
          load();
        });
      });
  });

  $('reset-user').addEventListener('click', function () {
    var user = view.user;
    if (!user) return;
    WD.confirmAction('Reset “' + user.name + '” to zero? Total, withdrawn and balance all become 0.', 'Reset')
      .then(function (ok) {
        if (!ok) return;
        WD.call('POST', 'user/reset', { name: user.name }).then(function (answer) {
          if (!WD.ok(answer, 'withdraw-feedback')) return;
          WD.say('“' + answer.name + '” was reset to zero.', false, 'withdraw-feedback');
          find(answer.name);
          load();
        });
      });
  });

  WD.views.users = { show: load };
})();
