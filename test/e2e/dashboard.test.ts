import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../domain/bucketing';
import { bucketSaltOf, createAppWithBundles, deviceIds, devicesInBuckets, postTelemetry, startRelease, type TelemetryEvent } from '../support/fixtures';
import { waitForServed } from '../support/rollout-waits';
import { useTestStack } from '../support/test-stack';
import { ensureUiBuilt } from '../support/ui-build';

const ROOT = path.resolve(__dirname, '../..');
const SCREENSHOTS = path.join(ROOT, '.data', 'screenshots');
/** Debian's chromium; `.ci/run` installs it when missing. No browser is downloaded. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The budget for the dashboard's JavaScript, gzipped. */
const JS_BUDGET_BYTES = 200 * 1024;

// Stage 1 bakes a few seconds, long enough to see it before the page watches it advance by itself.
const plan = {
  stages: [
    { name: 'canary', exposureBps: 2000, minSoakMs: 5000, checkIntervalMs: 500, gates: [] },
    { name: 'half', exposureBps: 5000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
    { name: 'everyone', exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500, gates: [] },
  ],
};

describe('the dashboard in a real browser', () => {
  // A revoked key is refused within a test's patience.
  const ctx = useTestStack({ apiKeyCache: { ttlMs: 200 } });
  let browser: Browser;
  let uiDir = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [uiDir] = await Promise.all([ensureUiBuilt(), mkdir(SCREENSHOTS, { recursive: true })]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox', '--disable-dev-shm-usage'] : ['--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
  });

  const newPage = async (): Promise<Page> => {
    // The page's CSP would refuse the injected axe-core; the check runs on what the page renders.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark', bypassCSP: true });
    contexts.push(context);
    return context.newPage();
  };

  const signIn = async (page: Page, key: string) => {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
  };

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  const axeSource = readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const criticalViolations = async (page: Page) => {
    await page.addScriptTag({ content: await axeSource });
    const violations = await page.evaluate<Array<{ id: string; impact: string | null; nodes: number }>>(
      'axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))',
    );
    return violations.filter((v) => v.impact === 'critical');
  };

  /** Waits until an element shows the text, on the page as it is (no reload). */
  const showsText = (page: Page, testId: string, text: string, timeout = 20_000) =>
    page.waitForFunction(`document.querySelector('[data-testid="${testId}"]')?.textContent === ${JSON.stringify(text)}`, null, { timeout });

  const createKey = async (name: string, role: string) => {
    const res = await ctx.admin.post('/v1/api-keys', { name, role });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, key: res.body.key as string };
  };

  it('ships less JavaScript than its budget', async () => {
    const assets = path.join(uiDir, 'assets');
    const scripts = (await readdir(assets)).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const file of scripts) gzipped += gzipSync(await readFile(path.join(assets, file)), { level: 9 }).length;
    expect(gzipped).toBeLessThan(JS_BUDGET_BYTES);
    await writeFile(path.join(SCREENSHOTS, 'bundle.json'), JSON.stringify({ scripts, gzippedBytes: gzipped }, null, 2));
  });

  it("shows an experiment's arms, each against its control", async () => {
    const { baseUrl } = ctx.stack;
    const appId = 'com.example.dashboard.experiment';
    // A version of its own: the apps page lists every app's releases by version, and the other test looks one up by name.
    await createAppWithBundles(ctx.admin, appId, ['2.5.0']);
    const started = await ctx.admin.post(`/v1/apps/${appId}/experiments`, {
      arms: [{ key: 'stay' }, { key: 'new', version: '2.5.0', installMode: 'immediate' }],
      primaryMetric: 'session_duration',
      plan: { stages: [{ exposureBps: 10_000, minSoakMs: 600_000, checkIntervalMs: 500 }] },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect((await ctx.admin.get(`/v1/releases/${started.body.id as string}`)).body).toMatchObject({ kind: 'experiment' });

    const page = await newPage();
    await page.goto(`${baseUrl}/`);
    await signIn(page, ctx.stack.adminKey);
    await page.goto(`${baseUrl}/ui/releases/${started.body.id as string}`);
    const arms = page.getByTestId('experiment-arms');
    await arms.waitFor();
    expect(await arms.locator('tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^stay\s*baseline\s*next launch\s*0/),
      expect.stringMatching(/^new\s*2\.5\.0\s*immediate\s*0/),
    ]);
    expect(await page.getByTestId('experiment-outcome').textContent()).toBe('No winner yet.');
    await shot(page, '11-experiment');
    expect(await criticalViolations(page)).toEqual([]);
  });

  it('signs in, follows a release live, rolls it back with a reason, and shows viewers no commands', async () => {
    const { baseUrl } = ctx.stack;
    const appId = 'com.example.dashboard';
    await createAppWithBundles(ctx.admin, appId, ['2.0.0']);
    const oncall = await createKey('night-oncall', 'oncall');
    const viewer = await createKey('wallboard', 'viewer');

    const page = await newPage();
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('API key').waitFor();
    await shot(page, '01-sign-in');
    await signIn(page, oncall.key);
    expect(await page.getByTestId('role').textContent()).toBe('oncall');

    const id = await startRelease(ctx.admin, appId, { version: '2.0.0', plan });
    await waitForServed(ctx.stack, id, (r) => r.status === 'running' && r.stageIndex === 0);
    await page.goto(`${baseUrl}/ui/releases/${id}`);
    await page.getByTestId('stage').waitFor();
    expect(await page.getByTestId('stage').textContent()).toBe('1');
    await showsText(page, 'live', 'live');
    // A page that reloaded would lose this: the stage must change in place.
    await page.evaluate('window.stayed = true');
    // A small fleet reports, so the charts have canary and control lines.
    await postTelemetry(
      ctx.device,
      appId,
      deviceIds(60, 'phone').map((deviceId, i): { deviceId: string; events: TelemetryEvent[] } => {
        const bundleVersion = bucketOf(id, deviceId) < 2000 ? '2.0.0' : 'builtin';
        const events: TelemetryEvent[] = [{ type: 'session_start', bundleVersion }];
        if (bundleVersion === '2.0.0') events.push({ type: 'install_ok', bundleVersion });
        if (i % 7 === 0) events.push({ type: 'crash', bundleVersion });
        if (i % 5 === 0) events.push({ type: 'js_error', bundleVersion });
        return { deviceId, events };
      }),
    );
    await showsText(page, 'stage', '2', 30_000);
    expect(await page.evaluate('window.stayed')).toBe(true);
    // Pushed by the event stream (polling is only the fallback).
    const sent = await ctx.stack.api.deps.metrics.releaseEventsSent.get();
    expect(sent.values.find((v) => v.labels.event === 'change')?.value).toBeGreaterThan(0);
    expect(await page.getByTestId('current-stage').textContent()).toContain('baking');
    await shot(page, '03-release-live');
    // The top of the page, small enough for the README (docs/dashboard.png is a copy of it).
    await page.screenshot({ path: path.join(SCREENSHOTS, 'readme-release.png'), clip: { x: 0, y: 0, width: 1280, height: 1250 } });
    expect(await criticalViolations(page)).toEqual([]);

    // A viewer sees the same page without a single command.
    const viewerPage = await newPage();
    await viewerPage.goto(`${baseUrl}/`);
    await signIn(viewerPage, viewer.key);
    await viewerPage.goto(`${baseUrl}/ui/releases/${id}`);
    await viewerPage.getByTestId('stage').waitFor();
    expect(await viewerPage.getByRole('group', { name: 'On-call commands' }).count()).toBe(0);
    expect(await viewerPage.getByRole('button', { name: /pause|roll back|promote|abort|resume/i }).count()).toBe(0);
    await shot(viewerPage, '04-release-viewer');

    // On-call rolls back: a confirmation that asks why, then the new state on the page.
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Reason/).fill('crash reports from support');
    await shot(page, '05-rollback-confirmation');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await showsText(page, 'status', 'rolled back');
    const history = page.getByTestId('history');
    const row = history.getByRole('row').filter({ hasText: 'rolled back' }).filter({ hasText: 'crash reports from support' });
    expect(await row.textContent()).toContain(`key:${oncall.id}`);
    expect(await page.getByRole('button', { name: 'Roll back' }).count()).toBe(0);
    await shot(page, '06-release-rolled-back');

    const salt = await bucketSaltOf(ctx.stack, id);
    const [exposed] = devicesInBuckets(salt, 0, 2000, 1);
    const answer = await ctx.device.post(`/v1/apps/${appId}/check`, { deviceId: exposed, platform: 'android', nativeVersion: '2.0.0', bundleVersion: '2.0.0' });
    expect(answer.body).toMatchObject({ action: 'rollback', releaseId: id });

    // A fresh load with the key in this tab's storage: the time to a rendered page, as the browser measured it.
    await page.goto(`${baseUrl}/`);
    await page.getByRole('link', { name: '2.0.0' }).waitFor();
    const firstRenderMs = await page.evaluate<number>('performance.now()');
    const shellRenderedMs = await page.evaluate<number>("performance.getEntriesByName('rampart-rendered')[0].startTime");
    await shot(page, '02-apps');
    expect(await criticalViolations(page)).toEqual([]);

    // The device's story and the settings page, each with their own screenshot.
    await page.goto(`${baseUrl}/ui/apps/${appId}/devices`);
    await page.getByLabel('Device id').fill(exposed!);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('device-action').waitFor();
    await shot(page, '07-device');
    await page.goto(`${baseUrl}/ui/apps/${appId}/settings`);
    await page.getByRole('heading', { name: 'Segments' }).waitFor();
    await shot(page, '08-settings');
    expect(await criticalViolations(page)).toEqual([]);

    // A revoked key and an unreachable API each say so, instead of a blank page.
    expect((await ctx.admin.delete(`/v1/api-keys/${viewer.id}`)).status).toBe(200);
    await viewerPage.reload();
    await viewerPage.getByRole('alert').filter({ hasText: /refused/ }).waitFor({ timeout: 20_000 });
    await viewerPage.getByLabel('API key').waitFor();
    await shot(viewerPage, '09-key-revoked');
    await page.route('**/v1/**', (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.getByRole('alert').filter({ hasText: /cannot be reached/ }).waitFor();
    await shot(page, '10-stack-down');

    await writeFile(path.join(SCREENSHOTS, 'timings.json'), JSON.stringify({ shellRenderedMs, firstRenderMs }, null, 2));
  });
});
