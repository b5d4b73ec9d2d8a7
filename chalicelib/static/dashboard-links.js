/*
 * Workproof dashboard, links: every shortlink of the site, newest first, with
 * its target host, required work and visits (counted off the request path).
 */
(function () {
  'use strict';

  var WD = window.workproofDashboard;
  var $ = WD.$;
  var ints = WD.ints;
  var next = null;

  function when(seconds) { return seconds ? WD.dateTime.format(new Date(seconds * 1000)) : 'never'; }

  function load(more) {
    WD.call('GET', 'links' + WD.query({ page: more ? next : null })).then(function (answer) {
      if (!WD.ok(answer)) return;
      var body = $('links-table').querySelector('tbody');
      if (!more) body.textContent = '';
      answer.links.forEach(function (link) {
        var row = document.createElement('tr');
        var a = document.createElement('a');
        a.href = link.url;
        a.textContent = link.code;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        WD.cell(row, '').appendChild(a);
        WD.cell(row, link.host, 'name');
        WD.cell(row, ints.format(link.hashes), 'num');
        WD.cell(row, ints.format(link.visitsStarted), 'num');
        WD.cell(row, ints.format(link.visitsCompleted), 'num');
        WD.cell(row, when(link.lastVisit));
        WD.cell(row, when(link.created));
        row.setAttribute('data-code', link.code);
        body.appendChild(row);
      });
      WD.labelCells($('links-table'));
      next = answer.nextPage;
      $('links-more').hidden = !next;
      $('links-empty').hidden = body.children.length > 0;
    });
  }

  $('links-more').addEventListener('click', function () { load(true); });

  WD.views.links = { show: function () { load(false); } };
})();
