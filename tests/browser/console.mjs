// The operator console in headless Chromium, as its operators use it.
//
// usage: node console.mjs PLAN_JSON
// PLAN_JSON: {"base", "reviewer"|"viewer"|"admin": [user, password],
//             "pass_id", "fail_id", "viewer_id", "failed_event", "rollback_app",
//             "pages": {name: path}, "shots": DIR}
// prints: one JSON object with what happened (the Rust test checks it).
//
// 1. The reviewer signs in, passes one package by mouse (its row's button)
//    and fails another by keyboard only (j, f, a reason template, Tab, Enter).
// 2. A viewer signs in: no action on the queue, and a POST made by script
//    with the viewer's own CSRF token is refused.
// 3. An admin replays a failed event and rolls an app back, each from its
//    page.
// 4. Every page is photographed at a desktop and a phone width and checked
//    with axe-core; violations of impact serious or critical are reported.
// Pages run with their Content-Security-Policy enforced; any message the
// browser logs as an error (a blocked script, say) is reported.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const plan = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const out = { console_errors: [], axe: {}, shots: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function signedIn(context, [user, password], next) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => out.console_errors.push(`${page.url()}: ${e.message}`));
  await page.goto(`${plan.base}/console/sign-in?next=${encodeURIComponent(next)}`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/sign-in')), page.click('#sign-in')]);
  return page;
}

try {
  // 1. The reviewer.
  const reviewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await signedIn(reviewer, plan.reviewer, '/console/reviews');
  out.reviewer_landed = new URL(page.url()).pathname;

  // By mouse: the pass button of the package's row.
  const passRow = `tr[data-review="/console/packages/${plan.pass_id}/review"]`;
  await Promise.all([page.waitForURL(/done=pass/), page.click(`${passRow} button.pass`)]);
  out.mouse_notice = (await page.textContent('#notice')).trim();

  // By keyboard: j selects the first row (now the package to fail), f opens
  // the dialog on the templates, ArrowDown picks the first template, Tab
  // goes to the reason and Tab to the button, Enter sends.
  await page.keyboard.press('j');
  out.keyboard_selected = await page.getAttribute('tr[data-row].selected', 'data-review');
  await page.keyboard.press('f');
  await page.waitForSelector('#fail-dialog[open]');
  await page.keyboard.press('ArrowDown');
  out.keyboard_reason = await page.inputValue('#dialog-reason');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  out.keyboard_focus = await page.evaluate(() => document.activeElement.id);
  await Promise.all([page.waitForURL(/done=fail/), page.keyboard.press('Enter')]);
  out.keyboard_notice = (await page.textContent('#notice')).trim();
  await reviewer.close();

  // 2. The viewer.
  const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const viewer = await signedIn(viewerContext, plan.viewer, '/console/reviews');
  out.viewer_actions = await viewer.locator('form[data-pass], #fail-dialog, [data-fail-link]').count();
  out.viewer_rows = await viewer.locator('tr[data-row]').count();
  await viewer.goto(`${plan.base}/console/packages/${plan.viewer_id}`);
  out.viewer_package_actions = await viewer.locator('form[action$="/review"]').count();
  // The refusal below is logged by the browser as a failed load: expected.
  viewer.removeAllListeners('console');
  out.viewer_forged_status = await viewer.evaluate(async (id) => {
    const csrf = document.querySelector('input[name=csrf]').value; // the sign-out form's
    const r = await fetch(`/console/packages/${id}/review`, {
      method: 'POST', redirect: 'manual',
      body: new URLSearchParams({ csrf, decision: 'pass' }),
    });
    return r.status;
  }, plan.viewer_id);
  await viewerContext.close();

  // 3. An admin replays a failed event from its page and rolls an app
  // back from its page.
  const adminContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const admin = await signedIn(adminContext, plan.admin, `/console/events/${plan.failed_event}`);
  out.event_status_before = (await admin.textContent('#status')).trim();
  await Promise.all([admin.waitForURL(/done=replay/), admin.click('#replay')]);
  out.replay_notice = (await admin.textContent('#notice')).trim();
  await admin.goto(`${plan.base}/console/apps/${plan.rollback_app}`);
  await Promise.all([admin.waitForURL(/done=rollback/), admin.click('#rollback')]);
  out.rollback_notice = (await admin.textContent('#notice')).trim();
  await adminContext.close();

  // 4. Screenshots and accessibility, signed in as the admin (every
  // action shown). axe is injected, so this pass lifts the CSP.
  for (const [width, height, kind] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
    const ctx = await browser.newContext({ viewport: { width, height }, bypassCSP: true });
    const signIn = await ctx.newPage();
    await signIn.goto(`${plan.base}/console/sign-in`);
    const pages = [['sign-in', signIn, null]];
    const p = await signedIn(ctx, plan.admin, '/console');
    for (const [name, path] of Object.entries(plan.pages)) pages.push([name, p, path]);
    for (const [name, pg, path] of pages) {
      if (path) await pg.goto(`${plan.base}${path}`);
      const file = `${plan.shots}/console-${name}-${kind}.png`;
      // The whole page, cut at 2400 px (long lists repeat themselves).
      const tall = await pg.evaluate(() => document.documentElement.scrollHeight);
      await pg.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(tall, 2400) } });
      out.shots.push(file);
      await pg.addScriptTag({ path: axePath });
      const result = await pg.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
      });
      out.axe[`${name}-${kind}`] = result;
    }
    // The fail dialog, open (on the queue, desktop and phone).
    await p.goto(`${plan.base}/console/reviews`);
    if (await p.locator('tr[data-row]').count()) {
      await p.keyboard.press('j');
      await p.keyboard.press('f');
      await p.waitForSelector('#fail-dialog[open]');
      const file = `${plan.shots}/console-fail-dialog-${kind}.png`;
      await p.screenshot({ path: file });
      out.shots.push(file);
    }
    await ctx.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
