"""HTTP benchmarks through gunicorn over loopback, with a real session cookie.

    .venv/bin/python -m bench.http_load [--workers W] [--threads T] [--clients 30]
        [--seconds 20] [--no-record]

Starts gunicorn with config/gunicorn.py (GUNICORN_WORKERS / GUNICORN_THREADS from the
options) on a free loopback port against DATABASE_URL (the national dataset of
generate_scale with its operational volumes), signs in through the login form as
`syn-province` and `syn-national` (demo/scale_ops.py), then

1. times each page sequentially (median and p95 of N requests per page and scope:
   the server time plus loopback, one client, nothing else in flight);
2. runs the load test: C concurrent clients (threads, each with its own connection,
   all with the province supervisor's session) requesting the province ledger page
   for S seconds; prints requests/s, p50, p95, p99 and the number of errors.

Results go into bench/RESULTS.md (section "HTTP through gunicorn") with the machine's
load average. Only the standard library is used (urllib, threads).
"""

from __future__ import annotations

import argparse
import http.cookies
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PASSWORD = "Bench-Password-2026"  # demo/scale_ops.BENCH_PASSWORD (synthetic only)


def ensure_second_factor(usernames) -> None:
    """A confirmed TOTP device for each synthetic sign-in (once per dataset), as the
    users would have enrolled; written directly, like the rest of the synthetic
    dataset (no audit events)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    for user in User.objects.filter(username__in=usernames):
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)


def totp_code(username: str) -> str:
    """The current code of the user's device; waits for the next time step when
    this step's code was already used (django-otp refuses a replayed code)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    while device.last_t >= int(time.time()) // device.step:
        time.sleep(1)
        device.refresh_from_db()
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env() -> dict[str, str]:
    """The settings a deployment runs with (DEBUG off: no SQL kept per request, the
    manifest static storage), over plain HTTP on loopback (no TLS redirect)."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 60),
    }


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_THREADS=str(threads),
        GUNICORN_LOGLEVEL="warning",
        **production_env(),
    )
    # Production settings serve hashed static files from a manifest: collect them
    # first, as a deployment does (quick when nothing changed).
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "collectstatic", "--noinput",
         "--verbosity", "0"],
        cwd=ROOT, env=env, check=True,
    )
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "--config",
         "config/gunicorn.py", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
            return proc
        except Exception:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class Session:
    """One signed-in browser: cookies kept by hand (production settings mark them
    Secure, which a cookie jar would not send over plain loopback HTTP)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def _open(self, path: str, data: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        req = urllib.request.Request(self.base + path, data, headers=headers)
        try:
            response = self.opener.open(req, timeout=60)
        except urllib.error.HTTPError as e:
            response = e
        jar = http.cookies.SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            jar.load(value)
        self.cookies.update({k: m.value for k, m in jar.items()})
        return response

    def login(self, username: str) -> None:
        page = self._open("/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        response = self._open(
            "/accounts/login/", body, {"Referer": self.base + "/accounts/login/"}
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"sign-in as {username} failed ({response.status})")
        # Supervisors sign in with a second factor (accounts.second_factor): the
        # code of the TOTP device set up by ensure_second_factor.
        page = self._open("/accounts/second-factor/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"code": totp_code(username), "csrfmiddlewaretoken": token}
        ).encode()
        response = self._open(
            "/accounts/second-factor/", body,
            {"Referer": self.base + "/accounts/second-factor/"},
        )
        if response.status != 302:
            raise SystemExit(f"second factor of {username} refused ({response.status})")
        check = self._open("/registry/ledger/")
        check.read()
        if check.status != 200:
            raise SystemExit(f"{username}'s session does not reach the ledger "
                             f"({check.status} {check.headers.get('Location')})")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def get(self, path: str) -> tuple[int, float, int]:
        t = time.perf_counter()
        response = self._open(path)
        size = len(response.read())
        return response.status, (time.perf_counter() - t) * 1000, size


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


PAGES = [
    ("ledger default", "/registry/ledger/"),
    ("ledger page 100", "/registry/ledger/?page=100"),
    ("ledger filtered", "/registry/ledger/?platform=weibo&status=active"),
    ("ledger by followers", "/registry/ledger/?sort=-followers"),
    ("ledger name search", "/registry/ledger/?q=%E5%8D%AB%E7%94%9F%E5%81%A5%E5%BA%B7&sort=name"),
    ("ledger API", "/api/v1/ledger/"),
    ("overview", "/registry/overview/"),
    ("directive list", "/moderation/directives/"),
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def sequential(sessions, n: int) -> list[tuple]:
    rows = []
    for label, path in PAGES:
        for scope, session in sessions.items():
            session.get(path)  # warm
            times, codes, size = [], set(), 0
            for _ in range(n):
                code, ms, size = session.get(path)
                times.append(ms)
                codes.add(code)
            rows.append((label, scope, statistics.median(times), pct(times, 95), size,
                         sorted(codes)))
            print(f"{label:22} {scope:9} median {statistics.median(times):7.1f} ms  "
                  f"p95 {pct(times, 95):7.1f} ms  {size // 1024} KB  {sorted(codes)}",
                  flush=True)
    return rows


def load(base: str, cookie: str, path: str, clients: int, seconds: float) -> dict:
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def client():
        # Redirects are not followed: a redirect (to sign-in, to the second factor)
        # is an error here, not a measurement of another page.
        opener = urllib.request.build_opener(_NoRedirect)
        opener.addheaders = [("Cookie", cookie)]
        while time.time() < stop_at:
            t = time.perf_counter()
            try:
                with opener.open(base + path, timeout=60) as r:
                    r.read()
                    ok = r.status == 200
            except Exception:
                ok = False
            ms = (time.perf_counter() - t) * 1000
            with lock:
                times.append(ms)
                if not ok:
                    errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    return {
        "requests": len(times),
        "rps": len(times) / elapsed,
        "p50": pct(times, 50),
        "p95": pct(times, 95),
        "p99": pct(times, 99),
        "errors": errors[0],
    }


def load_ab(base: str, cookie: str, path: str, clients: int, seconds: float) -> dict:
    """The same load driven by ApacheBench (`ab`, Debian apache2-utils): a C client
    that leaves the two CPUs to the server, where the Python threads above take a
    share of them. No keep-alive, as above; a response other than 200 counts as an
    error (ab's "Non-2xx" and "Failed requests")."""
    import re
    import shutil
    import tempfile

    ab = shutil.which("ab")
    if ab is None:
        raise SystemExit("ab not found: apt-get install apache2-utils, or --driver python")
    with tempfile.NamedTemporaryFile(suffix=".csv") as percentiles:
        out = subprocess.run(
            [ab, "-q", "-t", f"{seconds:g}", "-n", "10000000", "-c", str(clients),
             "-H", f"Cookie: {cookie}", "-e", percentiles.name, base + path],
            capture_output=True, text=True, check=True).stdout
        table = {}
        for line in open(percentiles.name).read().splitlines()[1:]:
            pct_text, ms = line.split(",")
            table[float(pct_text)] = float(ms)

    def number(label):
        found = re.search(rf"^{label}:\s+([\d.]+)", out, re.M)
        return float(found.group(1)) if found else 0.0

    return {
        "requests": int(number("Complete requests")),
        "rps": number("Requests per second"),
        "p50": table.get(50.0, float("nan")),
        "p95": table.get(95.0, float("nan")),
        "p99": table.get(99.0, float("nan")),
        "errors": int(number("Failed requests") + number("Non-2xx responses")),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int,
                        default=int(os.environ.get("GUNICORN_WORKERS",
                                                   str(2 * (os.cpu_count() or 1)))))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", "1")))
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--label", default="")
    parser.add_argument("--driver", choices=("python", "ab"), default="python",
                        help="load generator: Python threads (default) or ApacheBench")
    args = parser.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()[0]
    ensure_second_factor(["syn-province", "syn-national"])
    proc = start_gunicorn(port, args.workers, args.threads)
    try:
        sessions = {"province": Session(base), "national": Session(base)}
        sessions["province"].login("syn-province")
        sessions["national"].login("syn-national")
        rows = [] if args.no_pages else sequential(sessions, args.repeat)
        driver = load_ab if args.driver == "ab" else load
        result = driver(base, sessions["province"].cookie_header(), "/registry/ledger/",
                        args.clients, args.seconds)
        print(f"load ({args.driver}): {args.clients} clients, {args.seconds:g} s, workers {args.workers} "
              f"threads {args.threads}: {result['requests']} requests, "
              f"{result['rps']:.1f}/s, p50 {result['p50']:.0f} ms, p95 "
              f"{result['p95']:.0f} ms, p99 {result['p99']:.0f} ms, errors "
              f"{result['errors']}", flush=True)
    finally:
        stop(proc)
    if not args.no_record:
        record(rows, result, args, load_before)
    return 0


def record(rows, result, args, load_before) -> None:
    lines = [
        f"### HTTP through gunicorn {date.today().isoformat()}"
        + (f" · {args.label}" if args.label else ""),
        "",
        f"- `python -m bench.http_load --workers {args.workers} --threads {args.threads} "
        f"--clients {args.clients} --seconds {args.seconds:g} --driver {args.driver}`; "
        f"{os.cpu_count()} CPUs, "
        f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}",
        "",
    ]
    if rows:
        lines += ["| page | scope | median ms | p95 ms | size KB | status |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4] // 1024} | "
                  f"{','.join(map(str, r[5]))} |" for r in rows]
        lines.append("")
    lines.append(
        f"Load, province ledger page ({args.driver} client): {args.clients} clients for "
        f"{args.seconds:g} s: "
        f"{result['requests']} requests ({result['rps']:.1f}/s), p50 {result['p50']:.0f} "
        f"ms, **p95 {result['p95']:.0f} ms**, p99 {result['p99']:.0f} ms, errors "
        f"{result['errors']}."
    )
    text = RESULTS.read_text()
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
    print(f"Recorded in {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
