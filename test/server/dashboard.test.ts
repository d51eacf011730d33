/**
 * Issue 12, the dashboard: a repository this test publishes (targets signed by three signers whose
 * delegations expire at different times) is shown in Debian's headless Chromium, driven by
 * playwright-core, behind basic auth: its tags, signers, key IDs and colour-coded expiries (with
 * the server's clock moved 10 days on, one delegation has expired), the audit entries of the
 * publish and the rate charts (uPlot, served by the server itself). A tag name holding markup is
 * shown as text. Screenshots go to .signet-test/output/dashboard/ (paths printed).
 */
import crypto from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, createAuthorizer, type SignetApp } from '../../src/server/index.js';
import { LocalServerSigner } from '../../src/signer/index.js';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { formatExpires } from '../../src/tuf/index.js';
import { requireBinary } from '../harness/proc.js';
import { ecdsaKey, TestRepo, type Injector } from './helpers.js';

const DAY = 24 * 3600 * 1000;
const GUN = 'registry.example.com/team/web';
const USER = 'operator';
const PASSWORD = crypto.randomBytes(12).toString('hex');
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const EVIL_TAG = '<img src=x onerror="document.title=\'pwned\'">';
const OUT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '.signet-test',
  'output',
  'dashboard',
);
/** the flags of /work docs for Debian's Chromium on these machines (closed network, root) */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let nowMs = Date.now();
const start = nowMs;
let dir: string;
let store: MetaStore;
let signet: SignetApp;
let base: string;
let repo: TestRepo;
const signerKeys = { releases: ecdsaKey(), alice: ecdsaKey(), bob: ecdsaKey() };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-dash-'));
  store = await openStore({ dataDir: dir });
  const signer = new LocalServerSigner({ keys: store.keys, passphrase: 'dashboard-test' });
  const passwordSha256 = crypto.createHash('sha256').update(PASSWORD).digest('hex');
  signet = buildApp({
    store,
    signer,
    now: () => new Date(nowMs),
    auth: createAuthorizer({ type: 'basic', users: { [USER]: { passwordSha256, repositories: { '*': ['*'] } } } }),
    options: { dashboardSampleMs: 200, expiryRefreshMs: 0 },
  });
  const authed: Injector = {
    inject: (o) => signet.app.inject({ ...o, headers: { ...o.headers, authorization: AUTH } }),
  };
  repo = await new TestRepo(authed, GUN).init();
  const expiresIn = (role: string, days: number): void => {
    (repo.delegations.get(role) as { signed: { expires: string } }).signed.expires = formatExpires(
      new Date(start + days * DAY),
    );
  };
  repo.addDelegation('targets/releases', [signerKeys.releases]);
  repo.addDelegation('targets/alice', [signerKeys.alice]);
  repo.addDelegation('targets/bob', [signerKeys.bob]);
  expiresIn('targets/releases', 5);
  expiresIn('targets/alice', 15);
  expiresIn('targets/bob', 30);
  repo.addTarget('v1.0', 'image v1.0', 'targets/releases');
  repo.addTarget('v1.0', 'image v1.0', 'targets/alice');
  repo.addTarget('latest', 'image v1.1', 'targets/bob');
  repo.addTarget(EVIL_TAG, 'evil', 'targets/alice');
  expect((await repo.publish()).statusCode).toBe(200);
  // one refused publish (a stale version), for the verify-failure chart and the audit list
  expect((await repo.post([['targets', repo.files.get('targets') as Buffer]])).statusCode).toBe(400);
  await new Promise((r) => setTimeout(r, 500)); // two rate samples
  nowMs = start + 10 * DAY;
  await signet.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(signet.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await signet?.app.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, auth = true) => fetch(base + url, auth ? { headers: { authorization: AUTH } } : {});

describe('dashboard API', () => {
  it('is behind the server auth, and sends a strict CSP', async () => {
    for (const url of ['/dashboard', '/dashboard/api/repositories', '/dashboard/assets/app.js']) {
      const r = await get(url, false);
      expect(r.status, url).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const page = await get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    // no inline script, style or event handler attribute
    expect(html).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/i);
    const uplot = await get('/dashboard/assets/uPlot.iife.min.js');
    expect(uplot.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await uplot.text()).toContain('uPlot');
    expect((await get('/dashboard/assets/..%2Fdashboard.ts')).status).toBe(404);
    expect((await get('/dashboard/api/nothing')).status).toBe(404);
  });

  it('lists the repository with its tags, signers, key IDs and expiry levels', async () => {
    const list = (await (await get('/dashboard/api/repositories')).json()) as {
      repositories: { gun: string }[];
    };
    expect(list.repositories.map((r) => r.gun)).toEqual([GUN]);
    const v = (await (await get(`/dashboard/api/repository?gun=${encodeURIComponent(GUN)}`)).json()) as {
      rootKeyIds: string[];
      signers: { role: string; keyIds: string[] }[];
      tags: { name: string; signedBy: string[] }[];
      expiries: { role: string; kind: string; level: string }[];
    };
    expect(v.rootKeyIds).toEqual([repo.rootKeys[0]?.pub.id]);
    expect(v.signers.map((s) => [s.role, s.keyIds])).toEqual([
      ['targets/releases', [signerKeys.releases.pub.id]],
      ['targets/alice', [signerKeys.alice.pub.id]],
      ['targets/bob', [signerKeys.bob.pub.id]],
    ]);
    expect(v.tags.map((t) => [t.name, t.signedBy])).toEqual([
      [EVIL_TAG, ['targets/alice']],
      ['latest', ['targets/bob']],
      ['v1.0', ['targets/alice', 'targets/releases']],
    ]);
    const level = (role: string) => v.expiries.find((e) => e.role === role && e.kind === 'metadata')?.level;
    expect(level('targets/releases')).toBe('expired');
    expect(level('targets/alice')).toBe('critical');
    expect(level('targets/bob')).toBe('warning');
    expect(level('targets')).toBe('ok');
    expect(level('timestamp')).toBe('auto');
  });
});

describe('dashboard in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => browser?.close());

  it('shows the repository, its signers, key IDs, colour-coded expiries, audit entries and charts', async () => {
    await requireBinary('/usr/bin/chromium', 'chromium');
    mkdirSync(OUT, { recursive: true });
    try {
      // playwright gives Chromium a new empty profile (user-data-dir) of its own
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
      const context = await browser.newContext({
        httpCredentials: { username: USER, password: PASSWORD },
        viewport: { width: 1280, height: 1000 },
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400 && r.status() !== 401) problems.push(`${r.status()} ${r.url()}`);
      });
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      await page.goto(`${base}/dashboard?gun=${encodeURIComponent(GUN)}`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });

      expect(
        await page.locator('#repositories tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-gun'))),
      ).toEqual([GUN]);
      expect(await page.locator('#repo-name').textContent()).toBe(GUN);

      const tags = await page
        .locator('#tags tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
      expect(tags.map((t) => [t[0], t[3]])).toEqual([
        [EVIL_TAG, 'targets/alice'],
        ['latest', 'targets/bob'],
        ['v1.0', 'targets/alice, targets/releases'],
      ]);
      // the markup in the tag name is text: no element was made of it, no script ran
      expect(await page.locator('#tags img').count()).toBe(0);
      expect(await page.title()).toBe('Signet trust server');

      const signers = await page
        .locator('#signers tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
      expect(signers).toEqual([
        ['releases', 'targets/releases', signerKeys.releases.pub.id, '1'],
        ['alice', 'targets/alice', signerKeys.alice.pub.id, '1'],
        ['bob', 'targets/bob', signerKeys.bob.pub.id, '1'],
      ]);
      expect(await page.locator('#keys tbody tr').first().textContent()).toContain(repo.rootKeys[0]?.pub.id);
      expect(await page.locator('#keys tbody tr').nth(1).textContent()).toContain(repo.targetsKey.pub.id);

      const levelOf = async (role: string): Promise<string | null> =>
        page.locator(`#expiries tbody tr[data-role="${role}"][data-kind="metadata"]`).getAttribute('data-level');
      expect(await levelOf('targets/releases')).toBe('expired');
      expect(await levelOf('targets/alice')).toBe('critical');
      expect(await levelOf('targets/bob')).toBe('warning');
      expect(await levelOf('targets')).toBe('ok');
      expect(await levelOf('timestamp')).toBe('auto');
      // the colours are the stylesheet's (served by the server, CSP 'self')
      const colour = (role: string) =>
        page
          .locator(`#expiries tbody tr[data-role="${role}"][data-kind="metadata"] .exp`)
          .evaluate((e) => e.ownerDocument.defaultView?.getComputedStyle(e).backgroundColor);
      expect(await colour('targets/releases')).toBe('rgb(179, 38, 30)');
      expect(await colour('targets/alice')).toBe('rgb(232, 113, 10)');
      expect(await colour('targets/bob')).toBe('rgb(249, 216, 73)');
      expect(await colour('targets')).toBe('rgb(30, 142, 62)');
      expect(await page.locator('#expiries tbody tr[data-kind="certificate"]').count()).toBe(1);

      const events = await page
        .locator('#audit tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
      // newest first: the refused publish, the publish; before them only the 401s of this test's
      // credential-less requests and the browser's first, unchallenged one
      // (the store's trail: a refused request is its own `refused` entry, the publish is committed with its
      // files, and the server's key for the repository was created before it)
      expect(events.filter((e) => e !== 'auth_failure')).toEqual(['refused', 'publish', 'create_key']);
      expect(await page.locator('#audit tbody tr[data-event="refused"]').nth(0).textContent()).toContain('400');
      const publish = page.locator('#audit tbody tr[data-event="publish"]').nth(0);
      expect(await publish.textContent()).toContain(`${USER}${GUN}200`);
      expect(await publish.textContent()).toContain('targets/releases v1');

      // uPlot drew both charts on canvases, from the server's own copy of the library
      expect(await page.locator('#chart-publishes canvas').count()).toBe(1);
      expect(await page.locator('#chart-auth canvas').count()).toBe(1);
      expect(await page.locator('#chart-publishes .u-legend').textContent()).toContain('failed verification');
      expect(problems).toEqual([]);

      const full = path.join(OUT, 'dashboard.png');
      await page.screenshot({ path: full, fullPage: true });
      const expiries = path.join(OUT, 'dashboard-expiries.png');
      await page.locator('#expiries').screenshot({ path: expiries });
      console.log(`dashboard screenshots: ${full} ${expiries}`);
    } finally {
      await browser?.close();
      browser = undefined;
    }
  });
});
