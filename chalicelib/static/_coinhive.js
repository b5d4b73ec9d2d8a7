/*
 * Coinhive's JavaScript API over Workproof's miners (served as /lib/coinhive.min.js and
 * /lib/authedmine.min.js, bundled after i18n.js and the miner), so pages written for
 * Coinhive run unchanged once they load this script instead of Coinhive's:
 *
 *   var miner = new CoinHive.Anonymous('SITE_KEY', {throttle: 0.3});
 *   if (!miner.isMobile() && !miner.didOptOut(14400)) miner.start();
 *
 * CoinHive.Anonymous(siteKey, options), CoinHive.User(siteKey, user, options),
 * CoinHive.Token(siteKey, targetHashes, options); options threads, autoThreads, throttle,
 * forceASMJS, language ('auto' or a language) and theme (accepted; the indicator follows the
 * visitor's light or dark scheme). Methods start([mode]), stop(), isRunning(), isMobile(),
 * hasWASMSupport(), didOptOut(seconds), getHashesPerSecond(), getTotalHashes([interpolate]),
 * getAcceptedHashes(), getToken(), getNumThreads(), setNumThreads(n), getThrottle(),
 * setThrottle(x), getAutoThreadsEnabled(), setAutoThreadsEnabled(b), on(event, fn); events
 * open, authed, close, error, job, found, accepted and (authedmine.min.js) optin.
 *
 * Workproof's consent rules still hold: the miner draws its indicator (with a pause button),
 * pauses while the page is hidden or the indicator is out of view, and, loaded as
 * authedmine.min.js, asks Allow / Cancel before any work, like AuthedMine.
 * start() modes, by Coinhive's rules across this browser's tabs of the site:
 * CoinHive.IF_EXCLUSIVE_TAB (default: work only while no other tab works),
 * CoinHive.FORCE_EXCLUSIVE_TAB (take over: the others wait), CoinHive.FORCE_MULTI_TAB.
 */
(function (root) {
  'use strict';
  if (root.CoinHive && root.CoinHive.WORKPROOF) return;

  var WP = root.WorkProof;
  var script = root.document.currentScript;
  var OPT_IN = !!(script && /authedmine(\.min)?(\.[0-9a-f]{12})?\.js(\?|#|$)/.test(script.src));
  var IF_EXCLUSIVE_TAB = 'ifExclusiveTab', FORCE_EXCLUSIVE_TAB = 'forceExclusiveTab',
      FORCE_MULTI_TAB = 'forceMultiTab';

  // ---------------------------------------------------------------- one working tab

  // The working tab writes {id, t} here every TAB_BEAT ms; a claim older than TAB_TTL is void.
  var TAB_KEY = 'workproof.tab', TAB_BEAT = 2000, TAB_TTL = 6000;
  var TAB_ID = Math.random().toString(36).slice(2) + Date.now().toString(36);

  function tabOwner() {
    try {
      var claim = JSON.parse(root.localStorage.getItem(TAB_KEY) || 'null');
      return claim && Date.now() - claim.t < TAB_TTL ? claim.id : null;
    } catch (e) {
      return null;  // no storage: every tab decides alone
    }
  }
  function claimTab() {
    try { root.localStorage.setItem(TAB_KEY, JSON.stringify({ id: TAB_ID, t: Date.now() })); } catch (e) { /* none */ }
  }
  function releaseTab() {
    try { if (tabOwner() === TAB_ID) root.localStorage.removeItem(TAB_KEY); } catch (e) { /* none */ }
  }
  root.addEventListener('pagehide', releaseTab);

  /** Applies a start() mode to a running miner until it closes. */
  function followTabRule(miner, mode) {
    if (mode === FORCE_MULTI_TAB) return;
    var forced = mode === FORCE_EXCLUSIVE_TAB;
    function beat() {
      var owner = tabOwner();
      var ours = forced || !owner || owner === TAB_ID;
      if (ours) claimTab();
      miner._hold('tab', !ours);
    }
    if (forced) claimTab();
    beat();
    var timer = setInterval(beat, TAB_BEAT);
    miner.on('close', function closed() {
      clearInterval(timer);
      miner.off('close', closed);
      miner._hold('tab', false);
      releaseTab();
    });
  }

  // ---------------------------------------------------------------- the miners

  function workproofOptions(options) {
    var o = options || {};
    var out = { optIn: OPT_IN };
    if (o.threads) out.threads = o.threads;
    if (o.throttle) out.throttle = o.throttle;
    if (o.forceASMJS) out.forceASMJS = true;
    if (o.language && o.language !== 'auto') out.language = o.language;
    if (typeof o.api === 'string') out.api = o.api;
    return out;
  }

  /** Coinhive's methods on a Workproof miner (same object: same events and state). */
  function coinhive(miner, options) {
    var start = miner.start, autoThreads = !!(options && options.autoThreads);
    miner.start = function (mode) {
      if (this.isRunning()) return;
      start.call(this);
      if (this.isRunning()) followTabRule(this, mode || IF_EXCLUSIVE_TAB);
    };
    miner.isMobile = WP.isMobile;
    miner.getAutoThreadsEnabled = function () { return autoThreads; };
    miner.setAutoThreadsEnabled = function (enabled) {
      autoThreads = !!enabled;
      if (autoThreads) this.setNumThreads(Math.max(1, (root.navigator && root.navigator.hardwareConcurrency) || 2));
    };
    if (autoThreads) miner.setAutoThreadsEnabled(true);
    return miner;
  }

  function Anonymous(siteKey, options) {
    return coinhive(new WP.Anonymous(siteKey, workproofOptions(options)), options);
  }
  function User(siteKey, user, options) {
    return coinhive(new WP.User(siteKey, user, workproofOptions(options)), options);
  }
  function Token(siteKey, targetHashes, options) {
    return coinhive(new WP.Token(siteKey, targetHashes, workproofOptions(options)), options);
  }

  root.CoinHive = {
    Anonymous: Anonymous,
    User: User,
    Token: Token,
    IF_EXCLUSIVE_TAB: IF_EXCLUSIVE_TAB,
    FORCE_EXCLUSIVE_TAB: FORCE_EXCLUSIVE_TAB,
    FORCE_MULTI_TAB: FORCE_MULTI_TAB,
    CONFIG: WP.CONFIG,
    VERSION: WP.VERSION,
    WORKPROOF: true
  };
})(window);
