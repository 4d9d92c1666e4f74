// docs/examples run as a reader would run them: curl, Python and Node against a live server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, createAdmin, signIn, createClient, root, remember } from './harness.mjs';

// The example imports `jose`, which lives in e2e/node_modules: run a copy from inside e2e/.
const examples = resolve(root, 'docs/examples');
const copyDir = resolve(root, 'e2e/artifacts/examples');
mkdirSync(copyDir, { recursive: true });
copyFileSync(`${examples}/request_token.mjs`, `${copyDir}/request_token.mjs`);
const { requestToken, verifyToken } = await import(`${copyDir}/request_token.mjs`);

let server, env;
const ID = 'docs-example-client';
const SECRET = 'docs secret: ünïcode + % &';
remember(SECRET);

before(async () => {
  server = await startServer({ VITESSE_BCRYPT_COST: '4' });
  const admin = createAdmin(server);
  await createClient(server, await signIn(server, admin), { client_id: ID, client_secret: SECRET, token_duration_minutes: 10, roles: ['payments:read', 'refunds:write'] });
  env = { ...process.env, VITESSE_URL: server.base, CLIENT_ID: ID, CLIENT_SECRET: SECRET };
});
after(async () => { await server?.stop(); });

// Asynchronous child processes only: a blocked event loop breaks fetch's keep-alive pool.
const run = promisify(execFile);

test('the curl example', async () => {
  const out = JSON.parse((await run('sh', [`${examples}/request_token.sh`], { env })).stdout);
  assert.equal(out.scope, 'payments:read');
  assert.equal(out.expires_in, 600);
});

test('the Python example', async () => {
  const out = JSON.parse((await run('python3', [`${examples}/request_token.py`], { env })).stdout);
  assert.equal(out.token_type, 'Bearer');
  assert.equal(out.scope, 'payments:read');
});

test('the Node example, verified like a resource server', async () => {
  const token = await requestToken(server.base, ID, SECRET);
  const claims = await verifyToken(server.base, token.access_token);
  assert.equal(claims.client_id, ID);
  assert.equal(claims.scope, 'payments:read refunds:write');
  await assert.rejects(requestToken(server.base, ID, 'wrong-secret'), /invalid_client/);
});

test('the private_key_jwt example (Authlib): keygen, register the public key, get a token', async () => {
  const keyFile = resolve(copyDir, 'private-key.json');
  const example = `${examples}/private_key_jwt.py`;
  const jwks = JSON.parse((await run('python3', [example, 'keygen', keyFile])).stdout);
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].d, undefined, 'only the public key is printed');
  const admin = createAdmin(server);
  await createClient(server, await signIn(server, admin), {
    client_id: 'docs-keyless-client', token_endpoint_auth_method: 'private_key_jwt', jwks,
    token_duration_minutes: 10, roles: ['payments:read'],
  });
  const out = JSON.parse((await run('python3', [example, 'token', keyFile], { env: { ...env, CLIENT_ID: 'docs-keyless-client' } })).stdout);
  assert.equal(out.token_type, 'Bearer');
  assert.equal(out.scope, 'payments:read');
  // Twice: each run signs a new assertion (a jti is good once).
  const again = JSON.parse((await run('python3', [example, 'token', keyFile], { env: { ...env, CLIENT_ID: 'docs-keyless-client' } })).stdout);
  assert.equal(again.token_type, 'Bearer');
});
