// The token service through OAuth 2.0 libraries nobody here wrote (requests-oauthlib, Authlib,
// PyJWT), every RFC 6749 §5.2 case a client can meet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import { startServer, createAdmin, root, remember } from './harness.mjs';

remember('library-client-secret');

let server;

before(async () => {
  server = await startServer({ VITESSE_BCRYPT_COST: '4' });
  const admin = createAdmin(server);
  const signIn = await fetch(`${server.base}/api/v1/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin.email, password: admin.password }),
  });
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  for (const [clientId, enabled] of [['library-client', true], ['library-disabled', false]]) {
    const res = await fetch(`${server.base}/api/v1/identity-clients`, {
      method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: server.base },
      body: JSON.stringify({ client_id: clientId, client_secret: 'library-client-secret', token_duration_minutes: 20, roles: ['payments:read', 'refunds:write'] }),
    });
    const body = await res.text();
    assert.equal(res.status, 201, body);
    if (!enabled) {
      const { id } = JSON.parse(body);
      const off = await fetch(`${server.base}/api/v1/identity-clients/${id}`, {
        method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json', cookie, origin: server.base },
        body: JSON.stringify({ enabled: false }),
      });
      assert.equal(off.status, 200, await off.text());
    }
  }
});
after(async () => { await server?.stop(); });

test('requests-oauthlib, Authlib and PyJWT agree with the token service', async () => {
  const { stdout } = await promisify(execFile)('python3', [resolve(root, 'e2e/sdk/oauth_libraries.py'), server.base]);
  assert.match(stdout, /^ok$/m);
});
