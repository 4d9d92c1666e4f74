// SPA budget: release wasm size (gzip) and first render of the list with 1,000 clients.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { startServer, launchBrowser, createAdmin, root } from './specs/harness.mjs';

const dist = resolve(root, 'frontend/dist');
const wasm = readdirSync(dist).find((f) => f.endsWith('.wasm'));
const raw = readFileSync(resolve(dist, wasm));
const gz = gzipSync(raw, { level: 9 }).length;

const server = await startServer({ VITESSE_BCRYPT_COST: '4' });
try {
  const admin = createAdmin(server);
  const signIn = await fetch(`${server.base}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin.email, password: admin.password }),
  });
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  const headers = { 'content-type': 'application/json', cookie, origin: server.base };
  for (let i = 0; i < 1000; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => fetch(`${server.base}/api/v1/identity-clients`, {
      method: 'POST', headers,
      body: JSON.stringify({ client_id: `budget-client-${String(i + j).padStart(4, '0')}`, client_secret: 'budget-secret', name: `Budget ${i + j}`, token_duration_minutes: 15, roles: ['payments:read'] }),
    })));
  }
  const browser = await launchBrowser();
  const context = await browser.newContext();
  await context.addCookies([{ name: 'vitesse_session', value: cookie.split('=')[1], url: server.base }]);
  const page = await context.newPage();
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = Date.now();
    await page.goto(`${server.base}/administration/identity-clients`);
    await page.getByRole('row', { name: /budget-client-0000/ }).waitFor();
    runs.push(Date.now() - t0);
  }
  await browser.close();
  runs.sort((a, b) => a - b);
  console.log(`SPA: wasm ${(raw.length / 1024).toFixed(0)} KB raw, ${(gz / 1024).toFixed(0)} KB gzip (budget 400 KB); ` +
    `first render of the list with 1,000 clients: median ${runs[2]} ms, worst ${runs[4]} ms of 5 (budget 1000 ms)`);
} finally {
  await server.stop();
}
