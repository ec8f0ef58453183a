// Shared by the scripts here: the system's Chromium, headless, through
// playwright-core (which downloads no browser of its own).
import { chromium } from 'playwright-core';

// launch starts $CHROMIUM, or /usr/bin/chromium.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 20000,
  });
}

// watch opens a page that collects its script errors and console errors
// into errors, each prefixed with label.
export async function watch(context, label, errors) {
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${label}: console: ${m.text()}`); });
  return page;
}

// finish closes the browser, waiting at most a few seconds (a loaded
// machine can make Chromium slow to close, and the results are printed by
// then), and exits: 1 with the error if there was one. On exit,
// playwright-core kills a browser that did not close.
export async function finish(browser, err) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, 5000); });
  await Promise.race([browser.close().catch(() => {}), late]);
  clearTimeout(timer);
  if (err) {
    console.error(err);
    process.exit(1);
  }
  process.exit(0);
}
