"""Sorts `perf script -F comm,ip,sym` samples (with call graphs) of the token service into
categories: each sample goes to the category named by the deepest frame (nearest the leaf) that
names one, so an allocation made while signing counts as signing and a kernel send counts as the
socket write. Prints each category's share and, given the tokens issued as the only argument,
µs of server CPU per token (perf record -F 2000: one sample is 500 µs of CPU)."""

import collections
import sys

CATEGORIES = [
    ("ES256 sign (KeyRing::sign: claims JSON, base64, SHA-256, ECDSA)", ["KeyRing::sign"]),
    ("jti (uuid v4, getrandom)", ["uuid::"]),
    ("issue: claims, scope, last-use check", ["service::tokens::issue", "record_last_use", "grant_scope"]),
    ("DB read: find_by_client_id (query, row decode)", ["find_by_client_id", "into_client"]),
    ("blocking-pool handoff (spawn_blocking, thread wake/park)",
     ["spawn_blocking", "blocking::pool", "BlockingTask", "JoinHandle"]),
    ("authenticate: remembered check (SHA-256, LRU), throttle",
     ["tokens::authenticate", "throttle::", "SecretHasher"]),
    ("form + Basic credentials parsing",
     ["http::oauth::Form", "parse_basic", "http::oauth::credentials", "read_body", "form_urlencoded",
      "client_address", "caller_behind"]),
    ("metrics", ["metrics::Metrics"]),
    ("response: JSON body + headers", ["TokenResponse", "HttpResponseBuilder", "no_store"]),
    ("request span + access log (tracing)",
     ["telemetry::", "tracing_subscriber", "tracing_core", "tracing::", "Instrumented"]),
    ("security-header middleware", ["DefaultHeaders", "app::run::"]),
    ("socket write (kernel TCP send, loopback delivery)",
     ["__libc_send", "sendto", "poll_write", "tcp_sendmsg"]),
    ("socket read (kernel TCP recv)", ["recvfrom", "__libc_recv", "poll_read", "tcp_recvmsg", "sock_read"]),
    ("actix: HTTP/1 parse, routing, dispatch",
     ["actix_http::", "actix_web::", "actix_server::", "actix_service::", "actix_router"]),
    ("runtime: tokio/mio event loop, epoll, scheduling", ["tokio::", "mio::", "epoll", "actix_rt"]),
]


def category(frames):
    for frame in frames:
        for name, patterns in CATEGORIES:
            if any(p in frame for p in patterns):
                return name
    return "other"


def main():
    tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    counts = collections.Counter()
    frames = []
    for line in sys.stdin:
        if line.startswith("\t"):
            frames.append(line.strip())
        else:
            if frames:
                counts[category(frames)] += 1
            frames = []
    if frames:
        counts[category(frames)] += 1
    total = sum(counts.values())
    if not total:
        sys.exit("no samples")
    for name, n in counts.most_common():
        per_token = f"{n * 500 / tokens:6.1f} µs" if tokens else ""
        print(f"{100 * n / total:5.1f}% {per_token}  {name}")
    if tokens:
        print(f"total {total * 500 / tokens:.1f} µs of server CPU per token ({total} samples)")


main()
