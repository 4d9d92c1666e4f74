// The token service through OAuth 2.0 libraries nobody here wrote (requests-oauthlib, Authlib,
// PyJWT), every RFC 6749 §5.2 case a client can meet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { startServer, createAdmin, signIn, createClient, root, remember } from './harness.mjs';

remember('library-client-secret');

let server;
// A keyless client's key pair: the public half registered, the private half given to Authlib.
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

before(async () => {
  // The release binary when `just test` built one (operators run that), else the debug one.
  server = await startServer({ VITESSE_BCRYPT_COST: '4' }, { bin: process.env.VITESSE_RELEASE_BIN });
  const admin = createAdmin(server);
  const headers = await signIn(server, admin);
  const client = (client_id) => createClient(server, headers, { client_id, client_secret: 'library-client-secret', token_duration_minutes: 20, roles: ['payments:read', 'refunds:write'] });
  await client('library-client');
  const { id } = await client('library-disabled');
  const off = await fetch(`${server.base}/api/v1/identity-clients/${id}`, {
    method: 'PATCH', headers: { ...headers, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ enabled: false }),
  });
  assert.equal(off.status, 200, await off.text());
  await createClient(server, headers, {
    client_id: 'library-keyless', token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'library-key-1' }] },
    token_duration_minutes: 20, roles: ['payments:read'],
  });
});
after(async () => { await server?.stop(); });

test('requests-oauthlib, Authlib and PyJWT agree with the token service', async () => {
  const env = { ...process.env, KEYLESS_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }) };
  const { stdout } = await promisify(execFile)('python3', [resolve(root, 'e2e/sdk/oauth_libraries.py'), server.base], { env });
  assert.match(stdout, /^ok$/m);
});
