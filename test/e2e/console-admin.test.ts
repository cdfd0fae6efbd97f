import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AccountService } from '../../src/control/auth/account-service.js';
import { signBody, signatureHeader } from '../../src/control/webhooks/signature.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { closeBrowser, getBrowser } from './players/play.js';

/**
 * The console's organization pages in Chromium against a real Reel server: projects (create, switch, edit, delete
 * with the API's refusal while it holds assets), a project's webhook rules (the generated secret shown once, the
 * event history of a real delivery), members and usage (shown as "not available" on a server without those
 * routes), and a Reader who finds the Admin's actions disabled. Every action is checked on the wire.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'test-output', 'console-admin');

/** `npm test`'s set-up builds the console; a direct run of this file builds it when it is missing. */
function ensureConsoleBuilt(): void {
  if (fs.existsSync(path.join(root, 'console', 'dist', 'index.html'))) return;
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(root, 'console/vite.config.ts'), '--logLevel', 'warn'],
    { stdio: 'inherit', cwd: root },
  );
}

interface Captured {
  method: string;
  path: string;
  body: string | null;
}

/** An HTTP receiver on 127.0.0.1 recording each delivery's body and headers. */
async function receiver() {
  const got: Array<{ raw: string; headers: http.IncomingHttpHeaders; url: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ raw: Buffer.concat(chunks).toString('utf8'), headers: req.headers, url: req.url ?? '' });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    got,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Waits for `check` to hold: a safety net against a hung test, not a timing threshold. */
async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('web console: projects, webhooks, members, usage', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const requests: Captured[] = [];
  const pageErrors: string[] = [];
  let cookie = '';

  const shot = async (p: Page, name: string) => {
    fs.mkdirSync(shots, { recursive: true });
    await p.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };
  const sent = (method: string, pathname: string) => requests.filter((r) => r.method === method && r.path === pathname);
  const bodyOf = (method: string, pathname: string, index = 0) => JSON.parse(sent(method, pathname)[index]?.body ?? 'null') as unknown;
  const dialog = (name?: string) => (name ? page.getByRole('dialog', { name }) : page.getByRole('dialog'));
  const nav = (p: Page, label: string) => p.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label, exact: true });
  /** The API as the signed-in admin, for set-up the pages do not do. */
  const api = (method: string, p: string, body?: unknown) =>
    fetch(`${server.url}${p}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const signIn = async (p: Page, email: string, password: string) => {
    await p.goto(`${server.url}/#/sign-in`);
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
  };

  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn', REEL_WEBHOOK_ALLOW_PRIVATE: 'true' });
    hook = await receiver();
    browser = await getBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, serviceWorkers: 'block' });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === server.url) requests.push({ method: r.method(), path: decodeURIComponent(u.pathname), body: r.postData() });
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await signIn(page, server.adminEmail, server.adminPassword);
    cookie = (await context.cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    await closeBrowser();
    await hook?.close();
    await server?.close();
  });

  it('creates a project, switches to it and edits its display name and active flag', async () => {
    await nav(page, 'Projects').click();
    await page.getByRole('heading', { name: 'Projects', exact: true }).waitFor();
    const table = page.getByRole('table', { name: 'Projects' });
    await table.getByRole('row').filter({ hasText: 'default' }).waitFor();

    await page.getByRole('button', { name: 'Create project' }).click();
    await dialog().getByLabel(/^Name/).fill('studio-b');
    await dialog().getByLabel('Display name').fill('Studio B');
    await dialog().getByRole('button', { name: 'Create project' }).click();
    const row = table.getByRole('row').filter({ hasText: 'studio-b' });
    await row.getByText('Studio B', { exact: true }).waitFor();
    assert.deepEqual(bodyOf('PUT', '/api/v1/projects/studio-b'), { displayName: 'Studio B', locationName: 'local' });
    await shot(page, '01-projects');

    // Switch: the project's pages open, and the header's project picker (from /api/v1/user/organizations) shows it.
    await row.getByRole('button', { name: 'Open project studio-b' }).click();
    await page.waitForFunction(() => location.hash === '#/projects/studio-b/assets');
    await page.getByRole('heading', { name: 'No assets yet' }).waitFor();
    await until('the project picker to show studio-b', async () => (await page.getByRole('textbox', { name: 'Project' }).first().inputValue()) === 'studio-b');

    await nav(page, 'Projects').click();
    await row.getByText('Current').waitFor();
    await row.getByRole('button', { name: 'Edit project studio-b' }).click();
    await dialog().getByLabel('Display name').fill('Studio B (archive)');
    await dialog().getByLabel('Active', { exact: true }).uncheck({ force: true });
    await dialog().getByRole('button', { name: 'Save' }).click();
    await row.getByText('Studio B (archive)').waitFor();
    await row.getByText('Inactive', { exact: true }).waitFor();
    assert.deepEqual(bodyOf('PATCH', '/api/v1/projects/studio-b'), { metadata: { displayName: 'Studio B (archive)' }, spec: { isActive: false } });
    // Active again, so the rest of the flow works in it whatever an inactive project allows.
    await row.getByRole('button', { name: 'Edit project studio-b' }).click();
    await dialog().getByLabel('Active', { exact: true }).check({ force: true });
    await dialog().getByRole('button', { name: 'Save' }).click();
    await row.getByText('Active', { exact: true }).waitFor();
    assert.deepEqual(bodyOf('PATCH', '/api/v1/projects/studio-b', 1), { metadata: { displayName: 'Studio B (archive)' }, spec: { isActive: true } });
  });

  it('creates a webhook rule, shows its generated secret once, lists its deliveries, edits and deletes it', async () => {
    const W = '/api/v1/projects/studio-b/webhook/rules';
    await page.goto(`${server.url}/#/projects/studio-b/assets`);
    await nav(page, 'Webhooks').click();
    await page.getByRole('heading', { name: 'No webhook rules' }).waitFor();
    await page.getByRole('button', { name: 'Create rule' }).first().click();
    await dialog().getByLabel(/^Name/).fill('asset-hook');
    await dialog().getByLabel('URL').fill(`${hook.url}/reel`);
    await dialog().getByLabel('Reel.AssetCreated', { exact: true }).check({ force: true });
    await dialog().getByLabel('Headers', { exact: true }).fill('X-Team: media');
    const created = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`${W}/asset-hook`));
    await dialog().getByRole('button', { name: 'Create rule' }).click();
    const answer = (await (await created).json()) as { spec: { signingSecret?: string } };
    assert.deepEqual(bodyOf('PUT', `${W}/asset-hook`), {
      spec: { url: `${hook.url}/reel`, enabled: true, events: ['MediaKind.JobFinished', 'Reel.AssetCreated'], headers: { 'X-Team': 'media' }, queryParams: {} },
    });

    // The secret Reel generated, shown once with a copy button.
    const secretDialog = dialog('Rule asset-hook created');
    await secretDialog.getByText('Copy the signing secret now').waitFor();
    const secret = await secretDialog.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    assert.ok(secret.length >= 16);
    assert.equal(secret, answer.spec.signingSecret);
    await shot(page, '02-webhook-secret');
    await secretDialog.getByRole('button', { name: 'Done' }).click();
    const rules = page.getByRole('table', { name: 'Webhook rules' });
    const row = rules.getByRole('row').filter({ hasText: 'asset-hook' });
    await row.getByText('Enabled', { exact: true }).waitFor();
    await secretDialog.waitFor({ state: 'hidden' });
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is not shown again');
    assert.ok(!(await (await api('GET', W)).text()).includes(secret));

    // A real event: an asset created in the project reaches the receiver, signed with the secret the page showed.
    assert.equal((await api('PUT', '/api/v1/projects/studio-b/media/assets/clip1', { properties: { storageAccountName: 'local' } })).status, 201);
    const delivery = await until('the delivery', () => hook.got[0]);
    assert.equal(delivery.headers[signatureHeader], signBody(secret, delivery.raw));
    assert.equal(delivery.headers['x-team'], 'media');
    await until('the event to be settled', async () => {
      const events = (await (await api('GET', `${W}/asset-hook/events`)).json()) as { value: Array<{ status: string }> };
      return events.value[0]?.status === 'Sent';
    });
    await row.getByRole('button', { name: 'Events of rule asset-hook' }).click();
    const events = dialog('Events of rule asset-hook').getByRole('table', { name: 'Webhook events' });
    const eventRow = events.getByRole('row').filter({ hasText: 'Reel.AssetCreated' });
    await eventRow.getByText('Sent', { exact: true }).waitFor();
    await eventRow.getByText(/HTTP 200/).waitFor();
    await shot(page, '03-webhook-events');
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });

    // Edit: the secret and authentication are left out, so the rule keeps them; no secret is shown.
    await row.getByRole('button', { name: 'Edit rule asset-hook' }).click();
    assert.equal(await dialog().getByLabel('Headers', { exact: true }).inputValue(), 'X-Team: media');
    await dialog().getByLabel('URL').fill(`${hook.url}/reel-2`);
    await dialog().getByLabel('Enabled', { exact: true }).uncheck({ force: true });
    await dialog().getByRole('button', { name: 'Save rule' }).click();
    await row.getByText('Disabled', { exact: true }).waitFor();
    await row.getByText(`${hook.url}/reel-2`).waitFor();
    assert.deepEqual(bodyOf('PUT', `${W}/asset-hook`, 1), {
      spec: {
        url: `${hook.url}/reel-2`,
        enabled: false,
        events: ['MediaKind.JobFinished', 'Reel.AssetCreated'],
        headers: { 'X-Team': 'media' },
        queryParams: {},
      },
    });
    assert.equal(await dialog('Rule asset-hook created').count(), 0);

    await row.getByRole('button', { name: 'Delete rule asset-hook' }).click();
    await dialog().getByRole('button', { name: 'Delete rule' }).click();
    await page.getByRole('heading', { name: 'No webhook rules' }).waitFor();
    assert.equal(sent('DELETE', `${W}/asset-hook`).length, 1);
  });

  it("deletes a project, showing the API's refusal while it holds assets", async () => {
    await nav(page, 'Projects').click();
    const row = page.getByRole('table', { name: 'Projects' }).getByRole('row').filter({ hasText: 'studio-b' });
    await row.getByRole('button', { name: 'Delete project studio-b' }).click();
    await dialog().getByRole('button', { name: 'Delete project' }).click();
    await dialog()
      .getByRole('alert')
      .getByText(/still holds assets/)
      .waitFor();
    await shot(page, '04-project-in-use');
    assert.equal(await row.count(), 1);

    assert.ok((await api('DELETE', '/api/v1/projects/studio-b/media/assets/clip1')).ok);
    await dialog().getByRole('button', { name: 'Delete project' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal(sent('DELETE', '/api/v1/projects/studio-b').length, 2);
    assert.equal((await api('GET', '/api/v1/projects/studio-b')).status, 404);
  });

  it('administers members: an invite with a role, an account made with its code, removal, and a token revoked', async () => {
    await nav(page, 'Members and roles').click();
    await page.getByRole('heading', { name: 'Members and roles' }).waitFor();
    const members = page.getByRole('region', { name: 'Members', exact: true });
    const tokens = page.getByRole('region', { name: 'Organization API tokens' });
    // A server without the organization routes: each section says so, and nothing else fails.
    if ((await api('GET', '/api/v1/organization/users')).status === 404) {
      await members.getByText('Not available').waitFor();
      await tokens.getByText('Not available').waitFor();
      assert.ok(await page.getByRole('button', { name: 'Invite member' }).isDisabled());
      await shot(page, '05-members-not-available');
      return;
    }
    const table = members.getByRole('table', { name: 'Members' });
    await table.getByRole('row').filter({ hasText: server.adminEmail }).getByLabel('Organization role: Admin').waitFor();

    // Invite with a role: MK.IO's body plus Reel's role; an e-mail without an account gets a set-up code, shown once.
    await page.getByRole('button', { name: 'Invite member' }).click();
    await dialog().getByLabel('E-mail').fill('newcomer@example.com');
    await dialog().getByRole('textbox', { name: 'Role' }).click();
    await page.getByRole('option', { name: 'Contributor' }).click();
    await dialog().getByLabel('Comment').fill('Editor for the spring catalogue');
    await dialog().getByRole('button', { name: 'Send invite' }).click();
    const done = dialog('newcomer@example.com invited');
    const code = await done.getByRole('textbox', { name: 'Set-up code' }).inputValue();
    assert.ok(code.length > 10);
    const invite = bodyOf('POST', '/api/v1/organization/invites') as { spec: Record<string, unknown> };
    assert.deepEqual(Object.keys(invite.spec).sort(), ['comment', 'email', 'invitedByEmail', 'invitedByName', 'organizationName', 'role', 'teams']);
    assert.deepEqual(
      { email: invite.spec.email, role: invite.spec.role, teams: invite.spec.teams, comment: invite.spec.comment, by: invite.spec.invitedByEmail },
      { email: 'newcomer@example.com', role: 'Contributor', teams: [], comment: 'Editor for the spring catalogue', by: server.adminEmail },
    );
    await shot(page, '05-invite-code');
    await done.getByRole('button', { name: 'Done' }).click();
    const pending = page.getByRole('table', { name: 'Pending invites' }).getByRole('row').filter({ hasText: 'newcomer@example.com' });
    await pending.getByText('Contributor', { exact: true }).waitFor();
    assert.equal(await page.getByText(code).count(), 0, 'the code is not shown again');

    // The invitee makes their account with the code on the sign-in page, and is in.
    const invitee = await browser.newContext({ viewport: { width: 1280, height: 860 }, serviceWorkers: 'block' });
    try {
      const p = await invitee.newPage();
      p.setDefaultTimeout(20_000);
      await p.goto(`${server.url}/#/sign-in`);
      await p.getByRole('button', { name: 'I have an invitation code' }).click();
      await p.getByLabel('Email').fill('newcomer@example.com');
      await p.getByLabel('Set-up code').fill(code);
      await p.getByLabel('Choose a password').fill('newcomer password 1');
      await p.getByRole('button', { name: 'Create account and sign in' }).click();
      await p.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
    } finally {
      await invitee.close();
    }

    await page.reload();
    const newcomer = table.getByRole('row').filter({ hasText: 'newcomer@example.com' });
    await newcomer.getByLabel('Organization role: Contributor').waitFor();
    await page.getByRole('region', { name: 'Pending invites' }).getByText('No pending invite.').waitFor();

    // Every member's tokens: the admin revokes one of the newcomer's... here, one of their own made for a script.
    const profile = (await (await api('GET', '/api/v1/user/profile')).json()) as { spec: { activeOrganizationId: string } };
    const made = await api('POST', '/api/v1/user/tokens', {
      type: 'full-access',
      organizationId: profile.spec.activeOrganizationId,
      description: 'nightly deploy',
      expireDate: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    });
    assert.equal(made.status, 201);
    const { metadata } = (await made.json()) as { metadata: { id: string; JWT: string } };
    await page.reload();
    const tokenRow = tokens.getByRole('row').filter({ hasText: 'nightly deploy' });
    await tokenRow.getByRole('button', { name: `Revoke token nightly deploy of ${server.adminEmail}` }).click();
    await dialog().getByRole('button', { name: 'Revoke token' }).click();
    await until('the token row to show it revoked or go', async () => (await tokenRow.count()) === 0 || (await tokenRow.getByText('Revoked').count()) > 0);
    assert.equal(sent('DELETE', `/api/v1/organization/tokens/${metadata.id}`).length, 1);
    assert.equal((await fetch(`${server.url}/api/v1/user/profile`, { headers: { authorization: `Bearer ${metadata.JWT}` } })).status, 401);

    await newcomer.getByRole('button', { name: 'Remove member newcomer@example.com' }).click();
    await dialog().getByRole('button', { name: 'Remove member' }).click();
    await newcomer.waitFor({ state: 'detached' });
    assert.equal(requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/api/v1/organization/users/')).length, 1);
    await shot(page, '06-members');

    // Someone with an account elsewhere sees the invitation on their next sign-in and accepts it.
    const accounts = new AccountService(server.reel.db);
    const elsewhere = await accounts.createOrganization('guest-studio');
    await accounts.createProject(elsewhere.id, 'guest-vod');
    const guest = await accounts.createUser('guest@example.com', 'guest password 1');
    await accounts.addMember(guest.id, elsewhere.id, 'Admin');
    await page.getByRole('button', { name: 'Invite member' }).click();
    await dialog().getByLabel('E-mail').fill('guest@example.com');
    await dialog().getByRole('button', { name: 'Send invite' }).click();
    await dialog('guest@example.com invited').getByText('They see the invitation when they next sign in').waitFor();
    assert.equal((bodyOf('POST', '/api/v1/organization/invites', 1) as { spec: { role: string } }).spec.role, 'Reader');
    await dialog('guest@example.com invited').getByRole('button', { name: 'Done' }).click();
    const guestContext = await browser.newContext({ viewport: { width: 1280, height: 860 }, serviceWorkers: 'block' });
    try {
      const p = await guestContext.newPage();
      p.setDefaultTimeout(20_000);
      const patches: Array<string | null> = [];
      p.on('request', (r) => {
        if (r.method() === 'PATCH' && new URL(r.url()).pathname.startsWith('/api/v1/user/organizations/')) patches.push(r.postData());
      });
      await signIn(p, 'guest@example.com', 'guest password 1');
      const banner = p.getByRole('region', { name: 'Invitation to default' });
      await banner.getByText(`${server.adminEmail} invited you as Reader`).waitFor();
      // Not an organization to switch to until accepted.
      await p.getByRole('textbox', { name: 'Organization' }).first().click();
      assert.equal(await p.getByRole('option', { name: 'default' }).count(), 0);
      await p.keyboard.press('Escape');
      await shot(p, '06b-invitation');
      await banner.getByRole('button', { name: 'Accept' }).click();
      await banner.waitFor({ state: 'detached' });
      assert.deepEqual(
        patches.map((b) => JSON.parse(b ?? 'null') as unknown),
        [{ spec: { invite: { state: 'accepted' } } }],
      );
      await p.getByRole('textbox', { name: 'Organization' }).first().click();
      await p.getByRole('option', { name: 'default' }).waitFor();
    } finally {
      await guestContext.close();
    }
    await page.reload();
    await table.getByRole('row').filter({ hasText: 'guest@example.com' }).getByLabel('Organization role: Reader').waitFor();
    assert.deepEqual(pageErrors, []);
  });

  it("shows the project's usage, or says the server does not report it", async () => {
    await page.goto(`${server.url}/#/projects/default/usage`);
    await page.getByRole('heading', { name: 'Usage', exact: true }).waitFor();
    if ((await api('GET', '/api/v1/projects/default/usage')).status === 404) await page.getByText('Not available').waitFor();
    else {
      // Stored bytes are measured when the report is made: today's row always has them.
      const headline = page.getByRole('region', { name: 'Usage this period' });
      for (const label of ['Encoding', 'Stored', 'Streamed']) await headline.getByLabel(new RegExp(`^${label}: `)).waitFor();
      await page.getByRole('region', { name: 'Usage totals' }).getByText('Stored').waitFor();
      await page.getByRole('table', { name: 'Usage by day' }).getByText('Stored').waitFor();
    }
    await shot(page, '07-usage');
    assert.deepEqual(pageErrors, []);
  });

  it("shows a Reader the Admin's and Contributor's actions disabled", async () => {
    const accounts = new AccountService(server.reel.db);
    const adminId = (await server.reel.db.selectFrom('users').select('id').where('email', '=', server.adminEmail).executeTakeFirstOrThrow()).id;
    const [org] = await accounts.organizationsOf(adminId);
    const reader = await accounts.createUser('reader-console@example.com', 'reader console password');
    await accounts.addMember(reader.id, org.id, 'Reader');

    const readerContext = await browser.newContext({ viewport: { width: 1280, height: 860 }, serviceWorkers: 'block' });
    try {
      const p = await readerContext.newPage();
      p.setDefaultTimeout(20_000);
      await signIn(p, 'reader-console@example.com', 'reader console password');
      await nav(p, 'Projects').click();
      await p.getByText('Read-only for your role').waitFor();
      await p.getByRole('table', { name: 'Projects' }).getByRole('row').filter({ hasText: 'default' }).waitFor();
      assert.ok(await p.getByRole('button', { name: 'Create project' }).isDisabled());
      assert.ok(await p.getByRole('button', { name: 'Edit project default' }).isDisabled());
      assert.ok(await p.getByRole('button', { name: 'Delete project default' }).isDisabled());
      assert.ok(await p.getByRole('button', { name: 'Open project default' }).isEnabled());
      await shot(p, '08-reader-projects');
      await p.goto(`${server.url}/#/projects/default/webhooks`);
      await p.getByRole('heading', { name: 'No webhook rules' }).waitFor();
      assert.ok(await p.getByRole('button', { name: 'Create rule' }).isDisabled());
      // Invitations and other members' tokens are the Admin's: the page does not even ask for them.
      await nav(p, 'Members and roles').click();
      await p.getByText('Only an Admin sees pending invites.').waitFor();
      assert.ok(await p.getByRole('button', { name: 'Invite member' }).isDisabled());
    } finally {
      await readerContext.close();
    }
  });
});
