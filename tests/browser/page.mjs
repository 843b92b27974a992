// The status page as a person uses it, in headless Chromium driven by playwright-core
// (run by tests/web_browser.rs against `teachcam run` on a looping replay).
//
// Environment: TEACHCAM_URL (the page), TEACHCAM_TOKEN, TEACHCAM_LABEL (a label to capture),
// PLAYWRIGHT_DIR (a folder whose node_modules holds playwright-core), SCREENSHOT_DIR,
// CHROMIUM (default /usr/bin/chromium). Prints one line per step; exits non-zero on the first
// failure.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const URL_ = env('TEACHCAM_URL');
const TOKEN = env('TEACHCAM_TOKEN');
const LABEL = env('TEACHCAM_LABEL');
const SHOTS = env('SCREENSHOT_DIR');
const require = createRequire(join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const PATIENCE = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let step = 0;
function ok(what) { console.log(`STEP ${++step} ok: ${what}`); }

async function until(what, fn) {
  const t = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t > PATIENCE) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

mkdirSync(SHOTS, { recursive: true });
const shot = async (page, name, opts = {}) => {
  const path = join(SHOTS, name);
  await page.screenshot({ path, fullPage: true, ...opts });
  console.log(`SCREENSHOT ${path}`);
};

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-extensions', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // A refused request is logged as "Failed to load resource": expected in step 4.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });

  // 1. The page loads and its event stream connects.
  const response = await page.goto(URL_);
  if (!response || response.status() !== 200) throw new Error(`the page answered ${response && response.status()}`);
  await page.waitForSelector('#link[data-state="live"]', { timeout: PATIENCE });
  ok('page loaded, event stream live');

  // 2. The live image updates: two reads of its pixels differ.
  const pixels = () => page.evaluate(() => {
    const img = document.getElementById('live');
    if (!img.naturalWidth) return null;
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 64, 48);
    const d = g.getImageData(0, 0, 64, 48).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) >>> 0;
    return `${img.naturalWidth}x${img.naturalHeight}:${h}`;
  });
  const first = await until('a live frame', pixels);
  const second = await until('a different live frame', async () => { const p = await pixels(); return p && p !== first ? p : null; });
  ok(`live image updates (${first} -> ${second})`);

  // 3. The label bars move.
  const bars = () => page.evaluate(() => [...document.querySelectorAll('#bars .bar')].map((b) =>
    `${b.dataset.label}=${b.querySelector('.pct').textContent}`).join(' '));
  const barsBefore = await until('confidence bars', async () => { const b = await bars(); return b.includes('=') ? b : null; });
  const barsAfter = await until('the bars to change', async () => { const b = await bars(); return b !== barsBefore ? b : null; });
  const detected = await page.textContent('#detected');
  ok(`label bars move (${barsBefore} -> ${barsAfter}; shown: ${detected})`);
  await sleep(600); // let the bar transitions settle for the picture
  await shot(page, 'status-page-desktop.png');

  // 4. A capture without the token is refused: message shown, count unchanged.
  const count = () => page.evaluate(async (l) => (await (await fetch('/api/state')).json()).counts[l] || 0, LABEL);
  const before = await count();
  await page.fill('#token', '');
  await page.click(`button[data-label="${LABEL}"]`);
  const refused = await until('a refusal message', async () => {
    const m = await page.textContent('#msg');
    return m && m.startsWith('Refused') ? m : null;
  });
  await sleep(1500);
  const still = await count();
  if (still !== before) throw new Error(`a capture without the token changed the count ${before} -> ${still}`);
  ok(`capture without token refused ("${refused}"), ${LABEL} count stays ${still}`);
  await shot(page, 'status-page-refused.png', { fullPage: false });

  // 5. With the token the count goes up, on the server and on the page.
  await page.fill('#token', TOKEN);
  await page.click(`button[data-label="${LABEL}"]`);
  const after = await until('the count to go up', async () => { const n = await count(); return n > before ? n : null; });
  await until('the page to show the new count', async () => {
    const shown = await page.evaluate((l) => [...document.querySelectorAll('.example')]
      .find((e) => e.querySelector('button')?.dataset.label === l)?.querySelector('.count')?.textContent, LABEL);
    return shown && shown.startsWith(`${after}`);
  });
  await until('the capture thumbnail', () => page.evaluate(() => {
    const img = document.querySelector('#thumbs img');
    return img && img.complete && img.naturalWidth > 0;
  }));
  const stored = await page.evaluate(() => localStorage.getItem('teachcam.token'));
  if (stored !== TOKEN) throw new Error('the token was not kept in localStorage');
  ok(`capture with token accepted: ${LABEL} ${before} -> ${after}, shown on the page with its thumbnail; token kept`);
  await sleep(600);
  await shot(page, 'status-page-captured.png');

  // 6. A phone-sized screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  await p2.goto(URL_);
  await p2.waitForSelector('#link[data-state="live"]', { timeout: PATIENCE });
  await p2.waitForFunction(() => document.getElementById('live').naturalWidth > 0, null, { timeout: PATIENCE });
  await p2.waitForSelector('#bars .bar', { timeout: PATIENCE });
  const overflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) throw new Error(`the phone layout scrolls sideways by ${overflow}px`);
  await sleep(600);
  await shot(p2, 'status-page-phone.png');
  ok('phone layout fits the screen width');
  await phone.close();

  // 7. The daemon restarts (the harness does it when asked): the page reconnects by itself and
  // the live image moves again.
  if (process.env.TEACHCAM_RESTART === '1') {
    const lines = createInterface({ input: process.stdin });
    const input = lines[Symbol.asyncIterator]();
    console.log('RESTART');
    await page.waitForSelector('#link[data-state="lost"]', { timeout: PATIENCE });
    await shot(page, 'status-page-daemon-gone.png', { fullPage: false });
    const restarted = await input.next();
    lines.close();
    if (restarted.done) throw new Error('the harness did not restart the daemon');
    await page.waitForSelector('#link[data-state="live"]', { timeout: PATIENCE });
    const p0 = await until('a frame after the restart', pixels);
    await until('the image to move after the restart', async () => { const p = await pixels(); return p && p !== p0; });
    ok('daemon restarted: the page saw it go, reconnected, and the live image moves again');
  }

  if (errors.length) throw new Error('errors in the page: ' + errors.join(' | '));
  ok('no script errors');
} finally {
  await browser.close();
}
