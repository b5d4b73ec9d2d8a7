// Builds the solver: gen.js -> solver.wat -> solver.wasm (wabt), then inlines
// the .wasm as base64 into chalicelib/static/worker.js between the markers
// "// @@WASM_BASE64_BEGIN" and "// @@WASM_BASE64_END".
'use strict';
const fs = require('fs');
const path = require('path');
const { generate } = require('./gen.js');

async function main() {
  const wat = generate();
  const watPath = path.join(__dirname, 'solver.wat');
  fs.writeFileSync(watPath, wat);
  const wabt = await require('wabt')();
  const mod = wabt.parseWat('solver.wat', wat, { simd: true });
  mod.validate();
  const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
  mod.destroy();
  const wasmPath = path.join(__dirname, 'solver.wasm');
  fs.writeFileSync(wasmPath, Buffer.from(buffer));
  const b64 = Buffer.from(buffer).toString('base64');
  const workerPath = path.join(__dirname, '..', 'chalicelib', 'static', 'worker.js');
  const src = fs.readFileSync(workerPath, 'utf8');
  const re = /(\/\/ @@WASM_BASE64_BEGIN\n)[\s\S]*?(\n\s*\/\/ @@WASM_BASE64_END)/;
  if (!re.test(src)) throw new Error('markers not found in ' + workerPath);
  const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n');
  const out = src.replace(re, `$1${lines}\n  ''$2`);
  fs.writeFileSync(workerPath, out);
  console.log(`solver.wasm: ${buffer.length} bytes, inlined as ${b64.length} base64 chars into ${path.relative(process.cwd(), workerPath)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
