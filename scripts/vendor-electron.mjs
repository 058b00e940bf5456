#!/usr/bin/env node
// Refreshes vendor/electron/ from the `electron` npm package of the given version: its type
// definitions (for tsc), the SHA-256 checksums of its release zips (checked on the first-start
// download) and its version. We do not install that package: every supported Electron (43+)
// declares Node >= 22.12 and would make `npm install` warn on the Node 20 this project supports,
// while the binary itself is the same. electron-builder.yml's electronVersion must match (tested). Usage: npm run electron:vendor -- 45.5.0
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const version = process.argv[2];
if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
  console.error('usage: npm run electron:vendor -- <electron version, e.g. 45.5.0>');
  process.exit(2);
}
const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'vendor', 'electron');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'electron-vendor-'));
try {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', `electron@${version}`, '--json', '--pack-destination', work], { cwd: work, encoding: 'utf8' }));
  execFileSync('tar', ['xzf', path.join(work, packed.filename), '-C', work]);
  const from = path.join(work, 'package');
  const manifest = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
  fs.mkdirSync(target, { recursive: true });
  for (const file of ['electron.d.ts', 'checksums.json', 'LICENSE']) fs.copyFileSync(path.join(from, file), path.join(target, file));
  const release = {
    electron: manifest.version,
    license: manifest.license,
    from: `the npm package electron@${manifest.version}, by scripts/vendor-electron.mjs`,
  };
  fs.writeFileSync(path.join(target, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);
  console.log(`vendor/electron: Electron ${manifest.version}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
