// Drives the chat demo's page in headless Chromium, as two people would:
// alice and bob open the page at once (each page joins: a call to the
// server, which calls the page back for clientInfo), alice says a line, bob
// answers, and each sees the other's line. Prints one JSON object with what each page
// shows, and saves a screenshot of alice's page.
//
// Usage: node chat.mjs <url> <screenshot.png>
import { launch, watch, finish } from './launch.mjs';

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error('usage: node chat.mjs <url> <screenshot.png>');
  process.exit(2);
}

const browser = await launch();
const errors = [];
let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 620 } });
  const open = async (name) => {
    const page = await watch(context, name, errors);
    await page.goto(`${url}/?name=${name}`);
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('connected as'));
    return page;
  };
  // Waits until the page's log has a line with this text.
  const sees = (page, text) => page.waitForFunction(
    (t) => [...document.querySelectorAll('#log div')].some((d) => d.textContent.includes(t)), text);
  const say = async (page, text) => {
    await page.fill('#text', text);
    await page.click('#form button');
  };

  const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
  await sees(alice, 'bob joined');
  await sees(bob, 'alice joined');
  await say(alice, 'hello from alice');
  await sees(bob, 'alice: hello from alice');
  await say(bob, 'hi alice, bob here');
  await sees(alice, 'bob: hi alice, bob here');
  await sees(bob, 'bob: hi alice, bob here');
  await alice.screenshot({ path: shot });

  const read = (page) => page.evaluate(() => ({
    status: document.getElementById('status').textContent,
    lines: [...document.querySelectorAll('#log div')].map((d) => d.textContent),
    asked: document.querySelectorAll('#log .asked').length,
    input: document.getElementById('text').value,
    agent: navigator.userAgent,
  }));
  console.log(JSON.stringify({ alice: await read(alice), bob: await read(bob), errors }));
} catch (err) {
  failed = err;
}
await finish(browser, failed);
