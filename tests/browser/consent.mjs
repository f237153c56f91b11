// Opens the consent page in headless Chromium as an app administrator would:
// signs in, approves, and reports where the browser was sent.
//
// usage: node consent.mjs CONSENT_URL USERNAME PASSWORD SCREENSHOT_PNG
// prints: {"final_url": "...", "title": "...", "wrong_password_error": "..."}
//
// The redirect target (the ISV's site) is not reachable from a test machine;
// the request the browser makes to it, with its URL, is what the test checks.
import { chromium } from 'playwright-core';

const [url, username, password, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 800, height: 760 } });
  const origin = new URL(url).origin;
  await page.goto(url);
  const title = await page.textContent('h1');

  // A wrong password first: the page comes back with an error.
  await page.fill('#username', username);
  await page.fill('#password', 'not-the-password');
  await Promise.all([page.waitForLoadState('load'), page.click('#approve')]);
  const wrong = await page.textContent('#error');

  await page.fill('#password', password);
  await page.screenshot({ path: screenshot, fullPage: true });
  const [redirected] = await Promise.all([
    page.waitForRequest((r) => !r.url().startsWith(origin)),
    page.click('#approve'),
  ]);
  console.log(JSON.stringify({ final_url: redirected.url(), title, wrong_password_error: wrong }));
} finally {
  await browser.close();
}
