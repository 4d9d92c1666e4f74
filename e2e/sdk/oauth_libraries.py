"""The token service through OAuth 2.0 libraries nobody here wrote, each in its default (strict)
mode: requests-oauthlib/oauthlib and Authlib for the client-credentials grant and every RFC 6749
§5.2 error a client can meet; PyJWT verifying the access token with the JWKS.

usage: oauth_libraries.py BASE_URL   (clients made by the calling test: see oauth-libraries.test)
"""
import os
import sys

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors
from requests_oauthlib import OAuth2Session

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the test server speaks plain http on loopback
BASE = sys.argv[1]
TOKEN_URL = f"{BASE}/oauth2/token"
CLIENT, SECRET = "library-client", "library-client-secret"


def oauthlib_token(client_id, secret, scope=None):
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id, scope=scope))
    return session.fetch_token(TOKEN_URL, client_id=client_id, client_secret=secret)


def oauthlib_error(expected, **kwargs):
    try:
        oauthlib_token(**kwargs)
    except oauthlib_errors.OAuth2Error as e:
        assert e.error == expected, (e.error, expected, kwargs)
        return
    raise AssertionError(f"no {expected} for {kwargs}")


def authlib_error(expected, client_id, secret, method="client_secret_basic", **params):
    session = AuthlibSession(client_id, secret, token_endpoint_auth_method=method)
    try:
        session.fetch_token(TOKEN_URL, **params)
    except OAuthError as e:
        assert e.error == expected, (e.error, expected, params)
        return
    raise AssertionError(f"no {expected} for {params}")


# Success, with each library and both client authentication methods.
token = oauthlib_token(CLIENT, SECRET, scope=["payments:read"])  # strict: the scope must match
assert token["token_type"] == "Bearer" and token["expires_in"] == 20 * 60, token
for method in ("client_secret_basic", "client_secret_post"):
    session = AuthlibSession(CLIENT, SECRET, token_endpoint_auth_method=method)
    t = session.fetch_token(TOKEN_URL, grant_type="client_credentials")
    assert t["scope"] == "payments:read refunds:write", t

# Every §5.2 error a client can meet.
oauthlib_error("invalid_client", client_id=CLIENT, secret="wrong-secret")
oauthlib_error("invalid_client", client_id="nobody-has-this-id", secret=SECRET)
oauthlib_error("invalid_client", client_id="library-disabled", secret=SECRET)
oauthlib_error("invalid_scope", client_id=CLIENT, secret=SECRET, scope=["payouts:write"])
authlib_error("invalid_client", CLIENT, "wrong-secret", method="client_secret_post",
              grant_type="client_credentials")
authlib_error("unsupported_grant_type", CLIENT, SECRET, grant_type="password",
              username="someone", password="something")
both = requests.post(TOKEN_URL, auth=(CLIENT, SECRET),
                     data={"grant_type": "client_credentials", "client_secret": SECRET})
assert both.status_code == 400 and both.json()["error"] == "invalid_request", both.text
missing = requests.post(TOKEN_URL, data={"grant_type": "client_credentials"})
assert missing.status_code == 401 and missing.json()["error"] == "invalid_client", missing.text
basic_failure = requests.post(TOKEN_URL, auth=(CLIENT, "wrong-secret"),
                              data={"grant_type": "client_credentials"})
assert basic_failure.status_code == 401
assert basic_failure.headers["www-authenticate"].lower().startswith("basic"), basic_failure.headers

# private_key_jwt (RFC 7523) with Authlib: an assertion signed with the client's own key (its
# default lifetime of an hour is more than the token service accepts: two minutes here).
import time  # noqa: E402

key = ECKey.import_key(os.environ["KEYLESS_PRIVATE_KEY"])
auth = PrivateKeyJWT(TOKEN_URL, claims={"exp": int(time.time()) + 120},
                     headers={"kid": "library-key-1"}, alg="ES256")
keyless = AuthlibSession("library-keyless", key, token_endpoint_auth_method=auth)
keyless.register_client_auth_method(auth)
t = keyless.fetch_token(TOKEN_URL, grant_type="client_credentials")
assert t["token_type"] == "Bearer" and t["scope"] == "payments:read", t
# The same assertion again (Authlib keeps the jti in `claims`): a replay, refused.
try:
    keyless.fetch_token(TOKEN_URL, grant_type="client_credentials")
    raise AssertionError("a replayed assertion was accepted")
except OAuthError as e:
    assert e.error == "invalid_client", e.error

# PyJWT verifies the token with the JWKS, as a resource server would.
access_token = token["access_token"]
key = jwt.PyJWKClient(f"{BASE}/oauth2/jwks").get_signing_key_from_jwt(access_token)
claims = jwt.decode(access_token, key.key, algorithms=["ES256", "RS256"], audience="vitesse-api",
                    issuer=BASE, options={"require": ["exp", "iat", "iss", "sub", "aud", "jti"]})
assert jwt.get_unverified_header(access_token)["typ"] == "at+jwt"
assert claims["client_id"] == claims["sub"] == CLIENT and claims["scope"] == "payments:read", claims
print("ok")
