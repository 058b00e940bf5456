#!/usr/bin/env node
// Renders resources/icon.svg into the icons electron-builder packs: PNGs (1024, 512, 256), a
// Windows .ico and a macOS .icns, both of which simply hold PNGs (the ICO format allows PNG
// entries since Vista; icns types ic08/ic09/ic10 are 256/512/1024 PNGs). Drawn by the headless
// Chromium the UI tests use. Run once after changing the SVG: npm run icons
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const resources = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'resources');
const svg = fs.readFileSync(path.join(resources, 'icon.svg'), 'utf8');

async function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const { default: sparticuz } = await import('@sparticuz/chromium');
  return sparticuz.executablePath();
}

const browser = await chromium.launch({ executablePath: await chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const png = {};
try {
  for (const size of [1024, 512, 256, 48, 32, 16]) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`,
    );
    png[size] = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    await page.close();
  }
} finally {
  await browser.close();
}

fs.writeFileSync(path.join(resources, 'icon.png'), png[1024]);
fs.mkdirSync(path.join(resources, 'icons'), { recursive: true });
for (const size of [512, 256]) fs.writeFileSync(path.join(resources, 'icons', `${size}x${size}.png`), png[size]);

// ICO: a 6-byte header, a 16-byte entry per image (0 in a size byte means 256), then the PNGs.
const icoSizes = [256, 48, 32, 16];
const header = Buffer.alloc(6 + 16 * icoSizes.length);
header.writeUInt16LE(0, 0);
header.writeUInt16LE(1, 2);
header.writeUInt16LE(icoSizes.length, 4);
let offset = header.length;
icoSizes.forEach((size, index) => {
  const entry = 6 + 16 * index;
  header.writeUInt8(size === 256 ? 0 : size, entry);
  header.writeUInt8(size === 256 ? 0 : size, entry + 1);
  header.writeUInt16LE(1, entry + 4);
  header.writeUInt16LE(32, entry + 6);
  header.writeUInt32LE(png[size].length, entry + 8);
  header.writeUInt32LE(offset, entry + 12);
  offset += png[size].length;
});
fs.writeFileSync(path.join(resources, 'icon.ico'), Buffer.concat([header, ...icoSizes.map((size) => png[size])]));

// icns: 'icns' + total length, then per image its type, its length (with these 8 bytes) and the PNG.
const icnsTypes = [
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
];
const chunks = icnsTypes.map(([type, size]) => {
  const head = Buffer.alloc(8);
  head.write(type, 0, 'ascii');
  head.writeUInt32BE(8 + png[size].length, 4);
  return Buffer.concat([head, png[size]]);
});
const icnsHead = Buffer.alloc(8);
icnsHead.write('icns', 0, 'ascii');
icnsHead.writeUInt32BE(8 + chunks.reduce((sum, chunk) => sum + chunk.length, 0), 4);
fs.writeFileSync(path.join(resources, 'icon.icns'), Buffer.concat([icnsHead, ...chunks]));
console.log('resources: icon.png (1024), icons/512x512.png, icons/256x256.png, icon.ico, icon.icns');
