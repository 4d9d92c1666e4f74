#!/usr/bin/env sh
# Usage: VITESSE_URL=https://id.vitesse.example CLIENT_ID=... CLIENT_SECRET=... ./request_token.sh
# client_secret_post: --data-urlencode encodes any secret correctly. (curl -u "$ID:$SECRET"
# also works, as client_secret_basic, when the secret has no characters that need encoding.)
curl --fail-with-body -sS "$VITESSE_URL/oauth2/token" \
  -d grant_type=client_credentials \
  --data-urlencode "client_id=$CLIENT_ID" \
  --data-urlencode "client_secret=$CLIENT_SECRET" \
  -d scope=payments:read
