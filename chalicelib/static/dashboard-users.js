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
        WD.cell(row, '', 'name').appendChild(pick);
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
    $('user-total').textContent = ints.format(user.total);
    $('user-withdrawn').textContent = ints.format(user.withdrawn);
    $('user-balance').textContent = ints.format(user.balance);
  }

  function find(name) {
    WD.call('GET', 'user' + WD.query({ name: name })).then(function (answer) {
      if (!WD.ok(answer)) { show(null); return; }
      WD.say('');
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
          if (!WD.ok(answer)) return;
          WD.say('Withdrew ' + ints.format(answer.amount) + ' hashes from “' + answer.name + '”.');
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
          if (!WD.ok(answer)) return;
          WD.say('“' + answer.name + '” was reset to zero.');
          find(answer.name);
          load();
        });
      });
  });

  WD.views.users = { show: load };
})();
