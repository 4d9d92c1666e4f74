// The seed, walked through in Chromium as a person does it: by role and label, in the seed's
// words. Every screen is scanned with axe-core and photographed for the README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, launchBrowser, createAdmin, root, remember, signIn as apiSignIn, createClient } from './harness.mjs';

remember('rotated-secret-value', 'conflict-secret', 'keyboard-secret', 'history-secret');

const require = createRequire(import.meta.url);
// Injected through the DevTools protocol, which the page's CSP (rightly) does not let a script tag do.
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const shots = resolve(root, 'docs/screenshots');
mkdirSync(shots, { recursive: true });

let server, browser;
before(async () => { server = await startServer({ VITESSE_BCRYPT_COST: '4' }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function newPage(width = 1440) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) page.errors.push(m.text()); });
  return page;
}

/** No serious or critical accessibility violations on the screen as it is now. */
async function axe(page, screen) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${screen}`);
}

async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

async function signIn(page, who, path = '/') {
  await page.goto(`${server.base}${path}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('the seed, step by step', async () => {
  const admin = createAdmin(server);
  const page = await newPage();
  await page.goto(`${server.base}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await axe(page, 'sign-in');
  await shot(page, 'sign-in');
  await signIn(page, admin);

  // Go to Administration > Identity Clients.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByText('Administration').waitFor();
  await nav.getByRole('link', { name: 'Identity Clients' }).click();
  await page.getByRole('heading', { name: 'Identity Clients' }).waitFor();
  await page.getByText('No identity clients yet.').waitFor();
  await axe(page, 'empty list');

  // Select New Client; a too-short client ID is refused inline.
  await page.getByRole('link', { name: 'New Client' }).click();
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  const clientId = page.getByLabel('Client ID', { exact: true });
  await clientId.fill('short');
  await clientId.blur();
  await page.getByText('Client ID must be 6–100 characters').waitFor();
  assert.equal(await clientId.getAttribute('aria-invalid'), 'true');
  await page.getByText('The client secret is stored securely and cannot be viewed after creation.').waitFor();
  await axe(page, 'new client (with an error)');

  // Configure every field; Generate a secret (the server makes it when the client is created).
  await clientId.fill('seed-walk-client');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByText('The server will generate the secret', { exact: false }).waitFor();
  await page.getByLabel('Client name').fill('Seed walk');
  await page.getByLabel('Description').fill('Walks through every step of the documentation');
  await page.getByLabel('Token duration').fill('30');
  await page.getByLabel('payments:write').check();
  await page.getByLabel('refunds:write').check();
  await shot(page, 'new-client');
  await page.getByRole('button', { name: 'Create' }).click();

  // The client is enabled immediately; its generated secret is shown this once, to be stored now.
  await page.getByRole('heading', { name: 'seed-walk-client' }).waitFor();
  await page.getByText('Client created.').waitFor();
  const secret = await page.getByLabel('Generated client secret').inputValue();
  assert.match(secret, /^vsk_[0-9A-Za-z]{49}$/);
  remember(secret);
  await axe(page, 'the generated secret, shown once');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByRole('heading', { name: 'Store the new client secret now' }).waitFor({ state: 'detached' });
  assert.ok(!(await page.content()).includes(secret), 'the secret cannot be viewed after creation');
  await page.reload();
  await page.getByRole('heading', { name: 'seed-walk-client' }).waitFor();
  assert.ok(!(await page.content()).includes(secret), 'nor after a reload');

  // It works at once.
  const token = await fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'seed-walk-client', client_secret: secret }),
  });
  assert.equal(token.status, 200);

  // Listed as enabled.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identity Clients' }).click();
  const row = page.getByRole('row', { name: /seed-walk-client/ });
  await row.getByText('Enabled').waitFor();
  await axe(page, 'list');
  await shot(page, 'clients-list');

  // Open the action menu for the client, select Edit, make changes, Save.
  await page.getByRole('button', { name: 'Actions for seed-walk-client' }).click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: 'Edit client' }).waitFor();
  assert.equal(await page.getByLabel('Client ID', { exact: true }).inputValue(), 'seed-walk-client');
  assert.equal(await page.getByLabel('Client secret', { exact: true }).inputValue(), '', 'empty secret = unchanged');
  await page.getByLabel('Token duration').fill('45');
  await page.getByLabel('payments:read').check();
  await axe(page, 'edit');
  await shot(page, 'edit-client');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Changes saved.').waitFor();
  await page.getByText('45 minutes').waitFor();

  // The old secret still works (empty = unchanged).
  const again = await fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'seed-walk-client', client_secret: secret }),
  });
  assert.equal((await again.json()).expires_in, 45 * 60);

  // Disable from the list's action menu.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identity Clients' }).click();
  await page.getByRole('button', { name: 'Actions for seed-walk-client' }).click();
  await page.getByRole('menuitem', { name: 'Disable' }).click();
  await page.getByText('seed-walk-client is disabled.').waitFor();
  await page.getByRole('row', { name: /seed-walk-client/ }).getByText('Disabled').waitFor();

  // View from the action menu: status and timestamps.
  await page.getByRole('button', { name: 'Actions for seed-walk-client' }).click();
  await page.getByRole('menuitem', { name: 'View' }).click();
  await page.getByRole('heading', { name: 'Client configuration' }).waitFor();
  const details = page.locator('dl.details');
  await details.getByText('Disabled').waitFor();
  for (const label of ['Status', 'Created', 'Updated', 'Last used']) await details.getByText(label, { exact: true }).waitFor();
  assert.match(await details.locator('time').first().getAttribute('title'), /\(UTC\)$/);
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  await page.getByRole('cell', { name: 'Disabled' }).waitFor();
  await axe(page, 'details');
  await shot(page, 'client-details');

  // Enable again from the details page; rotate the secret with a grace period.
  await page.getByRole('button', { name: 'Enable' }).click();
  await page.getByText('seed-walk-client is enabled.').waitFor();
  await page.getByLabel('New client secret').fill('rotated-secret-value');
  await page.getByLabel('Previous secret keeps working for').selectOption('60');
  await page.getByRole('button', { name: 'Change secret' }).click();
  await page.getByText('Previous secret works until').waitFor();
  for (const s of [secret, 'rotated-secret-value']) {
    const r = await fetch(`${server.base}/oauth2/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'seed-walk-client', client_secret: s }),
    });
    assert.equal(r.status, 200);
  }

  // Sign out: back to sign-in, and the session is gone.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const res = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(res, 401);
  assert.deepEqual(page.errors, [], 'no uncaught error in the page console');
  await page.close();
});

test('a conflicting edit is explained, with a way to reload', async () => {
  const admin = createAdmin(server);
  const page = await newPage();
  await signIn(page, admin, '/administration/identity-clients/new');
  await page.getByLabel('Client ID', { exact: true }).fill('conflict-client');
  await page.getByLabel('Client secret', { exact: true }).fill('conflict-secret');
  await page.getByLabel('payments:read').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'conflict-client' }).waitFor();
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: 'Edit client' }).waitFor();

  // Someone else edits it meanwhile.
  const other = await browser.newPage();
  await signIn(other, admin, '/administration/identity-clients');
  await other.getByRole('button', { name: 'Actions for conflict-client' }).click();
  await other.getByRole('menuitem', { name: 'Disable' }).click();
  await other.getByText('conflict-client is disabled.').waitFor();
  await other.close();

  await page.getByLabel('Client name').fill('My late change');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('This client was changed by someone else since you opened it.').waitFor();
  await shot(page, 'edit-conflict');
  await page.getByRole('button', { name: 'Reload' }).click();
  await page.getByText('This client was changed by someone else since you opened it.').waitFor({ state: 'detached' });
  await page.getByLabel('Client name').fill('My change, again');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Changes saved.').waitFor();
  await page.locator('dl.details').getByText('Disabled').waitFor();
  await page.close();
});

test('feature disabled and no permission are explained', async () => {
  const disabled = createAdmin(server, { enabled: false });
  let page = await newPage();
  await signIn(page, disabled);
  await page.getByText('contact your Vitesse relationship manager', { exact: false }).waitFor();
  await axe(page, 'feature disabled');
  await shot(page, 'feature-disabled');
  await page.close();

  const viewer = createAdmin(server, { role: 'viewer' });
  page = await newPage();
  await signIn(page, viewer);
  await page.getByText('You do not have permission to manage identity clients.').waitFor();
  await page.getByText('You must have the Merchant Admin role or Manage Identity Clients role.').waitFor();
  await page.close();
});

test('an ended session goes to sign-in and then back to where the person was', async () => {
  const admin = createAdmin(server);
  const page = await newPage();
  await signIn(page, admin, '/administration/identity-clients/new');
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  await page.context().clearCookies();
  await page.goto(`${server.base}/administration/identity-clients/new`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(page.url(), /next=%2Fadministration%2Fidentity-clients%2Fnew/);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  await page.close();
});

test('keyboard only: the action menu opens, moves, closes on Escape and returns focus', async () => {
  const admin = createAdmin(server);
  const page = await newPage();
  await signIn(page, admin, '/administration/identity-clients/new');
  await page.getByLabel('Client ID', { exact: true }).fill('keyboard-client');
  await page.getByLabel('Client secret', { exact: true }).fill('keyboard-secret');
  await page.getByLabel('payments:read').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name: 'keyboard-client' }).waitFor();
  await page.goto(`${server.base}/administration/identity-clients?x=1`);
  const button = page.getByRole('button', { name: 'Actions for keyboard-client' });
  await button.focus();
  await page.keyboard.press('Enter');
  await page.getByRole('menu').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'View');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Edit');
  await page.keyboard.press('Escape');
  await page.getByRole('menu').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Actions for keyboard-client');
  await page.close();
});

test('the list keeps its status filter, search and page in the address: Back and reload show the same view', async () => {
  const admin = createAdmin(server);
  const headers = await apiSignIn(server, admin);
  const make = (client_id) => createClient(server, headers, {
    client_id, client_secret: 'history-secret', token_duration_minutes: 30, roles: ['payments:read'],
  });
  // Sorted by client ID: two clients the filter hides come first, then 27 it shows (25 a page).
  await make('hist-0-other');
  const off = await make('hist-alpha-00-off');
  const disabled = await fetch(`${server.base}/api/v1/identity-clients/${off.id}`, {
    method: 'PATCH', headers, body: JSON.stringify({ enabled: false }),
  });
  assert.equal(disabled.status, 200);
  for (let i = 1; i <= 27; i++) await make(`hist-alpha-${String(i).padStart(2, '0')}`);

  const page = await newPage();
  await signIn(page, admin, '/administration/identity-clients');
  const row = (clientId) => page.getByRole('row', { name: new RegExp(`^${clientId}\\b`) });
  const rows = page.locator('table.clients tbody tr');
  const search = page.getByLabel('Search', { exact: true });
  const status = page.getByLabel('Status', { exact: true });
  await row('hist-0-other').waitFor();

  await status.selectOption('enabled');
  await search.pressSequentially('alpha');
  await row('hist-0-other').waitFor({ state: 'detached' });
  await row('hist-alpha-25').waitFor();
  assert.match(page.url(), /\/administration\/identity-clients\?search=alpha&status=enabled$/);

  /** The first page of enabled clients matching "alpha". */
  async function firstFilteredPage(when) {
    await row('hist-alpha-01').waitFor();
    assert.equal(await search.inputValue(), 'alpha', `search ${when}`);
    assert.equal(await status.inputValue(), 'enabled', `status ${when}`);
    assert.equal(await rows.count(), 25, `rows ${when}`);
    for (const hidden of ['hist-0-other', 'hist-alpha-00-off', 'hist-alpha-26']) {
      assert.equal(await row(hidden).count(), 0, `${hidden} hidden ${when}`);
    }
  }
  /** The second (last) page of the same. */
  async function secondFilteredPage(when) {
    await row('hist-alpha-27').waitFor();
    assert.equal(await search.inputValue(), 'alpha', `search ${when}`);
    assert.equal(await status.inputValue(), 'enabled', `status ${when}`);
    assert.equal(await rows.count(), 2, `rows ${when}`);
    assert.equal(await row('hist-alpha-26').count(), 1, `hist-alpha-26 ${when}`);
  }
  await firstFilteredPage('after filtering');

  // To a client's details and Back: the same filter, search and results.
  await page.getByRole('link', { name: 'hist-alpha-02', exact: true }).click();
  await page.getByRole('heading', { name: 'hist-alpha-02' }).waitFor();
  await page.goBack();
  await firstFilteredPage('after Back');
  await page.reload();
  await firstFilteredPage('after reload');

  // The page is in the address too, and Previous page still works after a reload.
  await page.getByRole('button', { name: 'Next page' }).click();
  await secondFilteredPage('on the next page');
  await page.getByRole('link', { name: 'hist-alpha-27', exact: true }).click();
  await page.getByRole('heading', { name: 'hist-alpha-27' }).waitFor();
  await page.goBack();
  await secondFilteredPage('after Back to the second page');
  await page.reload();
  await secondFilteredPage('after reloading the second page');
  await page.getByRole('button', { name: 'Previous page' }).click();
  await firstFilteredPage('after Previous page');
  assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
  await page.goBack();
  await secondFilteredPage('after Back from Previous page');
  assert.deepEqual(page.errors, [], 'no uncaught error in the page console');
  await page.close();
});

test('readable at 360 px', async () => {
  const admin = createAdmin(server);
  const page = await newPage(360);
  await signIn(page, admin);
  await page.getByRole('heading', { name: 'Identity Clients' }).waitFor();
  await page.getByRole('link', { name: 'New Client' }).click();
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, 'no horizontal scrolling at 360 px');
  await shot(page, 'new-client-360');
  await page.close();
});

test('after sign-in the page goes only to the app\'s own pages, never to another site', async () => {
  const admin = createAdmin(server);
  for (const next of ['/\\evil.example/', '//evil.example/', 'https://evil.example/', '/administration/../api/v1/session']) {
    const page = await newPage();
    await page.goto(`${server.base}/sign-in?next=${encodeURIComponent(next)}`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Identity Clients' }).waitFor();
    assert.equal(new URL(page.url()).origin, server.base, `next=${next}`);
    assert.equal(new URL(page.url()).pathname, '/administration/identity-clients', `next=${next}`);
    await page.close();
  }
});

test('secrets are generated by the server, never by the browser: broken browser crypto changes nothing', async () => {
  const admin = createAdmin(server);
  const page = await newPage();
  // A browser whose CSPRNG fails: the browser must not be where secrets come from.
  await page.addInitScript(() => {
    Crypto.prototype.getRandomValues = () => { throw new Error('no entropy here'); };
  });
  await signIn(page, admin, '/administration/identity-clients/new');
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  await page.getByLabel('Client ID').fill('no-browser-entropy');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByLabel('Token duration').fill('15');
  await page.getByLabel('payments:read').check();
  await page.getByRole('button', { name: 'Create' }).click();
  const secret = await page.getByLabel('Generated client secret').inputValue();
  assert.match(secret, /^vsk_/);
  remember(secret);
  // Changing the secret can generate too; the new one is shown once, the old one stops.
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('button', { name: 'Change secret' }).click();
  await page.getByText('Secret changed.', { exact: false }).waitFor();
  const rotated = await page.getByLabel('Generated client secret').inputValue();
  remember(rotated);
  assert.notEqual(rotated, secret);
  const token = (s) => fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'no-browser-entropy', client_secret: s }),
  });
  assert.equal((await token(rotated)).status, 200);
  assert.equal((await token(secret)).status, 401);
  await page.close();
});

test('"Revoke all tokens" ends the client\'s tokens at once, and says so', async () => {
  const admin = createAdmin(server);
  const headers = await apiSignIn(server, admin);
  const secret = 'revoke-ui-secret';
  remember(secret);
  const made = await createClient(server, headers, {
    client_id: 'revoke-ui-client', client_secret: secret, token_duration_minutes: 15, roles: ['payments:read'],
  });
  const token = async () => {
    const res = await fetch(`${server.base}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`revoke-ui-client:${secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    assert.equal(res.status, 200);
    return (await res.json()).access_token;
  };
  const active = async (t) => {
    const res = await fetch(`${server.base}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`revoke-ui-client:${secret}`).toString('base64')}` },
      body: `token=${encodeURIComponent(t)}`,
    });
    return (await res.json()).active;
  };
  const before = await token();
  assert.equal(await active(before), true);
  const page = await newPage();
  await signIn(page, admin, `/administration/identity-clients/${made.id}`);
  await page.getByRole('button', { name: 'Revoke all tokens' }).click();
  await page.getByText('Every token issued to revoke-ui-client so far no longer works.', { exact: false }).waitFor();
  await page.getByText('All tokens revoked').first().waitFor();
  await axe(page, 'client details after revoking tokens');
  assert.equal(await active(before), false, 'the earlier token is dead');
  assert.equal(await active(await token()), true, 'a new one works');
  await page.close();
});

test('each secret shows how it was made, its dates and last use; the previous one can be ended now; the list finds clients that need attention', async () => {
  const admin = createAdmin(server);
  const headers = await apiSignIn(server, admin);
  const typed = 'lifecycle-typed-secret';
  remember(typed);
  const inDays = (n) => new Date(Date.now() + n * 86400000).toISOString();
  const made = await createClient(server, headers, {
    client_id: 'lifecycle-client', client_secret: typed, secret_expires_at: inDays(90),
    token_duration_minutes: 15, roles: ['payments:read'],
  });
  await createClient(server, headers, {
    client_id: 'lifecycle-unused', client_secret: typed, token_duration_minutes: 15, roles: ['payments:read'],
  });
  const token = (s) => fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'lifecycle-client', client_secret: s }),
  });
  assert.equal((await token(typed)).status, 200);
  // Last uses are written a second at a time, off the token's path: wait for this one.
  for (let i = 0; i < 50; i++) {
    const now = await (await fetch(`${server.base}/api/v1/identity-clients/${made.id}`, { headers })).json();
    if (now.secrets[0].last_used_at) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const page = await newPage();
  await signIn(page, admin, `/administration/identity-clients/${made.id}`);
  const secrets = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Made' }) });
  await secrets.getByRole('row', { name: /Current/ }).getByText('Typed').waitFor();
  assert.match(await secrets.getByRole('row', { name: /Current/ }).innerText(), /in (89|90) days/);

  // A generated secret that expires within 30 days; the typed one keeps working for a day.
  await page.getByRole('button', { name: 'Generate' }).click();
  const expiry = new Date(Date.now() + 29 * 86400000).toISOString().slice(0, 10);
  await page.getByLabel('Secret expires').fill(expiry);
  await page.getByLabel('Previous secret keeps working for').selectOption('1440');
  await page.getByRole('button', { name: 'Change secret' }).click();
  await page.getByText('Secret changed.', { exact: false }).waitFor();
  const generated = await page.getByLabel('Generated client secret').inputValue();
  remember(generated);
  await page.getByRole('button', { name: 'I have stored it' }).click();
  const current = secrets.getByRole('row', { name: /Current/ });
  const previous = secrets.getByRole('row', { name: /Previous/ });
  await current.getByText('Generated').waitFor();
  assert.match(await current.innerText(), /in (28|29) days/);
  assert.match(await previous.innerText(), /Typed/);
  assert.doesNotMatch(await previous.innerText(), /Never\s*$/, 'the typed secret was used before the change');
  assert.match(await current.innerText(), /Never\s*$/, 'the generated one not yet');
  await axe(page, 'client details with two secrets');
  await shot(page, 'client-secrets');

  // Nothing uses the previous secret any more: end it now.
  assert.equal((await token(generated)).status, 200);
  await page.getByRole('button', { name: 'End previous secret now' }).click();
  await page.getByText('The previous secret no longer works.', { exact: false }).waitFor();
  await previous.waitFor({ state: 'detached' });
  await page.getByText('Previous secret ended').first().waitFor();
  assert.equal((await token(typed)).status, 401);
  assert.equal((await token(generated)).status, 200);

  // The list: "Never used" shows the client nobody has used, not this one.
  await page.goto(`${server.base}/administration/identity-clients`);
  await page.getByLabel('Show').selectOption('never_used');
  const listed = page.getByRole('table', { name: 'Identity clients' });
  await listed.getByRole('link', { name: 'lifecycle-unused' }).waitFor();
  assert.equal(await listed.getByRole('link', { name: 'lifecycle-client', exact: true }).count(), 0);
  assert.match(page.url(), /filter=never_used/);
  await page.getByLabel('Show').selectOption('secret_expires_30_days');
  await listed.getByRole('link', { name: 'lifecycle-client', exact: true }).waitFor();
  await axe(page, 'list filtered by usage');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('an address allow-list is typed one range per line, checked as typed, and holds at the token endpoint', async () => {
  const admin = createAdmin(server);
  const secret = 'pinned-ui-secret';
  remember(secret);
  const page = await newPage();
  await signIn(page, admin, '/administration/identity-clients/new');
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  await page.getByLabel('Client ID').fill('pinned-ui-client');
  await page.getByLabel('Client secret', { exact: true }).fill(secret);
  await page.getByLabel('Token duration').fill('15');
  await page.getByLabel('payments:read').check();
  await page.getByLabel('Allowed addresses').fill('10.0.0.1/24');
  await page.getByLabel('Allowed addresses').blur();
  await page.getByText('bits are set below the /24 prefix', { exact: false }).waitFor();
  await page.getByLabel('Allowed addresses').fill('127.0.0.1\n\n::1');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText('127.0.0.1/32, ::1/128').waitFor();
  const token = () => fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'pinned-ui-client', client_secret: secret }),
  });
  assert.equal((await token()).status, 200, 'this test runs on 127.0.0.1');

  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Allowed addresses').fill('10.0.0.0/8');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('10.0.0.0/8').first().waitFor();
  assert.equal((await token()).status, 401);
  await page.getByText('Edited: Allowed addresses').waitFor();
  await axe(page, 'client details with an allow-list');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('usage is drawn from real token requests, with the same numbers in its table; a quota set in the form holds', async () => {
  const admin = createAdmin(server);
  const headers = await apiSignIn(server, admin);
  const secret = 'usage-ui-secret';
  remember(secret);
  const made = await createClient(server, headers, {
    client_id: 'usage-ui-client', client_secret: secret, token_duration_minutes: 15, roles: ['payments:read'],
  });
  const token = (s = secret) => fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'usage-ui-client', client_secret: s }),
  });
  for (let i = 0; i < 3; i++) assert.equal((await token()).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await token('not-the-secret')).status, 401);

  const page = await newPage();
  await signIn(page, admin, `/administration/identity-clients/${made.id}`);
  await page.getByText('3 issued, 2 refused', { exact: true }).waitFor();
  const bars = await page.locator('svg.usage-chart g.bucket').evaluateAll((gs) =>
    gs.map((g) => [g.dataset.start, Number(g.dataset.issued), Number(g.dataset.refused)]));
  assert.equal(bars.length, 25, 'an hour each, the last 24 hours and this one');
  assert.deepEqual(bars.at(-1).slice(1), [3, 2]);
  assert.deepEqual(bars.slice(0, -1).map((b) => b[1] + b[2]), new Array(24).fill(0));
  // The table alternative: the same buckets, the same numbers, and why requests were refused.
  await page.getByText('Show the numbers as a table').click();
  const table = page.getByRole('table', { name: /per hour/ });
  const rows = await table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [tr.dataset.start, Number(tr.querySelector('td.issued').textContent), Number(tr.querySelector('td.refused').textContent)]));
  assert.deepEqual(rows, bars);
  await table.getByText('2 wrong secret').waitFor();
  assert.match(await page.locator('svg.usage-chart desc').textContent(), /3 tokens issued and 2 requests refused/);
  await axe(page, 'client usage');
  await shot(page, 'client-usage');
  await page.getByRole('button', { name: '7 days' }).click();
  await page.getByRole('table', { name: /per day/ }).waitFor({ state: 'attached' });
  assert.equal(await page.locator('svg.usage-chart g.bucket').count(), 8);
  await page.getByText('3 issued, 2 refused', { exact: true }).waitFor();

  // A quota, checked as it is typed, applied at the next token request.
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByLabel('Tokens per hour').fill('four');
  await page.getByLabel('Tokens per hour').blur();
  await page.getByText('Tokens per hour must be a whole number', { exact: false }).waitFor();
  await page.getByLabel('Tokens per hour').fill('4');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('4 per hour; refused past a limit').waitFor();
  assert.equal((await token()).status, 200);
  const over = await token();
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers.get('retry-after')) > 0);
  await page.getByText('Edited: Tokens per hour').waitFor();
  await page.reload();
  await page.getByText('4 issued, 3 refused', { exact: true }).waitFor();
  await page.getByText('Show the numbers as a table').click();
  await page.getByRole('table', { name: /per hour/ }).getByText('2 wrong secret, 1 over quota').waitFor();

  // The list: each client's last 24 hours, and the account's busiest clients.
  await page.goto(`${server.base}/administration/identity-clients`);
  const row = page.getByRole('row', { name: /usage-ui-client/ });
  await row.getByText('Last 24 hours: 4 tokens issued, 3 requests refused').waitFor({ state: 'attached' });
  await page.getByRole('region', { name: 'Busiest in the last 24 hours' }).getByRole('link', { name: 'usage-ui-client' }).waitFor();
  await axe(page, 'list with activity');

  // At 360 px the chart fits the screen and its table scrolls within its own box.
  const narrow = await newPage(360);
  await signIn(narrow, admin, `/administration/identity-clients/${made.id}`);
  const chart = narrow.locator('svg.usage-chart');
  await chart.waitFor();
  const box = await chart.boundingBox();
  assert.ok(box.width > 250 && box.x + box.width <= 360, `chart at 360 px: ${JSON.stringify(box)}`);
  const wide = await narrow.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > 361).map((e) => `${e.tagName}.${e.className}`).slice(0, 8));
  assert.ok(await narrow.evaluate(() => document.documentElement.scrollWidth <= 360), `the page scrolls sideways: ${wide}`);
  await axe(narrow, 'client usage at 360 px');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(narrow.errors, []);
  await page.close();
  await narrow.close();
});

test('a keyless client is made by pasting its public key; its key is listed, no secret is offered, and its assertions get tokens', async () => {
  const { generateKeyPairSync, createSign, randomUUID } = await import('node:crypto');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const admin = createAdmin(server);
  const page = await newPage();
  await signIn(page, admin, '/administration/identity-clients/new');
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  await page.getByLabel('Client ID').fill('keyless-ui-client');
  await page.getByLabel('Authentication method').selectOption('private_key_jwt');
  assert.equal(await page.getByLabel('Client secret', { exact: true }).count(), 0, 'no secret to type');
  // The private key by mistake: refused as it is typed, naming why.
  const leaked = { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'ui-key-1' }] };
  await page.getByLabel('Public keys', { exact: true }).fill(JSON.stringify(leaked));
  await page.getByLabel('Public keys', { exact: true }).blur();
  await page.getByText('has the private member "d"', { exact: false }).waitFor();
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'ui-key-1' }] };
  await page.getByLabel('Public keys', { exact: true }).fill(JSON.stringify(jwks, null, 2));
  await page.getByLabel('Token duration').fill('15');
  await page.getByLabel('payments:read').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText('Private key (private_key_jwt)').waitFor();
  const keys = page.getByRole('table', { name: 'Public keys' });
  await keys.getByRole('cell', { name: 'ui-key-1' }).waitFor();
  await keys.getByRole('cell', { name: 'EC P-256' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Change secret' }).isVisible(), false);
  await axe(page, 'keyless client details');

  // The client signs an assertion with its private key (ES256, JOSE's raw r||s signature).
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'ES256', kid: 'ui-key-1' })}.${b64({
    iss: 'keyless-ui-client', sub: 'keyless-ui-client', aud: `${server.base}/oauth2/token`,
    iat: now, exp: now + 60, jti: randomUUID(),
  })}`;
  const signature = createSign('SHA256').update(input).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  const res = await fetch(`${server.base}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: `${input}.${signature}`,
    }),
  });
  assert.equal(res.status, 200, await res.text());
  assert.deepEqual(page.errors, []);
  await page.close();
});
