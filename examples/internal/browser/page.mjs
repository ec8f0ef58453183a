// Drives one page in headless Chromium through a plan, prints what the
// page shows as one JSON object, and saves a screenshot.
//
// Usage: node page.mjs <url> <screenshot.png> <plan>
//
// plan is JSON: {"steps": [...], "read": [selectors]}, each step one of
//   {"wait": selector, "match": regexp}  until the element's text matches
//   {"fill": selector, "value": text}
//   {"click": selector}
// The output: {"texts": {selector: text}, "agent": ..., "errors": [...]}.
import { launch, watch, finish } from './launch.mjs';

const [url, shot, planText] = process.argv.slice(2);
if (!url || !shot || !planText) {
  console.error('usage: node page.mjs <url> <screenshot.png> <plan>');
  process.exit(2);
}
const plan = JSON.parse(planText);

const browser = await launch();
const errors = [];
let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 640 } });
  const page = await watch(context, 'page', errors);
  await page.goto(url);
  for (const step of plan.steps || []) {
    if (step.wait) {
      await page.waitForFunction(([sel, re]) => {
        const el = document.querySelector(sel);
        return el && new RegExp(re).test(el.textContent);
      }, [step.wait, step.match]).catch((e) => {
        throw new Error(`waiting for ${step.wait} to match /${step.match}/: ${e.message}`);
      });
    } else if (step.fill) {
      await page.fill(step.fill, step.value);
    } else if (step.click) {
      await page.click(step.click);
    } else {
      throw new Error('unknown step ' + JSON.stringify(step));
    }
  }
  await page.screenshot({ path: shot });
  const texts = await page.evaluate((sels) => Object.fromEntries(
    sels.map((s) => [s, document.querySelector(s)?.textContent ?? null])), plan.read || []);
  const agent = await page.evaluate(() => navigator.userAgent);
  console.log(JSON.stringify({ texts, agent, errors }));
} catch (err) {
  failed = err;
}
await finish(browser, failed);
