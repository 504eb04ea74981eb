"""Auth at the edge (JWT by shared secret, JWKS file and JWKS URL) and header propagation
rules per subgraph, observed by subgraphs that echo what they received."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs

SECRET = "edge-test-secret-of-sufficient-length-0123456789"
BOTH = "{ alphaHeaders betaHeaders }"


def token(claims: dict[str, Any] | None = None, key: Any = SECRET, **header: Any) -> str:
    payload = {"sub": "user-1", "role": "CUSTOMER", "exp": int(time.time()) + 60, **(claims or {})}
    algorithm = "HS256" if isinstance(key, str) else "RS256"
    return jwt.encode(payload, key, algorithm=algorithm, headers=header or None)


def received(body: dict[str, Any], name: str) -> dict[str, str]:
    assert "errors" not in body, body
    seen: dict[str, str] = json.loads(body["data"][f"{name}Headers"])
    return seen


async def test_default_rules_forward_authorization_and_request_id(echo: EchoSubgraphs):
    async with serve(echo) as (client, _):
        response = await client.post(
            "/graphql",
            json={"query": BOTH},
            headers={"authorization": "Bearer abc", "x-request-id": "req-42", "cookie": "c=1"},
        )
    body = response.json()
    assert response.headers["x-request-id"] == "req-42"
    for name in ("alpha", "beta"):
        seen = received(body, name)
        assert seen["authorization"] == "Bearer abc"
        assert seen["x-request-id"] == "req-42"
        assert "cookie" not in seen


async def test_a_request_id_is_made_when_the_client_sends_none(echo: EchoSubgraphs):
    async with serve(echo) as (client, _):
        response = await client.post("/graphql", json={"query": BOTH})
    rid = response.headers["x-request-id"]
    assert len(rid) == 32
    assert received(response.json(), "alpha")["x-request-id"] == rid
    assert "authorization" not in received(response.json(), "alpha")


async def test_rename_insert_remove_per_subgraph_with_claims(echo: EchoSubgraphs):
    config = {
        "auth": {"jwt": {"secret": SECRET}},
        "headers": [
            {"propagate": "authorization"},
            {"propagate": "x-tenant", "rename": "x-shop-tenant", "default": "main"},
            {"insert": "x-user-id", "from_claim": "sub"},
            {"insert": "x-user-role", "from_claim": "role"},
            {"insert": "x-missing-claim", "from_claim": "nope"},
        ],
        "subgraphs": {
            "beta": {
                "headers": [
                    {"remove": "authorization"},
                    {"insert": "x-origin", "value": "shopgraph"},
                ]
            }
        },
    }
    bearer = f"Bearer {token()}"
    async with serve(echo, config) as (client, _):
        body = (
            await client.post("/graphql", json={"query": BOTH}, headers={"authorization": bearer})
        ).json()
        tenant = (
            await client.post(
                "/graphql", json={"query": "{ alphaHeaders }"}, headers={"x-tenant": "outlet"}
            )
        ).json()
    alpha, beta = received(body, "alpha"), received(body, "beta")
    assert alpha["authorization"] == bearer
    assert (alpha["x-user-id"], alpha["x-user-role"], alpha["x-shop-tenant"]) == (
        "user-1",
        "CUSTOMER",
        "main",
    )
    assert "x-missing-claim" not in alpha and "x-origin" not in alpha
    assert "authorization" not in beta
    assert (beta["x-user-id"], beta["x-origin"]) == ("user-1", "shopgraph")
    assert received(tenant, "alpha")["x-shop-tenant"] == "outlet"
    assert "x-user-id" not in received(tenant, "alpha")  # no token, no claims


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            f"Bearer {token(key='another-secret-entirely-0123456789abcdef')}",
            "Invalid token: Signature verification failed",
        ),
        (f"Bearer {token({'exp': int(time.time()) - 10})}", "Invalid token: Signature has expired"),
        ("Basic dXNlcjpwYXNz", "Invalid authorization header: expected 'Bearer <token>'."),
        ("Bearer not-a-jwt", "Invalid token: Not enough segments"),
    ],
)
async def test_invalid_tokens_are_refused_before_any_subgraph_call(
    echo: EchoSubgraphs, authorization: str, message: str
):
    async with serve(echo, {"auth": {"jwt": {"secret": SECRET}}}) as (client, _):
        response = await client.post(
            "/graphql", json={"query": BOTH}, headers={"authorization": authorization}
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    assert echo.behaviour["alpha"].requests == []


async def test_required_token(echo: EchoSubgraphs):
    config = {"auth": {"jwt": {"secret": SECRET, "required": True}}}
    async with serve(echo, config) as (client, _):
        missing = await client.post("/graphql", json={"query": BOTH})
        present = await client.post(
            "/graphql", json={"query": BOTH}, headers={"authorization": f"Bearer {token()}"}
        )
    assert missing.status_code == 401
    assert missing.json()["errors"][0]["message"] == (
        "Authentication required: send a bearer token."
    )
    assert present.status_code == 200 and "errors" not in present.json()


def _rsa_key_set(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return private, {"keys": [jwk]}


async def test_jwks_file(echo: EchoSubgraphs, tmp_path: Path):
    private, key_set = _rsa_key_set("k1")
    other, _ = _rsa_key_set("k1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(key_set))
    config = {
        "auth": {"jwt": {"jwks_file": str(jwks), "issuer": "shopgraph", "audience": "shop"}},
        "headers": [{"insert": "x-user-id", "from_claim": "sub"}],
    }
    good = token({"iss": "shopgraph", "aud": "shop"}, private, kid="k1")
    wrong_issuer = token({"iss": "elsewhere", "aud": "shop"}, private, kid="k1")
    forged = token({"iss": "shopgraph", "aud": "shop"}, other, kid="k1")
    unknown_kid = token({"iss": "shopgraph", "aud": "shop"}, private, kid="k9")
    async with serve(echo, config) as (client, _):
        results = [
            await client.post(
                "/graphql",
                json={"query": "{ alphaHeaders }"},
                headers={"authorization": f"Bearer {t}"},
            )
            for t in (good, wrong_issuer, forged, unknown_kid)
        ]
    assert results[0].status_code == 200
    assert received(results[0].json(), "alpha")["x-user-id"] == "user-1"
    assert [r.status_code for r in results[1:]] == [401, 401, 401]
    assert [r.json()["errors"][0]["message"] for r in results[1:]] == [
        "Invalid token: Invalid issuer",
        "Invalid token: Signature verification failed",
        "Invalid token: no key matches its 'kid'.",
    ]


async def test_jwks_url(echo: EchoSubgraphs):
    private, key_set = _rsa_key_set("url-key")
    fetched: list[str] = []

    class KeysHandler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            fetched.append(self.path)
            body = json.dumps(key_set).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeysHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        async with serve(echo, {"auth": {"jwt": {"jwks_url": url}}}) as (client, _):
            statuses = [
                (
                    await client.post(
                        "/graphql",
                        json={"query": "{ alphaHeaders }"},
                        headers={"authorization": f"Bearer {token(key=private, kid='url-key')}"},
                    )
                ).status_code
                for _ in range(3)
            ]
    finally:
        server.shutdown()
        server.server_close()
    assert statuses == [200, 200, 200]
    assert fetched == ["/.well-known/jwks.json"]  # fetched once, then cached
