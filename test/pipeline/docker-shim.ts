// The `docker` the CI templates call, for this machine that has no Docker daemon: `docker build -t
// REF DIR` records REF as built; `docker push REF` builds a one-layer image for REF by hand and
// pushes it with skopeo (test/harness/push-image.ts), printing the digest as `docker push` does.
// SHIM_IMAGE_FORMAT=oci pushes other bytes under the same name (a different digest).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pushImage } from '../harness/push-image.js';

const state = path.join(process.env.SHIM_STATE ?? '.', 'docker-built');
const [cmd, ...rest] = process.argv.slice(2);

function splitRef(ref: string): { host: string; name: string; tag: string } {
  const m = /^([^/]+)\/(.+):([\w][\w.-]*)$/.exec(ref);
  if (!m) throw new Error(`docker shim: expected HOST/NAME:TAG, got ${ref}`);
  return { host: m[1]!, name: m[2]!, tag: m[3]! };
}

if (cmd === 'build') {
  const ref = rest[rest.indexOf('-t') + 1];
  if (rest.indexOf('-t') < 0 || ref === undefined) throw new Error('docker shim: build needs -t REF');
  splitRef(ref);
  appendFileSync(state, `${ref}\n`);
  console.log(`Successfully tagged ${ref}`);
} else if (cmd === 'push') {
  const ref = rest[0] ?? '';
  const built = existsSync(state) ? readFileSync(state, 'utf8').split('\n') : [];
  if (!built.includes(ref)) {
    console.error(`An image does not exist locally with the tag: ${ref}`);
    process.exit(1);
  }
  const { host, name, tag } = splitRef(ref);
  const format = process.env.SHIM_IMAGE_FORMAT === 'oci' ? 'oci' : 'v2s2';
  const img = await pushImage(host, name, tag, { format });
  console.log(`${tag}: digest: ${img.digest} size: ${img.size}`);
} else {
  console.error(`docker shim: unsupported command ${cmd ?? ''}`);
  process.exit(2);
}
