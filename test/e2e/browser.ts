import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, headless, as the project's browser tests and screenshots use it. */
export const CHROMIUM_PATH = process.env.KETENDATA_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
