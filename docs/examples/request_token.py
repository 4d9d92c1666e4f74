"""Request a Vitesse access token with the Python standard library (client_secret_post)."""
import json
import os
import urllib.parse
import urllib.request


def request_token(base_url: str, client_id: str, client_secret: str, scope: str | None = None) -> dict:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    if scope:
        form["scope"] = scope
    req = urllib.request.Request(
        f"{base_url}/oauth2/token",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req) as res:
        return json.load(res)


if __name__ == "__main__":
    token = request_token(os.environ["VITESSE_URL"], os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"], "payments:read")
    print(json.dumps(token))
