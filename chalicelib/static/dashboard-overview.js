/*
 * Workproof dashboard, overview: figures and uPlot charts of the last 24 hours
 * or 7 days, refreshed every 5 s while the view is shown and the page visible.
 */
(function () {
  'use strict';

  var WD = window.workproofDashboard;
  var $ = WD.$;
  var POLL_MS = 5000;
  var HOUR = 3600;
  var ints = WD.ints;
  var compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
  var hourOnly = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  var dayOnly = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' });
  var view = { range: 24, data: null, timer: null, loading: false, shown: false };
  var charts = WD.charts;
  WD.state.overview = view;

  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function chartWidth(el) { return Math.max(260, el.clientWidth); }
  function valueOf(u, v) { return v === null || v === undefined ? '–' : ints.format(v); }
  function timeOf(u, v) { return v === null || v === undefined ? '–' : WD.dateTime.format(new Date(v * 1000)); }
  function sum(list) { return list.reduce(function (a, b) { return a + b; }, 0); }

  function axis(values) {
    return { stroke: css('--mut'), grid: { stroke: css('--grid') }, ticks: { stroke: css('--grid') },
             values: values };
  }

  // Over 7 days: the day at midnight, the hour elsewhere.
  function timeLabels(u, splits) {
    return splits.map(function (s) {
      var d = new Date(s * 1000);
      var midnight = d.getHours() === 0 && d.getMinutes() === 0;
      return (view.range > 24 && midnight ? dayOnly : hourOnly).format(d);
    });
  }

  function countLabels(u, splits) { return splits.map(function (v) { return compact.format(v); }); }

  function makeChart(el, series) {
    var counts = axis(countLabels);
    counts.size = 56;
    var opts = {
      width: chartWidth(el), height: 240,
      scales: {
        // Half an hour of room on each side, so the first and last hours' bars show whole.
        x: { time: true, range: function (u, min, max) { return [min - HOUR / 2, max + HOUR / 2]; } },
        y: { range: function (u, min, max) { return [0, Math.max(4, max * 1.1)]; } }
      },
      axes: [axis(timeLabels), counts],
      series: [{ label: 'Hour', value: timeOf }].concat(series),
      cursor: { points: { size: 6 } },
      legend: { live: true }
    };
    return new uPlot(opts, [[]].concat(series.map(function () { return []; })), el);
  }

  /** Points only at the hours that have any: zero hours stay a plain line. */
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
    // Dashes and dots at the non-zero hours keep overlapping series apart.
    charts.activity = makeChart($('chart-activity'), [
      { label: 'Captchas solved', stroke: css('--acc'), width: 2, value: valueOf, points: nonZeroPoints() },
      { label: 'Captchas verified', stroke: css('--acc3'), width: 2, dash: [8, 4], value: valueOf,
        points: nonZeroPoints() },
      { label: 'Link visits', stroke: css('--acc4'), width: 2, dash: [2, 3], value: valueOf,
        points: nonZeroPoints() }
    ]);
    draw();
  }

  function draw() {
    var data = view.data;
    if (!data || !charts.hashes) return;
    var n = view.range;
    var hours = data.hours.slice(-n);
    var s = data.series;
    charts.hashes.setData([hours, s.hashes.slice(-n)]);
    charts.activity.setData([hours, s.captchasSolved.slice(-n), s.captchasVerified.slice(-n),
      s.linkVisits.slice(-n)]);
    $('ov-rate').textContent = WD.rate(data.hashesPerSecond);
    $('ov-total').textContent = ints.format(data.hashesTotal);
    $('ov-solved').textContent = ints.format(sum(s.captchasSolved.slice(-n)));
    $('ov-verified').textContent = ints.format(sum(s.captchasVerified.slice(-n)));
    $('ov-visits').textContent = ints.format(sum(s.linkVisits.slice(-n)));
    document.querySelectorAll('.range-label').forEach(function (el) {
      el.textContent = n > 24 ? '(7 days)' : '(24 hours)';
    });
    $('chart-hashes').setAttribute('data-updated', String(data.now));
  }

  function refresh() {
    if (view.loading) return;
    view.loading = true;
    WD.call('GET', 'overview').then(function (answer) {
      view.loading = false;
      if (WD.ok(answer)) {
        view.data = answer;
        if (!charts.hashes) buildCharts(); else draw();
      }
      schedule();
    });
  }

  function stop() {
    if (view.timer) clearTimeout(view.timer);
    view.timer = null;
    $('ov-live').classList.add('paused');
    $('ov-live').textContent = 'Paused';
  }

  // Polls while the overview is shown and the page is visible; stops otherwise.
  function schedule() {
    stop();
    if (!view.shown || document.visibilityState !== 'visible') return;
    $('ov-live').classList.remove('paused');
    $('ov-live').textContent = 'Live';
    view.timer = setTimeout(refresh, POLL_MS);
  }

  WD.views.overview = {
    show: function () { view.shown = true; refresh(); },
    hide: function () { view.shown = false; stop(); }
  };

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && view.shown) refresh();
    else stop();
  });

  document.querySelectorAll('[data-range]').forEach(function (button) {
    button.addEventListener('click', function () {
      view.range = Number(button.getAttribute('data-range'));
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

  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', function () {
    if (charts.hashes) buildCharts();  // the colours come from the page's CSS variables
  });
})();
