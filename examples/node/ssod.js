// Starts `ssod serve` in test mode for a test suite and stops it afterwards.
// Copy this file into your suite; it needs only Node itself.
'use strict';
const { spawn } = require('node:child_process');

// startSSOD runs the ssod binary (SSOD_BIN, or `ssod` on the PATH) on a free
// loopback port with an in-memory database, applying the seed file if one is
// given, and resolves once it listens.
async function startSSOD({ seed, bin = process.env.SSOD_BIN || 'ssod' } = {}) {
  const args = ['serve', '--test-mode', '--addr', '127.0.0.1:0', '--db', ':memory:'];
  if (seed) args.push('--seed', seed);
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`ssod exited (${code}) before listening:\n${log}`)));
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /msg="ssod listening" addr=(\S+)/.exec(log);
      if (m) resolve(`http://${m[1]}`);
    });
  });
  proc.removeAllListeners('exit');
  // Without a seed, the first start prints a key with every scope; with
  // one, the suite uses the seed's keys.
  const firstKey = (/SG\.[\w-]{22}\.[\w-]{43}/.exec(log) || [])[0];

  const admin = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  return {
    url,
    firstKey,
    reset: () => admin('POST', '/_ssod/reset'),
    requests: (query = '') => admin('GET', '/_ssod/requests' + query),
    fault: (fault) => admin('POST', '/_ssod/faults', fault),
    setClock: (clock) => admin('POST', '/_ssod/clock', clock),
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.on('exit', resolve);
      proc.kill('SIGTERM');
    }),
  };
}

module.exports = { startSSOD };
