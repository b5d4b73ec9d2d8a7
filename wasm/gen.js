// Generates wasm/solver.wat: the 4-lane SIMD128 SHA-256 proof-of-work kernels.
//
// The kernels evaluate SHA-256(job ":" i ":" nonce) for 4 nonces at a time.
// Everything constant is prepared by the caller (chalicelib/static/worker.js):
//
//   MID  (byte 0,   8 x i32)  chaining value before the block holding the varying digits
//   PRE  (byte 32,  8 x i32)  state after rounds 0..e0-1 of that block, stored rotated
//                             by e0 (slot (r - e0) mod 8 holds role r) so that the
//                             unrolled code can be entered at any round e0 < 16
//   WV   (byte 64, 16 x v128) the block's message words, splatted to 4 lanes
//   KW2  (byte 320, 64 x i32) K[t] + W[t] of the constant final padding block (solve2)
//   T0   (byte 576, i32)      top 32 bits of the target floor(2^256 / D)
//   BC   (byte 580, i32)      b ^ c of the state entering round e0
//   SG0  (byte 640, 16 x v128) sigma0(W[j]) of the block's words (schedule t = 16..30)
//   SG1  (byte 896, 16 x v128) sigma1(W[j]) (read for j = 14, 15)
//   LUT  (from byte 2048)     m-digit ASCII tables, one big-endian i32 per value
//
// e0 is the first round that reads a varying word: rounds before it are the
// caller's; the kernel jumps into the unrolled rounds with a br_table.
//
// Per iteration the 4 lanes take the LUT entries x, x+1, x+2, x+3 (one v128
// load), shift them into the one or two words that hold the varying digits
// (and their sigma0/sigma1 into SG0/SG1), run the remaining rounds (from e0)
// and compare the first digest word with
// T0. A lane whose first word is <= T0 is returned to the caller, which
// checks all 256 bits exactly (a tie on the first word is a 2^-32 event).
//
// Round variables rotate by renaming (no moves). Maj uses the
// b ^ ((a ^ b) & (b ^ c)) form, reusing a ^ b as the next round's b ^ c.
'use strict';

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const S = ['$s0', '$s1', '$s2', '$s3', '$s4', '$s5', '$s6', '$s7'];
const get = (x) => `(local.get ${x})`;
const rotr = (x, n) => `(v128.or (i32x4.shr_u ${get(x)} (i32.const ${n})) (i32x4.shl ${get(x)} (i32.const ${32 - n})))`;
const xor3 = (a, b, c) => `(v128.xor (v128.xor ${a} ${b}) ${c})`;
const kconst = (k) => `(v128.const i32x4 ${k} ${k} ${k} ${k})`;
const wmem = (j) => `(v128.load offset=${64 + 16 * j} (i32.const 0))`;

// Variable holding role r (0 = a ... 7 = h) at round t.
const role = (t, r) => S[(((r - t) % 8) + 8) % 8];

// One compression round. kw: expression of K[t] + W[t] (or null to use K and w).
function round(t, wExpr, kwExpr, lastRound) {
  const a = role(t, 0), b = role(t, 1), d = role(t, 3), e = role(t, 4);
  const f = role(t, 5), g = role(t, 6), h = role(t, 7);
  const bc = t % 2 === 0 ? '$y0' : '$y1';
  const ab = t % 2 === 0 ? '$y1' : '$y0';
  const addend = kwExpr !== null ? kwExpr : `(i32x4.add ${kconst(K[t])} ${wExpr})`;
  const out = [];
  out.push(`    ;; round ${t}`);
  out.push(`    (local.set $t1 (i32x4.add (i32x4.add (i32x4.add ${get(h)} ${xor3(rotr(e, 6), rotr(e, 11), rotr(e, 25))}) (v128.bitselect ${get(f)} ${get(g)} ${get(e)})) ${addend}))`);
  out.push(`    (local.set ${ab} (v128.xor ${get(a)} ${get(b)}))`);
  if (!lastRound) out.push(`    (local.set ${d} (i32x4.add ${get(d)} (local.get $t1)))`);
  out.push(`    (local.set ${h} (i32x4.add (i32x4.add (local.get $t1) ${xor3(rotr(a, 2), rotr(a, 13), rotr(a, 22))}) (v128.xor ${get(b)} (v128.and (local.get ${ab}) (local.get ${bc})))))`);
  return out.join('\n');
}

// Message word t (t >= 16) of the varying block, into local $w<t>.
// sigma0 / sigma1 of the block's own words come precomputed from SG0 / SG1.
const sg0 = (j) => `(v128.load offset=${640 + 16 * j} (i32.const 0))`;
const sg1 = (j) => `(v128.load offset=${896 + 16 * j} (i32.const 0))`;
function schedule(t) {
  const w = (j) => (j < 16 ? null : `$w${j}`);
  const s0 = t - 15 < 16 ? sg0(t - 15)
    : xor3(rotr(w(t - 15), 7), rotr(w(t - 15), 18), `(i32x4.shr_u ${get(w(t - 15))} (i32.const 3))`);
  const s1 = t - 2 < 16 ? sg1(t - 2)
    : xor3(rotr(w(t - 2), 17), rotr(w(t - 2), 19), `(i32x4.shr_u ${get(w(t - 2))} (i32.const 10))`);
  const w7 = w(t - 7) ? get(w(t - 7)) : wmem(t - 7);
  const w16 = w(t - 16) ? get(w(t - 16)) : wmem(t - 16);
  return `    (local.set $w${t} (i32x4.add (i32x4.add ${s1} ${w7}) (i32x4.add ${s0} ${w16})))`;
}

const sigma0 = (x) => xor3(rotr(x, 7), rotr(x, 18), `(i32x4.shr_u ${get(x)} (i32.const 3))`);
const sigma1 = (x) => xor3(rotr(x, 17), rotr(x, 19), `(i32x4.shr_u ${get(x)} (i32.const 10))`);

function kernel(name, twoBlocks) {
  const L = [];
  L.push(`  (func $${name} (export "${name}")`);
  L.push(`    (param $lut i32) (param $x0 i32) (param $n4 i32) (param $w i32) (param $sh i32) (param $two i32) (param $e0 i32) (param $cw i32) (param $cw1 i32)`);
  L.push(`    (result i32)`);
  const locals = ['$cwv', '$cw1v', '$tv', '$m0', '$t1', '$y0', '$y1', '$q', '$r', '$dg', '$p0', '$p1', '$p2', '$p3', '$p4', '$p5', '$p6', '$p7', '$pbc', ...S];
  if (twoBlocks) locals.push('$c0');
  for (let t = 16; t < 64; t++) locals.push(`$w${t}`);
  L.push('    ' + locals.map((l) => `(local ${l} v128)`).join(' '));
  L.push(`    (local $ptr i32) (local $end i32) (local $wadr i32) (local $shl i32) (local $lane i32)`);
  L.push(`    (local.set $cwv (i32x4.splat (local.get $cw)))`);
  L.push(`    (local.set $cw1v (i32x4.splat (local.get $cw1)))`);
  L.push(`    (local.set $tv (v128.load32_splat (i32.const 576)))`);
  L.push(`    (local.set $m0 (v128.load32_splat (i32.const 0)))`);
  for (let i = 0; i < 8; i++) L.push(`    (local.set $p${i} (v128.load32_splat (i32.const ${32 + 4 * i})))`);
  L.push(`    (local.set $pbc (v128.load32_splat (i32.const 580)))`);
  L.push(`    (local.set $wadr (i32.add (i32.const 64) (i32.shl (local.get $w) (i32.const 4))))`);
  L.push(`    (local.set $shl (i32.sub (i32.const 32) (local.get $sh)))`);
  L.push(`    (local.set $ptr (i32.add (local.get $lut) (i32.shl (local.get $x0) (i32.const 2))))`);
  L.push(`    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n4) (i32.const 4))))`);
  L.push(`    (if (i32.ge_u (local.get $ptr) (local.get $end)) (then (return (i32.const -1))))`);
  L.push(`    (loop $next`);
  L.push(`    (local.set $dg (v128.load (local.get $ptr)))`);
  // the varying word(s), with their sigma0 (and sigma1 when the schedule reads it)
  L.push(`    (local.set $q (v128.or (local.get $cwv) (i32x4.shr_u (local.get $dg) (local.get $sh))))`);
  L.push(`    (v128.store (local.get $wadr) (local.get $q))`);
  L.push(`    (v128.store offset=576 (local.get $wadr) ${sigma0('$q')})`);
  L.push(`    (if (i32.ge_u (local.get $w) (i32.const 14)) (then (v128.store offset=832 (local.get $wadr) ${sigma1('$q')})))`);
  L.push(`    (if (local.get $two) (then`);
  L.push(`      (local.set $r (v128.or (local.get $cw1v) (i32x4.shl (local.get $dg) (local.get $shl))))`);
  L.push(`      (v128.store offset=16 (local.get $wadr) (local.get $r))`);
  L.push(`      (v128.store offset=592 (local.get $wadr) ${sigma0('$r')})`);
  L.push(`      (if (i32.ge_u (local.get $w) (i32.const 13)) (then (v128.store offset=848 (local.get $wadr) ${sigma1('$r')})))))`);
  for (let i = 0; i < 8; i++) L.push(`    (local.set ${S[i]} (local.get $p${i}))`);
  // b ^ c at the entry round (precomputed), whatever the round's parity
  L.push(`    (local.set $y0 (local.get $pbc))`);
  L.push(`    (local.set $y1 (local.get $pbc))`);
  // jump into the unrolled rounds at round e0 (0..15); PRE is stored rotated for it
  const labels = [];
  for (let t = 0; t < 16; t++) labels.push(`$e${t}`);
  for (let t = 15; t >= 0; t--) L.push(`    (block $e${t}`);
  L.push(`    (br_table ${labels.join(' ')} (local.get $e0))`);
  for (let t = 0; t < 16; t++) {
    L.push(`    )`);
    L.push(round(t, wmem(t), null, false));
  }
  for (let t = 16; t < 64; t++) {
    L.push(schedule(t));
    L.push(round(t, get(`$w${t}`), null, !twoBlocks && t === 63));
  }
  if (twoBlocks) {
    // Chaining value after the varying block, then the constant padding block.
    for (let i = 0; i < 8; i++) {
      L.push(`    (local.set ${S[i]} (i32x4.add (local.get ${S[i]}) (v128.load32_splat (i32.const ${4 * i}))))`);
    }
    L.push(`    (local.set $c0 (local.get ${S[0]}))`);
    L.push(`    (local.set $y0 (v128.xor (local.get ${S[1]}) (local.get ${S[2]})))`);
    for (let t = 0; t < 64; t++) {
      L.push(round(t, null, `(v128.load32_splat (i32.const ${320 + 4 * t}))`, t === 63));
    }
    L.push(`    (local.set $q (i32x4.add (local.get ${role(64, 0)}) (local.get $c0)))`);
  } else {
    L.push(`    (local.set $q (i32x4.add (local.get ${role(64, 0)}) (local.get $m0)))`);
  }
  L.push(`    (if (v128.any_true (i32x4.le_u (local.get $q) (local.get $tv)))`);
  L.push(`      (then`);
  L.push(`        (local.set $lane (i32.const 3))`);
  L.push(`        (if (i32.le_u (i32x4.extract_lane 2 (local.get $q)) (i32x4.extract_lane 0 (local.get $tv))) (then (local.set $lane (i32.const 2))))`);
  L.push(`        (if (i32.le_u (i32x4.extract_lane 1 (local.get $q)) (i32x4.extract_lane 0 (local.get $tv))) (then (local.set $lane (i32.const 1))))`);
  L.push(`        (if (i32.le_u (i32x4.extract_lane 0 (local.get $q)) (i32x4.extract_lane 0 (local.get $tv))) (then (local.set $lane (i32.const 0))))`);
  L.push(`        (return (i32.add (i32.shr_u (i32.sub (local.get $ptr) (i32.add (local.get $lut) (i32.shl (local.get $x0) (i32.const 2)))) (i32.const 2)) (local.get $lane)))))`);
  L.push(`    (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))`);
  L.push(`    (br_if $next (i32.lt_u (local.get $ptr) (local.get $end)))`);
  L.push(`    )`);
  L.push(`    (i32.const -1))`);
  return L.join('\n');
}

function generate() {
  return [
    ';; GENERATED by wasm/gen.js; edit that file, then run wasm/build.sh.',
    '(module',
    '  (memory (export "memory") 1)',
    kernel('solve1', false),
    kernel('solve2', true),
    ')',
    '',
  ].join('\n');
}

module.exports = { generate, K };

if (require.main === module) {
  const path = require('path');
  require('fs').writeFileSync(path.join(__dirname, 'solver.wat'), generate());
}
