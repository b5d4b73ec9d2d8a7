// A plain hash-wasm loop: createSHA256() once, then init/update/digest per nonce
// (the message's bytes in a reused buffer, no allocation but the digest).
importScripts('../node_modules/hash-wasm/dist/sha256.umd.min.js');

let hasher = null;
const ready = hashwasm.createSHA256().then((h) => { hasher = h; });

const buf = new Uint8Array(1024);

self.onmessage = async (ev) => {
  await ready;
  const { salts, count, t0word } = ev.data;
  const t0 = performance.now();
  let hashes = 0, found = 0;
  for (const salt of salts) {
    for (let i = 0; i < salt.length; i++) buf[i] = salt.charCodeAt(i);
    for (let n = 0; n < count; n++) {
      let len = salt.length, v = n, digits = v < 10 ? 1 : Math.floor(Math.log10(v)) + 1;
      for (let j = digits - 1; j >= 0; j--) { buf[len + j] = 48 + (v % 10); v = Math.floor(v / 10); }
      len += digits;
      hasher.init();
      hasher.update(buf.subarray(0, len));
      const d = hasher.digest('binary');
      if (((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0 <= t0word) found++;
      hashes++;
    }
  }
  self.postMessage({ hashes, found, ms: performance.now() - t0 });
};
ready.then(() => self.postMessage({ ready: true }));
