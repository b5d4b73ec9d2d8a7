// Cap's solver (@cap.js/wasm, browser build) in a dedicated module worker.
// solve_pow(salt, hexPrefix) scans nonces from 0: hashes = nonce + 1, exactly.
import init, { solve_pow } from '../node_modules/@cap.js/wasm/browser/cap_wasm.js';

const ready = init({ module_or_path: new URL('../node_modules/@cap.js/wasm/browser/cap_wasm_bg.wasm', import.meta.url) });

self.onmessage = async (ev) => {
  await ready;
  const { salts, prefix } = ev.data;
  const t0 = performance.now();
  let hashes = 0;
  for (const salt of salts) hashes += Number(solve_pow(salt, prefix)) + 1;
  self.postMessage({ hashes, ms: performance.now() - t0 });
};
self.postMessage({ ready: true });
