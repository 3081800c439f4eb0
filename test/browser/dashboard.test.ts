/**
 * The dashboard in headless Chromium (Debian's /usr/bin/chromium through playwright-core) against
 * `lava serve` and `lava worker` child processes, on each backend: sign in with an operator token,
 * dispatch from the job page, watch the run go from queued to complete live, open its output, see a
 * failure on the overview, tail a running job's output and stop it, retry a batch's dead tasks. Screenshots of every page go to
 * artifacts/screenshots/ (and to docs/images/ with LAVA_DOCS_SCREENSHOTS=1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitBatch } from '../../src/batch/submit.js';
import { pgSkipReason } from '../support/pg.js';
import { REPO_ROOT, killSpawned, lavaOk, spawnLava, waitFor, type LavaProcess } from '../e2e/cli-helpers.js';
import { makeStack, type BackendKind, type Stack } from './stack.js';

const CHROMIUM = '/usr/bin/chromium';
const chromiumSkip = fs.existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`;
const SHOTS = path.join(REPO_ROOT, 'artifacts/screenshots');
const DOC_SHOTS = process.env.LAVA_DOCS_SCREENSHOTS === '1' ? path.join(REPO_ROOT, 'docs/images') : undefined;

let browser: Browser;

beforeAll(async () => {
  if (chromiumSkip) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  fs.mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  killSpawned();
});

async function shot(page: Page, kind: BackendKind, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${kind}-${name}.png`), fullPage: true });
  if (DOC_SHOTS && kind === 'sqlite')
    await page.screenshot({ path: path.join(DOC_SHOTS, `dashboard-${name}.png`), fullPage: true });
}

const status = (page: Page) => page.getByTestId('run-status');

/** Dispatch a job from its page; returns the new run's id (the page moves to the run). */
async function dispatchFromPage(page: Page, base: string, jobId: string): Promise<string> {
  await page.goto(`${base}#/jobs/${encodeURIComponent(jobId)}`);
  await page.getByTestId('dispatch-button').click();
  await page.getByTestId('dispatch-submit').click();
  await page.waitForURL(/#\/runs\/[0-9a-f-]{36}/);
  return decodeURIComponent(page.url().split('#/runs/')[1] as string);
}

for (const kind of ['sqlite', 'postgres', 'aws'] as const) {
  const skip = chromiumSkip ?? (kind === 'postgres' ? pgSkipReason : undefined);
  const suite = skip ? describe.skip : describe;
  suite(`dashboard on the ${kind} backend${skip ? ` [skipped: ${skip}]` : ''}`, () => {
    let stack: Stack;
    let serve: LavaProcess;
    let worker: LavaProcess | undefined;
    let base: string;
    let page: Page;
    let token: string;

    beforeAll(async () => {
      stack = await makeStack(kind);
      await stack.putJob({ job_id: 'demo/hello', type: 'cmd', payload: "sh -c 'echo hello from the dashboard'" });
      await stack.putJob({ job_id: 'demo/broken', type: 'cmd', payload: "sh -c 'echo disk full >&2; exit 2'" });
      await stack.putJob({ job_id: 'demo/slow', type: 'cmd', payload: "sh -c 'echo tick; sleep 60; echo never'" });
      await stack.putJob({ job_id: 'demo/nightly', type: 'log', dispatcher: 'main', schedule: '30 1 * * *' });
      await stack.putJob({ job_id: 'demo/pipeline', type: 'chain', payload: 'demo/hello, demo/nightly' });
      serve = spawnLava(['serve', '--port', '0'], { env: stack.env, cwd: stack.dir });
      base = (
        await waitFor(() => /serving realm \S+ at (\S+)/.exec(serve.stdout())?.[1], 30_000, 'lava serve to listen')
      ).replace(/\/$/, '/');
      token = (
        await lavaOk(['token', 'create', '--role', 'operator', '--name', 'browser test'], { env: stack.env })
      ).stdout.trim();
      page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      await page.goto(base);
      // The token made the server require one (it notices within 2 s): sign in through the form.
      await waitFor(
        async () => {
          await page.reload();
          return page.getByTestId('login-token').isVisible();
        },
        10_000,
        'the sign-in form',
        500,
      );
      await shot(page, kind, 'login');
      await page.getByTestId('login-token').fill(token);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('nav-runs').waitFor();
    }, 180_000);

    afterAll(async () => {
      await page?.close();
      for (const p of [worker, serve]) {
        if (p?.running()) p.child.kill('SIGTERM');
        await p?.exited;
      }
      await stack?.cleanup();
    }, 60_000);

    it('dispatches from the job page and shows the run go from queued to complete live, with its output', async () => {
      const runId = await dispatchFromPage(page, base, 'demo/hello');
      await expect.poll(() => status(page).textContent(), { timeout: 10_000 }).toBe('queued');
      await shot(page, kind, 'run-queued');
      worker = spawnLava(['worker', '-w', 'core', '-t', '3'], {
        env: { ...stack.env, LAVA_DIRECTORY_BEAT: '1s' },
        cwd: stack.dir,
      });
      await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe('complete');
      expect(page.url()).toContain(runId);
      await page.getByTestId('output-link-stdout').click();
      await expect
        .poll(() => page.getByTestId('output-text').textContent(), { timeout: 10_000 })
        .toContain('hello from the dashboard');
      await shot(page, kind, 'run');
    }, 90_000);

    it('shows a failed run first on the overview', async () => {
      await dispatchFromPage(page, base, 'demo/broken');
      await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe('failed');
      await page.getByTestId('nav-overview').click();
      await expect
        .poll(() => page.getByTestId('failed-list').first().textContent(), { timeout: 15_000 })
        .toContain('demo/broken');
      await shot(page, kind, 'overview');
    }, 60_000);

    it('tails a running job’s output and stops it', async () => {
      await dispatchFromPage(page, base, 'demo/slow');
      await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe('running');
      // The worker publishes a running job's output every OUTPUT_LIVE_INTERVAL (2 s).
      await page.getByTestId('output-link-stdout').click({ timeout: 15_000 });
      await expect.poll(() => page.getByTestId('output-text').textContent(), { timeout: 15_000 }).toContain('tick');
      await shot(page, kind, 'output');
      await page.getByTestId('stop-button').click();
      await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe('failed');
      expect(await page.textContent('body')).toContain('Stopped on request');
    }, 90_000);

    it('shows a chain run with its children', async () => {
      await dispatchFromPage(page, base, 'demo/pipeline');
      await expect.poll(() => status(page).textContent(), { timeout: 30_000 }).toBe('complete');
      await expect.poll(() => page.textContent('body'), { timeout: 10_000 }).toContain('demo/nightly');
      await shot(page, kind, 'run-chain');
    }, 60_000);

    it('shows every section', async () => {
      for (const section of ['runs', 'jobs', 'queues', 'dispatchers', 'state']) {
        await page.getByTestId(`nav-${section}`).click();
        await page.waitForLoadState('networkidle');
        await shot(page, kind, section);
      }
      await page.goto(`${base}#/queues`);
      await expect.poll(() => page.getByTestId('workers-table').textContent(), { timeout: 10_000 }).toContain('core');
      await page.goto(`${base}#/jobs/${encodeURIComponent('demo/nightly')}`);
      await expect.poll(() => page.textContent('body'), { timeout: 10_000 }).toContain('30 1 * * *');
      await shot(page, kind, 'job');
    }, 60_000);

    it('shows a batch with dead tasks; an operator retries them and sees them pending', async () => {
      await submitBatch(stack.backend, stack.realm, {
        batchId: 'stores-nightly',
        jobId: 'demo/broken',
        job: { attrs: [{ name: 'store', plural: 'stores' }], values: ['s1', 's2', 's3', 's4'], isolate: { stores: true } },
      });
      // As admission leaves tasks after their last failed attempt (no admission runs in this stack).
      const keys = (await stack.backend.batches.listTasks(stack.realm, 'stores-nightly', 'pending')).tasks.map((x) => x.key);
      expect(keys).toHaveLength(4);
      for (const key of keys.slice(0, 3)) {
        await stack.backend.batches.transition(stack.realm, 'stores-nightly', key, ['pending'], 'dead', {
          attempt: 3,
          run_id: `0000000${keys.indexOf(key)}-0000-5000-8000-000000000000`,
          run_status: 'failed',
          error: `disk full (${key})`,
          died_at: new Date().toISOString(),
        });
      }
      await stack.backend.batches.transition(stack.realm, 'stores-nightly', keys[3]!, ['pending'], 'complete', {
        attempt: 1,
        run_status: 'complete',
      });
      await stack.backend.batches.update(stack.realm, 'stores-nightly', { state: 'finished', task_count: 4 });

      await page.getByTestId('nav-batches').click();
      await expect.poll(() => page.getByTestId('batches-table').textContent(), { timeout: 10_000 }).toContain('stores-nightly');
      expect(await page.getByTestId('batches-table').textContent()).toContain('4/4 (100%)');
      await shot(page, kind, 'batches');
      await page.getByRole('link', { name: 'stores-nightly' }).click();
      await expect.poll(() => page.getByTestId('batch-count-dead').textContent(), { timeout: 10_000 }).toBe('3');
      expect(await page.getByTestId('dead-table').textContent()).toContain(`disk full (${keys[0]})`);
      expect(await page.getByTestId('batch-state').textContent()).toBe('finished');
      await shot(page, kind, 'batch');

      await page.getByTestId(`retry-${keys[0]}`).click();
      await expect.poll(() => page.getByTestId('batch-count-dead').textContent(), { timeout: 10_000 }).toBe('2');
      expect(await page.getByTestId('notice-banner').textContent()).toContain('1 task retried');
      expect(await page.getByTestId('batch-state').textContent()).toBe('submitted');
      await page.getByTestId('retry-all').click();
      await expect.poll(() => page.getByTestId('batch-count-pending').textContent(), { timeout: 10_000 }).toBe('3');
      expect(await page.getByTestId('batch-count-dead').textContent()).toBe('0');
      expect(await page.getByTestId('dead-table').textContent()).toContain('Nothing to show.');
      const after = await stack.backend.batches.listTasks(stack.realm, 'stores-nightly', 'pending');
      expect(after.tasks.map((x) => [x.key, x.info.attempts_from])).toEqual(keys.slice(0, 3).map((k) => [k, 3]));
      // The tasks table lists them by state.
      await page.getByTestId('task-state').selectOption('pending');
      await expect.poll(() => page.getByTestId('tasks-table').textContent(), { timeout: 10_000 }).toContain(keys[2]!);
    }, 60_000);

    it('is usable at phone width (no page-wide sideways scroll)', async () => {
      const phone = await browser.newPage({ viewport: { width: 375, height: 740 } });
      try {
        await phone.goto(base);
        await phone.getByTestId('login-token').fill(token);
        await phone.getByTestId('login-submit').click();
        for (const route of ['#/', '#/runs', '#/jobs', '#/queues', '#/batches', '#/batches/stores-nightly']) {
          await phone.goto(`${base}${route}`);
          await phone.getByTestId('nav-runs').waitFor({ state: 'attached' });
          await phone.waitForLoadState('networkidle');
          const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
          expect(overflow, route).toBeLessThanOrEqual(0);
        }
        await shot(phone, kind, 'mobile');
      } finally {
        await phone.close();
      }
    }, 60_000);
  });
}
