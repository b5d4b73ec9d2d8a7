// Generates wasm/solver.wat: the 4-lane SIMD128 SHA-256 proof-of-work kernels, and
// wasm/solver-scalar.wat: the same kernels on one i32 lane (WebAssembly without SIMD).
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

// The two instruction sets: 4 lanes of i32 in a v128, or one i32 (browsers without SIMD).
const SIMD = {
  type: 'v128', step: 16,
  rotr: (x, n) => `(v128.or (i32x4.shr_u ${get(x)} (i32.const ${n})) (i32x4.shl ${get(x)} (i32.const ${32 - n})))`,
  shr: (x, n) => `(i32x4.shr_u ${x} ${n})`,
  shl: (x, n) => `(i32x4.shl ${x} ${n})`,
  xor: (a, b) => `(v128.xor ${a} ${b})`,
  and: (a, b) => `(v128.and ${a} ${b})`,
  or: (a, b) => `(v128.or ${a} ${b})`,
  add: (a, b) => `(i32x4.add ${a} ${b})`,
  ch: (e, f, g) => `(v128.bitselect ${get(f)} ${get(g)} ${get(e)})`,
  k: (k) => `(v128.const i32x4 ${k} ${k} ${k} ${k})`,
  load: (off, addr) => `(v128.load offset=${off} ${addr})`,
  store: (off, addr, v) => `(v128.store offset=${off} ${addr} ${v})`,
  scalar: (addr) => `(v128.load32_splat (i32.const ${addr}))`,
  splat: (x) => `(i32x4.splat ${x})`,
};
const SCALAR = {
  type: 'i32', step: 4,
  rotr: (x, n) => `(i32.rotr ${get(x)} (i32.const ${n}))`,
  shr: (x, n) => `(i32.shr_u ${x} ${n})`,
  shl: (x, n) => `(i32.shl ${x} ${n})`,
  xor: (a, b) => `(i32.xor ${a} ${b})`,
  and: (a, b) => `(i32.and ${a} ${b})`,
  or: (a, b) => `(i32.or ${a} ${b})`,
  add: (a, b) => `(i32.add ${a} ${b})`,
  ch: (e, f, g) => `(i32.xor ${get(g)} (i32.and ${get(e)} (i32.xor ${get(f)} ${get(g)})))`,
  k: (k) => `(i32.const ${k | 0})`,
  load: (off, addr) => `(i32.load offset=${off} ${addr})`,
  store: (off, addr, v) => `(i32.store offset=${off} ${addr} ${v})`,
  scalar: (addr) => `(i32.load (i32.const ${addr}))`,
  splat: (x) => x,
};

// Variable holding role r (0 = a ... 7 = h) at round t.
const role = (t, r) => S[(((r - t) % 8) + 8) % 8];

function kernel(name, twoBlocks, V) {
  const xor3 = (a, b, c) => V.xor(V.xor(a, b), c);
  const wmem = (j) => V.load(64 + 16 * j, '(i32.const 0)');  // lane 0 for the scalar kernel
  const sg0 = (j) => V.load(640 + 16 * j, '(i32.const 0)');
  const sg1 = (j) => V.load(896 + 16 * j, '(i32.const 0)');
  const sigma0 = (x) => xor3(V.rotr(x, 7), V.rotr(x, 18), V.shr(get(x), '(i32.const 3)'));
  const sigma1 = (x) => xor3(V.rotr(x, 17), V.rotr(x, 19), V.shr(get(x), '(i32.const 10)'));

  // One compression round; addend = K[t] + W[t].
  function round(t, addend, lastRound) {
    const a = role(t, 0), b = role(t, 1), d = role(t, 3), e = role(t, 4);
    const f = role(t, 5), g = role(t, 6), h = role(t, 7);
    const bc = t % 2 === 0 ? '$y0' : '$y1';
    const ab = t % 2 === 0 ? '$y1' : '$y0';
    const out = [`    ;; round ${t}`];
    out.push(`    (local.set $t1 ${V.add(V.add(V.add(get(h), xor3(V.rotr(e, 6), V.rotr(e, 11), V.rotr(e, 25))), V.ch(e, f, g)), addend)})`);
    out.push(`    (local.set ${ab} ${V.xor(get(a), get(b))})`);
    if (!lastRound) out.push(`    (local.set ${d} ${V.add(get(d), get('$t1'))})`);
    out.push(`    (local.set ${h} ${V.add(V.add(get('$t1'), xor3(V.rotr(a, 2), V.rotr(a, 13), V.rotr(a, 22))), V.xor(get(b), V.and(get(ab), get(bc))))})`);
    return out.join('\n');
  }

  // Message word t (t >= 16), into local $w<t>; sigma of the block's own words from SG0/SG1.
  function schedule(t) {
    const loc = (j) => `$w${j}`;
    const s0 = t - 15 < 16 ? sg0(t - 15) : sigma0(loc(t - 15));
    const s1 = t - 2 < 16 ? sg1(t - 2) : sigma1(loc(t - 2));
    const w7 = t - 7 < 16 ? wmem(t - 7) : get(loc(t - 7));
    const w16 = t - 16 < 16 ? wmem(t - 16) : get(loc(t - 16));
    return `    (local.set $w${t} ${V.add(V.add(s1, w7), V.add(s0, w16))})`;
  }

  const L = [];
  L.push(`  (func $${name} (export "${name}")`);
  L.push(`    (param $lut i32) (param $x0 i32) (param $n i32) (param $w i32) (param $sh i32) (param $two i32) (param $e0 i32) (param $cw i32) (param $cw1 i32)`);
  L.push(`    (result i32)`);
  const locals = ['$cwv', '$cw1v', '$tv', '$m0', '$t1', '$y0', '$y1', '$q', '$r', '$dg', '$p0', '$p1', '$p2', '$p3', '$p4', '$p5', '$p6', '$p7', '$pbc', ...S];
  if (twoBlocks) locals.push('$c0');
  for (let t = 16; t < 64; t++) locals.push(`$w${t}`);
  L.push('    ' + locals.map((l) => `(local ${l} ${V.type})`).join(' '));
  L.push(`    (local $ptr i32) (local $end i32) (local $wadr i32) (local $shl i32) (local $lane i32)`);
  L.push(`    (local.set $cwv ${V.splat('(local.get $cw)')})`);
  L.push(`    (local.set $cw1v ${V.splat('(local.get $cw1)')})`);
  L.push(`    (local.set $tv ${V.scalar(576)})`);
  L.push(`    (local.set $m0 ${V.scalar(0)})`);
  for (let i = 0; i < 8; i++) L.push(`    (local.set $p${i} ${V.scalar(32 + 4 * i)})`);
  L.push(`    (local.set $pbc ${V.scalar(580)})`);
  L.push(`    (local.set $wadr (i32.add (i32.const 64) (i32.shl (local.get $w) (i32.const 4))))`);
  L.push(`    (local.set $shl (i32.sub (i32.const 32) (local.get $sh)))`);
  L.push(`    (local.set $ptr (i32.add (local.get $lut) (i32.shl (local.get $x0) (i32.const 2))))`);
  // $n counts steps: groups of 4 nonces (SIMD) or single nonces (scalar)
  L.push(`    (local.set $end (i32.add (local.get $ptr) (i32.mul (local.get $n) (i32.const ${V.step}))))`);
  L.push(`    (if (i32.ge_u (local.get $ptr) (local.get $end)) (then (return (i32.const -1))))`);
  L.push(`    (loop $next`);
  L.push(`    (local.set $dg ${V.load(0, '(local.get $ptr)')})`);
  // the varying word(s), with their sigma0 (and sigma1 when the schedule reads it)
  L.push(`    (local.set $q ${V.or(get('$cwv'), V.shr(get('$dg'), get('$sh')))})`);
  L.push(`    ${V.store(0, '(local.get $wadr)', get('$q'))}`);
  L.push(`    ${V.store(576, '(local.get $wadr)', sigma0('$q'))}`);
  L.push(`    (if (i32.ge_u (local.get $w) (i32.const 14)) (then ${V.store(832, '(local.get $wadr)', sigma1('$q'))}))`);
  L.push(`    (if (local.get $two) (then`);
  L.push(`      (local.set $r ${V.or(get('$cw1v'), V.shl(get('$dg'), get('$shl')))})`);
  L.push(`      ${V.store(16, '(local.get $wadr)', get('$r'))}`);
  L.push(`      ${V.store(592, '(local.get $wadr)', sigma0('$r'))}`);
  L.push(`      (if (i32.ge_u (local.get $w) (i32.const 13)) (then ${V.store(848, '(local.get $wadr)', sigma1('$r'))}))))`);
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
    L.push(round(t, V.add(V.k(K[t]), wmem(t)), false));
  }
  for (let t = 16; t < 64; t++) {
    L.push(schedule(t));
    L.push(round(t, V.add(V.k(K[t]), get(`$w${t}`)), !twoBlocks && t === 63));
  }
  if (twoBlocks) {
    // Chaining value after the varying block, then the constant padding block.
    for (let i = 0; i < 8; i++) L.push(`    (local.set ${S[i]} ${V.add(get(S[i]), V.scalar(4 * i))})`);
    L.push(`    (local.set $c0 (local.get ${S[0]}))`);
    L.push(`    (local.set $y0 ${V.xor(get(S[1]), get(S[2]))})`);
    for (let t = 0; t < 64; t++) L.push(round(t, V.scalar(320 + 4 * t), t === 63));
    L.push(`    (local.set $q ${V.add(get(role(64, 0)), get('$c0'))})`);
  } else {
    L.push(`    (local.set $q ${V.add(get(role(64, 0)), get('$m0'))})`);
  }
  const offset = `(i32.shr_u (i32.sub (local.get $ptr) (i32.add (local.get $lut) (i32.shl (local.get $x0) (i32.const 2)))) (i32.const 2))`;
  if (V === SIMD) {
    L.push(`    (if (v128.any_true (i32x4.le_u (local.get $q) (local.get $tv)))`);
    L.push(`      (then`);
    L.push(`        (local.set $lane (i32.const 3))`);
    for (const lane of [2, 1, 0]) {
      L.push(`        (if (i32.le_u (i32x4.extract_lane ${lane} (local.get $q)) (i32x4.extract_lane 0 (local.get $tv))) (then (local.set $lane (i32.const ${lane}))))`);
    }
    L.push(`        (return (i32.add ${offset} (local.get $lane)))))`);
  } else {
    L.push(`    (if (i32.le_u (local.get $q) (local.get $tv)) (then (return ${offset})))`);
  }
  L.push(`    (local.set $ptr (i32.add (local.get $ptr) (i32.const ${V.step})))`);
  L.push(`    (br_if $next (i32.lt_u (local.get $ptr) (local.get $end)))`);
  L.push(`    )`);
  L.push(`    (i32.const -1))`);
  return L.join('\n');
}

/** The SIMD module (solve1, solve2) or the scalar one for browsers without SIMD. */
function generate(simd = true) {
  const V = simd ? SIMD : SCALAR;
  return [
    ';; GENERATED by wasm/gen.js; edit that file, then run wasm/build.sh.',
    '(module',
    '  (memory (export "memory") 1)',
    kernel('solve1', false, V),
    kernel('solve2', true, V),
    ')',
    '',
  ].join('\n');
}

module.exports = { generate, K };

if (require.main === module) {
  const path = require('path');
  require('fs').writeFileSync(path.join(__dirname, 'solver.wat'), generate(true));
  require('fs').writeFileSync(path.join(__dirname, 'solver-scalar.wat'), generate(false));
}
