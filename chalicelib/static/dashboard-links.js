/*
 * Workproof dashboard, links: every shortlink of the site, newest first, with
 * its full target URL (as text, never as markup), required work and visits
 * (counted off the request path); links are created, disabled (their page then
 * tells visitors so), enabled again and deleted here. Each action's message shows
 * next to it: the create form's under the form, a row's in the row.
 */
(function () {
  'use strict';

  var WD = window.workproofDashboard;
  var $ = WD.$;
  var ints = WD.ints;
  var next = null;

  function when(seconds) { return seconds ? WD.dateTime.format(new Date(seconds * 1000)) : 'never'; }

  function button(text, className, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  function setDisabled(link, row, feedback, disabled) {
    WD.call('POST', disabled ? 'links/disable' : 'links/enable', { code: link.code }).then(function (answer) {
      if (!WD.ok(answer, feedback.id)) return;
      link.disabled = answer.disabled;
      row.replaceWith(linkRow(link));
      var again = $('link-feedback-' + link.code);
      WD.say(link.disabled ? 'Disabled: its page now tells visitors the link is disabled.'
        : 'Enabled again.', false, again.id);
    });
  }

  function remove(link, row, feedback) {
    WD.confirmAction('Delete the link ' + link.code + ' to ' + link.target + '? Its address stops working for good.', 'Delete')
      .then(function (ok) {
        if (!ok) return;
        WD.call('POST', 'links/delete', { code: link.code }).then(function (answer) {
          if (!WD.ok(answer, feedback.id)) return;
          row.remove();
          $('links-empty').hidden = $('links-table').querySelector('tbody').children.length > 0;
          WD.say('Deleted the link ' + link.code + '.', false, 'links-list-feedback');
        });
      });
  }

  function linkRow(link) {
    var row = document.createElement('tr');
    var a = document.createElement('a');
    a.href = link.url;
    a.textContent = link.code;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    WD.cell(row, '').appendChild(a);
    WD.cell(row, link.target, 'name target');  // textContent: a URL shown, never parsed as HTML
    WD.cell(row, ints.format(link.hashes), 'num');
    WD.cell(row, ints.format(link.visitsStarted), 'num');
    WD.cell(row, ints.format(link.visitsCompleted), 'num');
    WD.cell(row, when(link.lastVisit), 'when');
    WD.cell(row, when(link.created), 'when');
    var actions = WD.cell(row, '', 'actions');
    var state = document.createElement('span');
    state.className = 'state' + (link.disabled ? ' off' : '');
    state.textContent = link.disabled ? 'Disabled' : 'Active';
    var feedback = document.createElement('div');
    feedback.className = 'feedback';
    feedback.id = 'link-feedback-' + link.code;
    feedback.setAttribute('aria-live', 'polite');
    actions.appendChild(state);
    actions.appendChild(button(link.disabled ? 'Enable' : 'Disable', 'secondary small-button',
      function () { setDisabled(link, row, feedback, !link.disabled); }));
    actions.appendChild(button('Delete…', 'danger small-button', function () { remove(link, row, feedback); }));
    actions.appendChild(feedback);
    row.setAttribute('data-code', link.code);
    if (link.disabled) row.classList.add('disabled');
    labelRow(row);
    return row;
  }

  function labelRow(row) {
    var names = Array.prototype.map.call($('links-table').querySelectorAll('thead th'), function (th) {
      return th.textContent;
    });
    Array.prototype.forEach.call(row.children, function (td, i) { td.setAttribute('data-label', names[i] || ''); });
  }

  function load(more) {
    WD.call('GET', 'links' + WD.query({ page: more ? next : null })).then(function (answer) {
      if (!WD.ok(answer, 'links-list-feedback')) return;
      var body = $('links-table').querySelector('tbody');
      if (!more) body.textContent = '';
      answer.links.forEach(function (link) { body.appendChild(linkRow(link)); });
      next = answer.nextPage;
      $('links-more').hidden = !next;
      $('links-empty').hidden = body.children.length > 0;
    });
  }

  $('links-more').addEventListener('click', function () { load(true); });

  $('link-create-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var submit = $('link-create-form').querySelector('button[type=submit]');
    submit.disabled = true;
    WD.call('POST', 'links/create', { url: $('link-target').value.trim(),
                                      hashes: Number($('link-hashes').value) }).then(function (answer) {
      submit.disabled = false;
      if (!answer.success && answer.error === 'bad_request') {
        WD.say('The work is a whole number of hashes, at least 1.', true, 'link-create-feedback');
        return;
      }
      if (!WD.ok(answer, 'link-create-feedback')) return;
      $('link-target').value = '';
      WD.say('Created ' + answer.url + ' (to ' + answer.target + ').', false, 'link-create-feedback');
      load(false);
    });
  });

  WD.views.links = { show: function () { load(false); } };
})();
