// The Chromium the UI tests drive, found without any system setup: CHROMIUM_PATH when given, else
// the one @sparticuz/chromium ships inside its npm package (extracted to the temp folder on first
// use), else Debian's. Launched headless with a fresh profile and nothing that phones home.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

async function packagedChromium(): Promise<string | null> {
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    return await sparticuz.executablePath();
  } catch {
    return null;
  }
}

export async function findChromium(): Promise<{ path: string; from: string } | null> {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) return { path: fromEnv, from: 'CHROMIUM_PATH' };
  const packaged = await packagedChromium();
  if (packaged && existsSync(packaged)) return { path: packaged, from: '@sparticuz/chromium' };
  if (existsSync('/usr/bin/chromium')) return { path: '/usr/bin/chromium', from: '/usr/bin/chromium' };
  return null;
}

/** Playwright gives each launch a fresh temporary profile of its own, removed on close. */
export async function launchChromium(): Promise<Browser> {
  const found = await findChromium();
  if (!found) throw new Error("no Chromium: set CHROMIUM_PATH, or install @sparticuz/chromium (npm install) or Debian's chromium");
  return chromium.launch({ executablePath: found.path, headless: true, args: ARGS });
}
