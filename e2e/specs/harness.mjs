// Starts the real binary on a free port with a fresh SQLite database, and Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url).pathname;
export const root = resolve(here, '../..');
export const bin = resolve(root, 'e2e', process.env.VITESSE_BIN ?? '../target/debug/vitesse-identity');
const defaultBin = bin;
export const artifacts = resolve(root, 'e2e/artifacts');
mkdirSync(artifacts, { recursive: true });

/// Every secret and password a test uses; no server log may contain any of them.
const secretsUsed = new Set();
export function remember(...secrets) { for (const s of secrets) secretsUsed.add(s); }

function assertNoSecretIn(logs) {
  for (const s of secretsUsed) {
    for (const form of [s, encodeURIComponent(s), Buffer.from(s).toString('base64')]) {
      if (logs.includes(form)) throw new Error(`a secret or password appears in the server log: ${form.slice(0, 4)}…`);
    }
  }
}

async function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

export async function startServer(extraEnv = {}, { dataDir: reuse, bin: chosen } = {}) {
  const bin = chosen || defaultBin;
  const dataDir = reuse ?? mkdtempSync(join(tmpdir(), 'vitesse-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  delete env.DATABASE_URL; // SQLite in dataDir unless the test names a database
  Object.assign(env, {
    VITESSE_DATA_DIR: dataDir,
    VITESSE_STATIC_DIR: resolve(root, 'frontend/dist'),
    RUST_LOG: 'info',
    ...extraEnv,
  });
  const cli = (args, input) =>
    execFileSync(bin, args, { env, input, encoding: 'utf8' }).trim();
  const child = spawn(bin, ['serve', '--bind', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (d) => { logs += d; });
  child.stderr.on('data', (d) => { logs += d; });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise((r) => child.once('exit', r));
  let stopped = false;
  return {
    base, cli, bin, dataDir, logs: () => logs,
    /// The hardest stop: no chance to finish anything.
    kill9() { stopped = true; child.kill('SIGKILL'); },
    async stop() {
      if (!stopped) { stopped = true; child.kill('SIGTERM'); }
      await exited;
      if (!reuse) rmSync(dataDir, { recursive: true, force: true });
      assertNoSecretIn(logs);
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// An account with identity clients enabled and a Merchant Admin in it.
export function createAdmin(server, { enabled = true, role = 'merchant-admin' } = {}) {
  const account = server.cli(['account', 'create', '--name', 'E2E Merchant', '--identity-clients', enabled ? 'enabled' : 'disabled']);
  const email = `admin-${Math.random().toString(36).slice(2)}@example.com`;
  const password = `pw-${Math.random().toString(36).slice(2)}-long-enough`;
  remember(password);
  server.cli(['user', 'create', '--account', account, '--email', email, '--role', role, '--password-stdin'], password);
  return { account, email, password };
}

/// Signs `admin` in; the headers a browser would send on later API writes (session cookie, Origin).
export async function signIn(server, admin) {
  const res = await fetch(`${server.base}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin.email, password: admin.password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status}`);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  return { 'content-type': 'application/json', cookie, origin: server.base };
}

/// Creates an identity client as the signed-in admin (`headers` from signIn); its JSON.
export async function createClient(server, headers, client) {
  const res = await fetch(`${server.base}/api/v1/identity-clients`, {
    method: 'POST', headers, body: JSON.stringify(client),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`creating ${client.client_id}: ${res.status} ${body}`);
  return JSON.parse(body);
}
