// Builds the solvers: gen.js -> solver.wat / solver-scalar.wat -> .wasm (wabt), then
// inlines both as base64 into chalicelib/static/worker.js between the markers
// "// @@WASM_BASE64_BEGIN" / "_END" and "// @@WASM_SCALAR_BASE64_BEGIN" / "_END".
'use strict';
const fs = require('fs');
const path = require('path');
const { generate } = require('./gen.js');

async function compile(wabt, name, wat) {
  fs.writeFileSync(path.join(__dirname, name + '.wat'), wat);
  const mod = wabt.parseWat(name + '.wat', wat, { simd: true });
  mod.validate();
  const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
  mod.destroy();
  fs.writeFileSync(path.join(__dirname, name + '.wasm'), Buffer.from(buffer));
  return Buffer.from(buffer);
}

function inline(src, marker, bytes) {
  const re = new RegExp('(// @@' + marker + '_BEGIN\\n)[\\s\\S]*?(\\n\\s*// @@' + marker + '_END)');
  if (!re.test(src)) throw new Error('markers @@' + marker + ' not found in worker.js');
  const lines = bytes.toString('base64').match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n');
  return src.replace(re, `$1${lines}\n  ''$2`);
}

async function main() {
  const wabt = await require('wabt')();
  const simd = await compile(wabt, 'solver', generate(true));
  const scalar = await compile(wabt, 'solver-scalar', generate(false));
  const workerPath = path.join(__dirname, '..', 'chalicelib', 'static', 'worker.js');
  let src = fs.readFileSync(workerPath, 'utf8');
  src = inline(src, 'WASM_BASE64', simd);
  src = inline(src, 'WASM_SCALAR_BASE64', scalar);
  fs.writeFileSync(workerPath, src);
  console.log(`solver.wasm ${simd.length} bytes, solver-scalar.wasm ${scalar.length} bytes, ` +
    `inlined as base64 into ${path.relative(process.cwd(), workerPath)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
