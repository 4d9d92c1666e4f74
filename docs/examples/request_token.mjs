// Request a Vitesse access token with Node's fetch (client_secret_basic), then verify it the way
// a resource server does: against the published JWKS, with the `jose` package.
import { createRemoteJWKSet, jwtVerify } from 'jose';

export async function requestToken(baseUrl, clientId, clientSecret, scope) {
  // RFC 6749 §2.3.1: form-urlencode the ID and secret before Base64.
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  const res = await fetch(`${baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${body.error}: ${body.error_description}`);
  return body;
}

export async function verifyToken(baseUrl, accessToken, audience = 'vitesse-api') {
  const jwks = createRemoteJWKSet(new URL(`${baseUrl}/oauth2/jwks`));
  const { payload } = await jwtVerify(accessToken, jwks, {
    issuer: baseUrl, audience, typ: 'at+jwt', algorithms: ['ES256', 'RS256'],
  });
  return payload; // sub, client_id, scope, account_id, exp, ...
}
