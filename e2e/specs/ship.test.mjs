// The binary as an operator gets it: copied alone into an empty directory (no frontend/dist
// beside it), serving HTTPS with a certificate made here; sign-in and a new client through
// the UI in Chromium. The release binary when `just test` built one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { bin, launchBrowser, remember } from './harness.mjs';

// The certificate is self-signed: this process trusts it, nothing else does.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const dir = mkdtempSync(join(tmpdir(), 'vitesse-alone-'));
let child, browser;
after(async () => { await browser?.close(); child?.kill(); rmSync(dir, { recursive: true, force: true }); });

const freePort = () => new Promise((ok) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

test('the binary alone in an empty directory serves the whole UI and API over HTTPS', async () => {
  const alone = join(dir, 'vitesse-identity');
  copyFileSync(process.env.VITESSE_RELEASE_BIN || bin, alone);
  execFileSync('chmod', ['+x', alone]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=localhost', '-days', '1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const env = { PATH: process.env.PATH, HOME: dir, VITESSE_BCRYPT_COST: '4' };
  const cli = (args, input) => execFileSync(alone, args, { cwd: dir, env, input, encoding: 'utf8' }).trim();
  const account = cli(['account', 'create', '--name', 'Shipped', '--identity-clients', 'enabled']);
  const password = 'shipped-admin-password';
  remember(password);
  cli(['user', 'create', '--account', account, '--email', 'ops@shipped.example', '--role', 'merchant-admin', '--password-stdin'], password);

  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  child = spawn(alone, ['serve', '--bind', `127.0.0.1:${port}`, '--tls-cert', 'cert.pem', '--tls-key', 'key.pem'],
    { cwd: dir, env, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const meta = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
  assert.equal(meta.issuer, base, 'served over TLS, the issuer is https');

  browser = await launchBrowser();
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const first = await page.goto(`${base}/`);
  assert.equal(first.status(), 200);
  assert.match(first.headers()['strict-transport-security'] ?? '', /max-age=/, 'HSTS over https');
  await page.getByLabel('Email').fill('ops@shipped.example');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'New Client' }).click();
  await page.getByLabel('Client ID').fill('shipped-client');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByLabel('Token duration').fill('15');
  await page.getByLabel('payments:read').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText('Store the new client secret now').waitFor();
  const cookies = await context.cookies();
  assert.ok(cookies.length > 0 && cookies.every((c) => c.secure), 'session cookies are Secure');
  // The wasm came from inside the binary, compressed.
  const wasm = await fetch(`${base}/`, { headers: { 'accept-encoding': 'gzip' } })
    .then((r) => r.text()).then((html) => html.match(/[\w-]+_bg\.wasm/)[0]);
  const res = await fetch(`${base}/${wasm}`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(res.headers.get('content-type'), 'application/wasm');
  assert.match(res.headers.get('cache-control'), /immutable/);
  assert.deepEqual(errors, []);
});
