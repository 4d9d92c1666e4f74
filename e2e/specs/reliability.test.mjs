// Reliability from outside: kill -9 under a burst of writes loses nothing acknowledged and
// leaves nothing half-written; two instances on one PostgreSQL act as one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, createAdmin, signIn, remember } from './harness.mjs';

remember('crash-secret', 'first-secret', 'second-secret');

const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

async function allClients(base, headers) {
  const items = [];
  let url = `${base}/api/v1/identity-clients?limit=200`;
  for (;;) {
    const page = await (await fetch(url, { headers })).json();
    items.push(...page.items);
    if (!page.next_cursor) return items;
    url = `${base}/api/v1/identity-clients?limit=200&cursor=${encodeURIComponent(page.next_cursor)}`;
  }
}

const ORPHANS = "SELECT count(*) FROM identity_clients c WHERE NOT EXISTS (SELECT 1 FROM identity_client_roles r WHERE r.client_pk = c.id) " +
  "OR NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.client_pk = c.id AND e.action = 'created');";

const psql = (db, sql) => execFileSync('psql', ['-qtA', '-h', '127.0.0.1', '-U', 'postgres', '-c', sql, db], { encoding: 'utf8' }).trim();

for (const backend of ['sqlite', 'postgres']) {
  test(`kill -9 during a burst of creates and edits loses no acknowledged write (${backend})`, async () => {
    const dbName = `vitesse_crash_${process.pid}_${Date.now()}`;
    const env = { VITESSE_BCRYPT_COST: '4' };
    if (backend === 'postgres') {
      psql('postgres', `CREATE DATABASE ${dbName}`);
      env.DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${dbName}`;
    }
    try {
      await crashAndCheck(backend, env, dbName);
    } finally {
      if (backend === 'postgres') psql('postgres', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    }
  });
}

async function crashAndCheck(backend, env, dbName) {
  const first = await startServer(env);
  servers.push(first);
  const admin = createAdmin(first);
  const headers = await signIn(first, admin);
  const acked = new Map(); // client id -> { id, name } as last acknowledged
  let stop = false;
  const worker = async (w) => {
    for (let i = 0; !stop; i++) {
      try {
        const clientId = `crash-${w}-${i}`;
        const res = await fetch(`${first.base}/api/v1/identity-clients`, {
          method: 'POST', headers,
          body: JSON.stringify({ client_id: clientId, client_secret: 'crash-secret', token_duration_minutes: 15, roles: ['payments:read', 'refunds:write'] }),
        });
        if (res.status !== 201) continue;
        const made = await res.json();
        acked.set(clientId, { id: made.id, name: null });
        const edit = await fetch(`${first.base}/api/v1/identity-clients/${made.id}`, {
          method: 'PATCH', headers, body: JSON.stringify({ name: `edited ${i}` }),
        });
        if (edit.status === 200) acked.set(clientId, { id: made.id, name: `edited ${i}` });
      } catch { /* the server died mid-request: not acknowledged */ }
    }
  };
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, 1500));
  first.kill9();
  stop = true;
  await Promise.all(workers);
  assert.ok(acked.size > 10, `a real burst (${acked.size} acknowledged)`);

  const db = join(first.dataDir, 'vitesse.sqlite3');
  if (backend === 'sqlite') {
    assert.equal(execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok');
  }
  const second = await startServer(env, { dataDir: first.dataDir });
  servers.push(second);
  const headers2 = await signIn(second, admin);
  const stored = new Map((await allClients(second.base, headers2)).map((c) => [c.client_id, c]));
  for (const [clientId, want] of acked) {
    const got = stored.get(clientId);
    assert.ok(got, `acknowledged ${clientId} is there`);
    if (want.name) assert.equal(got.name, want.name, `acknowledged edit of ${clientId} is there`);
  }
  // Nothing half-written: every stored client has its roles and its "created" event.
  const orphans = backend === 'sqlite' ? execFileSync('sqlite3', [db, ORPHANS], { encoding: 'utf8' }).trim() : psql(dbName, ORPHANS);
  assert.equal(orphans, '0');
  await second.stop();
}

test('two instances on one PostgreSQL act as one', async () => {
  const dbName = `vitesse_e2e_${process.pid}_${Date.now()}`;
  execFileSync('psql', ['-q', '-h', '127.0.0.1', '-U', 'postgres', '-c', `CREATE DATABASE ${dbName}`, 'postgres']);
  const env = { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`, VITESSE_BCRYPT_COST: '4', VITESSE_KEY_RELOAD_SECONDS: '1' };
  const a = await startServer(env);
  const b = await startServer(env);
  servers.push(a, b);
  try {
    const admin = createAdmin(a);
    const headers = await signIn(a, admin);
    const made = await (await fetch(`${a.base}/api/v1/identity-clients`, {
      method: 'POST', headers,
      body: JSON.stringify({ client_id: 'two-instances', client_secret: 'first-secret', token_duration_minutes: 15, roles: ['payments:read'] }),
    })).json();
    const tokenAtB = (secret, scope) => fetch(`${b.base}/oauth2/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'two-instances', client_secret: secret, ...(scope ? { scope } : {}) }),
    });
    const edit = (body) => fetch(`${a.base}/api/v1/identity-clients/${made.id}`, { method: 'PATCH', headers, body: JSON.stringify(body) });

    // Warm B's remembered path with the first secret, then change it through A.
    for (let i = 0; i < 3; i++) assert.equal((await tokenAtB('first-secret')).status, 200);
    assert.equal((await edit({ client_secret: 'second-secret' })).status, 200);
    assert.equal((await tokenAtB('first-secret')).status, 401, 'a changed secret never gets through B');
    assert.equal((await tokenAtB('second-secret')).status, 200);

    assert.equal((await edit({ roles: ['refunds:write'], token_duration_minutes: 40 })).status, 200);
    const t = await (await tokenAtB('second-secret')).json();
    assert.equal(t.scope, 'refunds:write');
    assert.equal(t.expires_in, 40 * 60);

    assert.equal((await edit({ enabled: false })).status, 200);
    assert.equal((await tokenAtB('second-secret')).status, 401);
    assert.equal((await edit({ enabled: true })).status, 200);

    const jwks = async (s) => (await fetch(`${s.base}/oauth2/jwks`)).json();
    assert.deepEqual(await jwks(a), await jwks(b));

    // A key rotated through one command is published and used by both.
    const kid = execFileSync(a.bin, ['keys', 'rotate', '--activate-after-minutes', '0'], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
    await new Promise((r) => setTimeout(r, 2500));
    for (const s of [a, b]) {
      assert.ok((await jwks(s)).keys.some((k) => k.kid === kid));
      const res = await fetch(`${s.base}/oauth2/token`, {
        method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'two-instances', client_secret: 'second-secret' }),
      });
      const header = JSON.parse(Buffer.from((await res.json()).access_token.split('.')[0], 'base64url'));
      assert.equal(header.kid, kid);
    }
  } finally {
    await a.stop(); await b.stop();
    servers.length = servers.length - 2;
    execFileSync('psql', ['-q', '-h', '127.0.0.1', '-U', 'postgres', '-c', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`, 'postgres']);
  }
});

test('SIGTERM lets an in-flight request finish before the server exits', async () => {
  // bcrypt at cost 12 makes a first token request take a few hundred milliseconds.
  const server = await startServer({ VITESSE_BCRYPT_COST: '12' });
  servers.push(server);
  const admin = createAdmin(server);
  const headers = await signIn(server, admin);
  const made = await fetch(`${server.base}/api/v1/identity-clients`, {
    method: 'POST', headers,
    body: JSON.stringify({ client_id: 'graceful-client', client_secret: 'graceful-secret', token_duration_minutes: 10, roles: ['payments:read'] }),
  });
  assert.equal(made.status, 201);
  remember('graceful-secret');
  const inFlight = fetch(`${server.base}/oauth2/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'graceful-client', client_secret: 'graceful-secret' }),
  });
  await new Promise((r) => setTimeout(r, 60));
  const stopped = server.stop(); // SIGTERM
  const res = await inFlight;
  assert.equal(res.status, 200, 'the request in flight got its answer');
  assert.ok((await res.json()).access_token);
  await stopped;
  await assert.rejects(fetch(`${server.base}/healthz`), 'and then the server is gone');
});
