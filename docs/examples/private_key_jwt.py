"""private_key_jwt with Authlib: make a key pair, register its public half, then get tokens
with assertions signed by the private half. No secret is ever shared.

    python3 private_key_jwt.py keygen KEY_FILE   # writes the private key, prints the JWK Set to register
    VITESSE_URL=... CLIENT_ID=... python3 private_key_jwt.py token KEY_FILE   # prints a token response

Needs: pip install authlib==1.9.10 requests
"""
import json
import os
import sys
import time

from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey  # Authlib's own key types (it reads any other key as RSA)


def keygen(key_file: str) -> dict:
    """A new EC P-256 key: the private key (PEM) and its kid go to `key_file` (keep it
    secret), the public JWK Set is what you register as the client's `jwks`."""
    key = JsonWebKey.generate_key("EC", "P-256", is_private=True, options={"kid": f"key-{int(time.time())}"})
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"kid": key.kid, "pem": key.as_pem(is_private=True).decode()}, f)
    return {"keys": [key.as_dict(is_private=False)]}


def request_token(base_url: str, client_id: str, key_file: str, scope: str | None = None) -> dict:
    with open(key_file) as f:
        private = json.load(f)
    token_endpoint = f"{base_url}/oauth2/token"
    # Vitesse accepts assertions that expire within 5 minutes (Authlib's default is an hour),
    # and each one once: a fresh `claims` dict per request gets a fresh jti.
    auth = PrivateKeyJWT(
        token_endpoint,
        claims={"exp": int(time.time()) + 120},
        headers={"kid": private["kid"]},
        alg="ES256",
    )
    key = ECKey.import_key(private["pem"])
    session = OAuth2Session(client_id, key, token_endpoint_auth_method=auth, scope=scope)
    session.register_client_auth_method(auth)
    return dict(session.fetch_token(token_endpoint, grant_type="client_credentials"))


if __name__ == "__main__":
    command, key_file = sys.argv[1], sys.argv[2]
    if command == "keygen":
        print(json.dumps(keygen(key_file)))
    else:
        print(json.dumps(request_token(os.environ["VITESSE_URL"], os.environ["CLIENT_ID"], key_file, "payments:read")))
