// Drives the API through openapi-fetch typed by openapi-typescript's output for the committed
// OpenAPI document: create -> list -> edit -> disable -> view. Type-checked by tsc.
import createClient from 'openapi-fetch';
import type { paths } from '../artifacts/ts-sdk/schema.js';

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`TypeScript SDK: ${what}`);
}

export async function drive(baseUrl: string, token: string): Promise<void> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

  const created = await api.POST('/api/v1/identity-clients', {
    body: { client_id: 'ts-sdk-client', client_secret: 'ts-sdk-secret', token_duration_minutes: 15, roles: ['payments:read'] },
  });
  check(created.response.status === 201 && created.data !== undefined, 'create');
  const id = created.data.id;
  check(created.data.enabled, 'enabled at once');

  const list = await api.GET('/api/v1/identity-clients', { params: { query: { search: 'ts-sdk' } } });
  check(list.data?.items.map((c) => c.client_id).join() === 'ts-sdk-client', 'list');

  const edited = await api.PATCH('/api/v1/identity-clients/{id}', {
    params: { path: { id } },
    body: { description: 'Edited by the TypeScript SDK', roles: ['payments:read', 'refunds:write'] },
  });
  check(edited.data?.roles.length === 2, 'edit');

  const invalid = await api.PATCH('/api/v1/identity-clients/{id}', { params: { path: { id } }, body: { token_duration_minutes: 61 } });
  check(invalid.response.status === 422 && invalid.error?.errors?.[0]?.field === 'token_duration_minutes', 'invalid edit');

  const disabled = await api.PATCH('/api/v1/identity-clients/{id}', { params: { path: { id } }, body: { enabled: false } });
  check(disabled.data?.enabled === false, 'disable');

  // A keyless client (private_key_jwt), its public key registered inline (RFC 7515 A.3's).
  const keyless = await api.POST('/api/v1/identity-clients', {
    body: {
      client_id: 'ts-sdk-keyless', token_endpoint_auth_method: 'private_key_jwt', token_duration_minutes: 15,
      roles: ['payments:read'], token_quota_per_day: 5000,
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'ts-key', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] },
    },
  });
  check(keyless.response.status === 201 && keyless.data?.token_endpoint_auth_method === 'private_key_jwt', 'keyless');
  check(keyless.data.keys?.[0]?.kid === 'ts-key' && (keyless.data.secrets ?? []).length === 0, 'its key, no secret');
  const usage = await api.GET('/api/v1/identity-clients/{id}/usage', { params: { path: { id: keyless.data.id }, query: { granularity: 'day' } } });
  check(usage.data?.buckets.length === 31 && usage.data.totals.issued === 0, 'usage');

  const viewed = await api.GET('/api/v1/identity-clients/{id}', { params: { path: { id } } });
  check(viewed.data?.enabled === false && viewed.data.description === 'Edited by the TypeScript SDK', 'view');
}
