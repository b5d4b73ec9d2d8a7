// A plain hash-wasm loop: createSHA256() once, then init/update/digest per nonce.
importScripts('../node_modules/hash-wasm/dist/sha256.umd.min.js');

let hasher = null;
const ready = hashwasm.createSHA256().then((h) => { hasher = h; });

self.onmessage = async (ev) => {
  await ready;
  const { salts, count, t0word } = ev.data;
  const t0 = performance.now();
  let hashes = 0, found = 0;
  for (const salt of salts) {
    for (let n = 0; n < count; n++) {
      hasher.init();
      hasher.update(salt + n);
      const d = hasher.digest('binary');
      if (((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0 <= t0word) found++;
      hashes++;
    }
  }
  self.postMessage({ hashes, found, ms: performance.now() - t0 });
};
ready.then(() => self.postMessage({ ready: true }));
