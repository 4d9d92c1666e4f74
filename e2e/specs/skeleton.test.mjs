// The walking skeleton, end to end: a person signs in and creates a client in Chromium; the
// client's software then gets tokens with both authentication methods, verified with `jose`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startServer, launchBrowser, createAdmin, artifacts, remember } from './harness.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const CLIENT_ID = 'e2e-shop-backend';
const SECRET = 'e2e secret: ünïcode & symbols+%';
remember(SECRET);

test('a person signs in and creates a client in the browser', async () => {
  const admin = createAdmin(server);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${server.base}/administration/identity-clients`);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Identity Clients' }).waitFor();
  await page.getByText('No identity clients yet.').waitFor();

  await page.getByRole('link', { name: 'New Client' }).click();
  await page.getByRole('heading', { name: 'New Client' }).waitFor();
  await page.getByText('The client secret is stored securely and cannot be viewed after creation.').waitFor();

  // Inline validation from the domain crate, as the person leaves the field.
  const clientId = page.getByLabel('Client ID', { exact: true });
  await clientId.fill('abc');
  await clientId.blur();
  await page.getByText('Client ID must be 6–100 characters').waitFor();

  await clientId.fill(CLIENT_ID);
  await page.getByLabel('Client secret', { exact: true }).fill(SECRET);
  await page.getByLabel('Client name').fill('E2E shop backend');
  await page.getByLabel('Description').fill('Created by the browser test');
  await page.getByLabel('Token duration').fill('20');
  await page.getByLabel('payments:read').check();
  await page.getByLabel('refunds:write').check();
  await page.screenshot({ path: `${artifacts}/new-client.png`, fullPage: true });
  await page.getByRole('button', { name: 'Create' }).click();

  await page.getByRole('heading', { name: CLIENT_ID }).waitFor();
  await page.locator('dl.details').getByText('Enabled').waitFor();
  assert.ok(!(await page.content()).includes(SECRET), 'the secret is not shown after creation');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identity Clients' }).click();
  const row = page.getByRole('row', { name: new RegExp(CLIENT_ID) });
  await row.waitFor();
  assert.match(await row.innerText(), /Enabled/);
  assert.match(await row.innerText(), /20 minutes/);
  await page.screenshot({ path: `${artifacts}/clients-list.png`, fullPage: true });
  assert.deepEqual(errors, [], 'no uncaught error in the page');
  await page.close();
});

const formEncode = (s) => encodeURIComponent(s).replace(/%20/g, '+');

test('the client gets tokens with both authentication methods and they verify against the JWKS', async () => {
  const jwks = createLocalJWKSet(await (await fetch(`${server.base}/oauth2/jwks`)).json());
  const basic = Buffer.from(`${formEncode(CLIENT_ID)}:${formEncode(SECRET)}`).toString('base64');
  const requests = [
    { headers: { authorization: `Basic ${basic}` }, body: new URLSearchParams({ grant_type: 'client_credentials' }) },
    { headers: {}, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: SECRET }) },
  ];
  for (const r of requests) {
    const res = await fetch(`${server.base}/oauth2/token`, { method: 'POST', headers: r.headers, body: r.body });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await res.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 20 * 60);
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
      issuer: server.base, audience: 'vitesse-api', typ: 'at+jwt', algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, CLIENT_ID);
    assert.equal(payload.client_id, CLIENT_ID);
    assert.equal(payload.exp - payload.iat, 20 * 60);
    assert.equal(payload.scope, 'payments:read refunds:write');
    assert.ok(payload.jti);
  }
  const wrong = await fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'nope-nope' }),
  });
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error, 'invalid_client');
});

test('no secret or password appears in the server log', async () => {
  assert.ok(!server.logs().includes(SECRET));
  assert.ok(!server.logs().includes(encodeURIComponent(SECRET)));
});
