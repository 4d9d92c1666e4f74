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

  const viewed = await api.GET('/api/v1/identity-clients/{id}', { params: { path: { id } } });
  check(viewed.data?.enabled === false && viewed.data.description === 'Edited by the TypeScript SDK', 'view');
}
