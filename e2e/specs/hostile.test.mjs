// Hostile input: schemathesis generates requests from the live server's OpenAPI document (a
// bounded number per operation), signed in as an admin. No 5xx; every response conforms to the
// document (status codes, content types, headers, bodies); undeclared methods get 405.
import { test, before, after } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startServer, createAdmin, signIn } from './harness.mjs';

let server, cookie;
before(async () => {
  server = await startServer({ VITESSE_BCRYPT_COST: '4' });
  const admin = createAdmin(server);
  ({ cookie } = await signIn(server, admin));
});
after(async () => { await server?.stop(); });

test('schemathesis finds no server error and no response outside the document', async () => {
  // Asynchronous on purpose: node must keep reading the server's log pipe meanwhile.
  const run = promisify(execFile)('schemathesis', [
    'run', `${server.base}/api/openapi.json`,
    '--checks', 'not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method',
    '--max-examples', '20',
    '--seed', '20261126',
    '-H', `Cookie: ${cookie}`, '-H', `Origin: ${server.base}`,
    // Signing out would end the run's own session (sign-in is tested on its own).
    '--exclude-path', '/api/v1/session',
  ], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
  await run.catch((e) => { throw new Error(`schemathesis failed:\n${(e.stdout ?? '').slice(-6000)}`); });
});
