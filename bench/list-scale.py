#!/usr/bin/env python3
"""The client list at scale: one account with 100,000 clients (BENCH_LIST_CLIENTS), on SQLite
and on PostgreSQL; every list query the API offers - first page, each sort in both directions,
a page deep in the middle, search, status and the usage filters - timed through the real HTTP
server, p50 and p99 over BENCH_LIST_RUNS runs each. Target: p99 under 25 ms for every query.

Rows are written straight into the server's tables (the API would take minutes to make
100,000 bcrypt-hashed clients); the server reads them as its own.
"""
import base64, csv, http.client, io, json, os, random, socket, sqlite3, subprocess, sys
import tempfile, time
from datetime import datetime, timedelta, timezone

BIN = os.environ.get("BENCH_BIN", "target/release/vitesse-identity")
N = int(os.environ.get("BENCH_LIST_CLIENTS", "100000"))
RUNS = int(os.environ.get("BENCH_LIST_RUNS", "40"))
TARGET_MS = 25.0
NOW = datetime.now(timezone.utc).replace(tzinfo=None)
COLUMNS = ["id", "account_id", "client_id", "client_id_key", "secret_hash", "name",
           "description", "token_duration_minutes", "enabled", "roles", "version",
           "created_at", "updated_at", "name_key", "last_used_at", "token_generation",
           "account_enabled", "secret_created_at", "secret_expires_at"]


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S.%f") if t else None


def rows(account):
    """100,000 clients as a merchant has them: made over two years, most enabled, half never
    used, a quarter idle for over 30 days, one in ten secrets with an expiry (1 % soon)."""
    rnd = random.Random(7)
    for i in range(N):
        created = NOW - timedelta(days=rnd.uniform(1, 730))
        updated = created + (NOW - created) * rnd.random()
        r = rnd.random()
        last_used = None if r < 0.5 else (
            NOW - timedelta(days=rnd.uniform(31, 300)) if r < 0.75 else NOW - timedelta(hours=rnd.uniform(0, 700)))
        e = rnd.random()
        expires = None if e > 0.1 else (
            NOW + timedelta(days=rnd.uniform(1, 29)) if e < 0.01 else NOW + timedelta(days=rnd.uniform(31, 700)))
        cid = f"scale-{i:06d}-{rnd.getrandbits(32):08x}"
        name = f"Merchant {rnd.choice(['Shop', 'Warehouse', 'Payouts', 'Refunds'])} {i}"
        yield [f"00000000-0000-4000-8000-{i:012d}", account, cid, cid.lower(),
               "$2b$12$abcdefghijklmnopqrstuuJ1dSm2lq3w9fW2b0mCk9bA7s6yS0r1e", name, None, 15,
               rnd.random() > 0.1, "payments:read", 1, ts(created), ts(updated), name.lower(),
               ts(last_used), 0, True, ts(updated), ts(expires)]


def seed_sqlite(path, account):
    db = sqlite3.connect(path)
    marks = ",".join("?" * len(COLUMNS))
    db.executemany(f"INSERT INTO identity_clients ({','.join(COLUMNS)}) VALUES ({marks})", rows(account))
    db.commit(); db.execute("ANALYZE"); db.close()


def seed_postgres(url, account):
    buf = io.StringIO(); w = csv.writer(buf)
    for r in rows(account):
        w.writerow(["\\N" if v is None else ("t" if v is True else "f" if v is False else v) for v in r])
    subprocess.run(["psql", "-q", url, "-c",
                    f"\\copy identity_clients ({','.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"],
                   input=buf.getvalue(), text=True, check=True)
    # VACUUM as autovacuum does within a minute of a bulk load (PostgreSQL 13+ vacuums after
    # inserts too): it marks the pages all-visible, so a page of the list is read from its
    # covering index alone, as a server that has run a while reads it.
    subprocess.run(["psql", "-q", url, "-c", "VACUUM ANALYZE identity_clients"], check=True)


def cursor(value, id_):
    return base64.urlsafe_b64encode(json.dumps([value, id_]).encode()).decode().rstrip("=")


def measure(name, url, seed):
    work = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=url, VITESSE_DATA_DIR=work, RUST_LOG="warn")
    run = lambda *a, inp=None: subprocess.run([BIN, *a], env=env, input=inp, text=True,
                                              capture_output=True, check=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # ready: migrations ran, the store answers
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        account = run("account", "create", "--name", "Scale", "--identity-clients", "enabled")
        run("user", "create", "--account", account, "--email", "scale@example.com",
            "--role", "merchant-admin", "--password-stdin", inp="scale-password-123")
        t0 = time.time(); seed(account); seeded = time.time() - t0
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("POST", "/api/v1/session", json.dumps({"email": "scale@example.com", "password": "scale-password-123"}),
                     {"content-type": "application/json"})
        res = conn.getresponse(); res.read()
        cookie = res.getheader("set-cookie").split(";")[0]

        def get(q):
            conn.request("GET", f"/api/v1/identity-clients?{q}", headers={"cookie": cookie})
            r = conn.getresponse(); body = r.read()
            assert r.status == 200, (q, r.status, body[:300])
            return json.loads(body)

        queries = []
        for sort in ["client_id", "created_at", "updated_at"]:
            for desc in ["", "-"]:
                queries.append(f"sort={desc}{sort}")
        # Cursors half-way through the account, made from a row in the middle of each order.
        mid_rows = get_mid(url, name)
        for sort, (value, id_) in mid_rows.items():
            for desc in ["", "-"]:
                queries.append(f"sort={desc}{sort}&cursor={cursor(value, id_)}")
        queries += ["search=warehouse", "search=scale-05", "search=no-such-client", "search=shop&sort=-created_at",
                    "status=disabled", "status=disabled&sort=-updated_at",
                    "filter=never_used", "filter=never_used&sort=-created_at",
                    "filter=not_used_30_days", "filter=not_used_30_days&sort=-updated_at",
                    "filter=secret_expires_30_days", "filter=secret_expires_30_days&sort=-client_id",
                    "filter=secret_expires_30_days&status=disabled&search=shop"]
        results = []
        for q in queries:
            get(q)  # warm
            times = []
            for _ in range(RUNS):
                t = time.perf_counter(); get(q); times.append((time.perf_counter() - t) * 1000)
            times.sort()
            results.append((q, times[len(times) // 2], times[min(len(times) - 1, int(0.99 * len(times)))]))
        worst = max(r[2] for r in results)
        print(f"\n{name}: {N} clients in one account (seeded in {seeded:.1f}s), {RUNS} runs per query, 50 per page")
        print(f"| {'query':<58} | {'p50 ms':>7} | {'p99 ms':>7} |")
        print(f"|{'-' * 60}|{'-' * 9}|{'-' * 9}|")
        for q, p50, p99 in results:
            flag = "" if p99 < TARGET_MS else "  <- over target"
            print(f"| {q[:58]:<58} | {p50:7.1f} | {p99:7.1f} |{flag}")
        print(f"worst p99 {worst:.1f} ms (target < {TARGET_MS:.0f} ms): {'met' if worst < TARGET_MS else 'NOT met'}")
    finally:
        server.terminate(); server.wait()


def get_mid(url, name):
    """(sort value as the server's cursor carries it, id) of the row half-way along each order."""
    sql = {
        "client_id": "SELECT client_id_key, id FROM identity_clients ORDER BY client_id_key, id LIMIT 1 OFFSET ?",
        "created_at": "SELECT created_at, id FROM identity_clients ORDER BY created_at, id LIMIT 1 OFFSET ?",
        "updated_at": "SELECT updated_at, id FROM identity_clients ORDER BY updated_at, id LIMIT 1 OFFSET ?",
    }
    out = {}
    for sort, q in sql.items():
        if name == "sqlite":
            db = sqlite3.connect(url); v, i = db.execute(q, (N // 2,)).fetchone(); db.close()
        else:
            line = subprocess.run(["psql", "-qAt", "-F", "\t", url, "-c", q.replace("?", str(N // 2))],
                                  capture_output=True, text=True, check=True).stdout.strip()
            v, i = line.split("\t")
        if sort != "client_id":
            v = datetime.fromisoformat(str(v)).strftime("%Y-%m-%dT%H:%M:%S.%f")
        out[sort] = (v, i)
    return out


def main():
    backends = os.environ.get("BENCH_BACKENDS", "sqlite postgres").split()
    print(f"Client list at scale; {os.cpu_count()} cores; server and this client share them.")
    if "sqlite" in backends:
        path = os.path.join(tempfile.mkdtemp(), "scale.sqlite3")
        measure("sqlite", path, lambda account: seed_sqlite(path, account))
    if "postgres" in backends:
        db = f"vitesse_list_{os.getpid()}"
        admin = "postgres://postgres@127.0.0.1:5432/postgres"
        subprocess.run(["psql", "-q", admin, "-c", f"CREATE DATABASE {db}"], check=True)
        url = f"postgres://postgres@127.0.0.1:5432/{db}"
        try:
            measure("postgres", url, lambda account: seed_postgres(url, account))
        finally:
            subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])


if __name__ == "__main__":
    main()
