"""Ingestion over loopback through gunicorn as configured (config/gunicorn.py):

- collector singles as collectors send them by default (`POST
  /api/v1/inbox/collect/`, one message each: stored, answered 202, made into messages
  by the drain): the rate accepted, against a bare Django JSON view
  (`/bench/bare-json/`, same stack, no work) in the same run, the issue asking for at
  least 40% of the bare rate; with two drainer processes running alongside as the
  Celery worker's two would (same 2 CPUs; the first delivery of each debounce second
  schedules a drain for its end, a drain takes everything queued), how long after
  the window the last message was made; "end to end" is the messages made divided
  by the time from the first request to the last message made;
- collector batches of 500 made in the request (`Prefer: return=representation`,
  201): messages/s made (at least 5,000/s asked);
- the WeChat callback (safe mode, signed as the platform signs): latency per
  request, median and 95th percentile (under 50 ms asked);
- `--only single_made,batch_stored`: singles made in the request, batches by the
  default path (stored, drained).

    DATABASE_URL=... .venv/bin/python -m bench.inbox_ingest [--seconds 10] [--clients 8] [--rounds 2]

It starts gunicorn on a free port with DJANGO_SETTINGS_MODULE=bench.inbox_settings
(the project's settings plus one bare view) and the production environment (DEBUG
off, as bench.http_load runs it), makes a collector and a WeChat endpoint
for an account of the first organization that has one, and prints a table (also
appended to bench/RESULTS.md unless --no-record). Messages it creates are marked with
the citizen handle `bench-ingest` and removed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
MARK = "bench-ingest"


def _setup():
    import django

    django.setup()
    from accounts.models import Organization, Role
    from inbox.services import ingest, wechat
    from registry.models import MediaAccount

    account = (MediaAccount.objects.filter(platform__code__startswith="wechat")
               .select_related("organization").order_by("id").first())
    if account is None:
        raise SystemExit("No WeChat account: seed the demo or generate a dataset first.")
    root = Organization.objects.get(path=account.org_path[:Organization.steplen])

    from accounts import services

    user = services.user_create(actor=None, organization=root,
                                username=f"bench-ingest-{uuid.uuid4().hex[:8]}",
                                password="Bench-" + uuid.uuid4().hex)  # password rules: 3 classes
    services.membership_grant(actor=None, user=user, organization=root,
                              role=Role.SUPERVISOR)
    from accounts.models import User

    user = User.objects.get(pk=user.pk)
    _c, token = ingest.collector_create(actor=user, organization=root, name="bench")
    aes = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    endpoint = wechat.wechat_endpoint_save(actor=user, account=account, app_id="wxbench",
                                           token="benchtoken", aes_key=aes, mode="safe")
    _forget_wechat(account)  # an earlier run's
    _history(account)
    _vacuum()
    return account, token, endpoint, aes


HISTORY = "bench-history"
HISTORY_ACCOUNT, HISTORY_OTHERS, HISTORY_EACH = 20_000, 10_000, 100


def _history(account):
    """An inbox as a province's would be: 20,000 earlier messages of the measured
    account and 100 each of 10,000 others (1,020,000 rows, made once by INSERT ...
    SELECT, marked `bench-history`, kept between runs). On an empty table the
    duplicate check and the indexes cost what they never cost in service, and the
    planner's statistics flip between measures (a batch measured 2,188 msg/s after
    a round of singles had made 1,000 rows, 8,500 before)."""
    from django.db import connection

    from inbox.models import Message

    if connection.vendor != "postgresql":
        return
    want = HISTORY_ACCOUNT + HISTORY_OTHERS * HISTORY_EACH
    if Message.objects.filter(citizen_handle=HISTORY).count() == want:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_message WHERE citizen_handle = %s", [HISTORY])
        others = list(_other_accounts(account, HISTORY_OTHERS))
        for ids, each in (([account.pk], HISTORY_ACCOUNT), (others, HISTORY_EACH)):
            cursor.execute(
                "INSERT INTO inbox_message (organization_id, org_path, origin_organization_id,"
                " origin_path, supervising_organization_id, region_code, channel, source,"
                " platform_message_id, citizen_handle, citizen_openid, original_text, text,"
                " received_at, category, suggested_category, must_answer, status, sla_unit,"
                " sla_first_response, sla_reply, sla_warn_percent, clock_started_at,"
                " paused_seconds, extension_days, first_response_due_at, reply_due_at,"
                " due_provisional, reply_route, transfer_count, reopen_count, satisfaction,"
                " rating_token, stale_at, created_at, account_id, replied_at, resolved_at) "
                "SELECT a.organization_id, a.org_path, a.organization_id, a.org_path,"
                " a.supervising_organization_id, o.region_code, 'weibo_comment', 'collector',"
                " 'hist-' || g.i, %s, '', '请问办理需要多久？', '请问办理需要多久？',"
                " now() - interval '30 days', 'inquiry', 'inquiry', true, 'resolved',"
                " 'working_days', 1, 5, 80, now() - interval '30 days', 0, 0,"
                " now() - interval '29 days', now() - interval '25 days', false, 'platform',"
                " 0, 0, '', gen_random_uuid(), now() + interval '60 days', now(), a.id,"
                " now() - interval '29 days', now() - interval '28 days' "
                "FROM registry_mediaaccount a JOIN accounts_organization o"
                " ON o.id = a.organization_id, generate_series(1, %s) g(i) "
                "WHERE a.id = ANY(%s)", [HISTORY, each, ids])
    print(f"made the inbox's history ({want:,} messages) in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


def _other_accounts(account, n):
    from registry.models import MediaAccount

    return (MediaAccount.objects.exclude(pk=account.pk).order_by("pk")
            .values_list("pk", flat=True)[:n])


def _forget_wechat(account):
    """The callbacks stored by the WeChat measure (no worker runs here to make their
    messages): removed, or the drain of the next measures would make them (it picks up
    WeChat payloads left unprocessed for two minutes)."""
    from inbox.models import RawPayload

    RawPayload.objects.filter(source="wechat", account=account,
                              state=RawPayload.State.RECEIVED).delete()


def _vacuum():
    """Earlier runs delete what they made: without a VACUUM ANALYZE the duplicate
    check walks their dead index entries and the planner works from stale counts
    (a batch's duplicate check measured 219 ms instead of 2.5 ms)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE inbox_message, inbox_messageevent, "
                           "inbox_rawpayload")


def _post(conn, path, body, headers):
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def _load(port, seconds, clients, make_request):
    """Each client thread keeps one connection and sends until time is up; returns
    (requests done, latencies in ms, statuses seen)."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    done, latencies, statuses = [0], [], {}

    def worker(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k = 0
        while time.monotonic() < stop:
            path, body, headers = make_request(n, k)
            t = time.perf_counter()
            status, _data = _post(conn, path, body, headers)
            ms = (time.perf_counter() - t) * 1000
            with lock:
                done[0] += 1
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1
            k += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return done[0], latencies, statuses


DRAINER = """
import os, sys, time, json
sys.path.insert(0, %(root)r)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.inbox_settings")
import django
django.setup()
from inbox.services.ingest import payloads_drain
made = 0
print("ready", flush=True)  # a worker is up before deliveries come
cpu = time.process_time()
from django.conf import settings
# As the worker runs it (inbox.services.ingest.drain_soon): the first delivery of
# each debounce interval schedules a drain for the interval's end, and a drain takes
# everything queued. Once told to stop, one last drain takes what came in its last
# interval. The wall time of the last drain that made
# something is when the last message was made.
last = 0.0
while True:
    stopping = os.path.exists(%(stop)r)
    created = payloads_drain(helpers=False)["created"]  # the pool is these processes
    if created:
        made, last = made + created, time.time()
    if stopping:
        break
    time.sleep(settings.INBOX_DRAIN_DEBOUNCE_SECONDS)
print(json.dumps({"made": made, "last": last, "cpu": time.process_time() - cpu}))
"""


# The worker's processes (`celery worker --concurrency 2`, Procfile and compose): a
# drain that finds more than one transaction's worth asks for a helper, which the
# other process takes; here each process polls as the scheduled drains would come.
DRAINERS = 2

MEASURES = ("single", "batch", "wechat", "single_made", "batch_stored")


def _merge(before, now):
    """Add a round's result to the earlier rounds' ((count, latencies, statuses), or
    that with messages made and seconds elapsed for the async measures)."""
    if before is None:
        return now
    if len(now) == 3 and isinstance(now[1], int):  # async: (load result, made, elapsed)
        return (_merge(before[0], now[0]), before[1] + now[1], before[2] + now[2])
    statuses = dict(before[2])
    for code, n in now[2].items():
        statuses[code] = statuses.get(code, 0) + n
    return (before[0] + now[0], before[1] + now[1], statuses)


def _async_measure(port, seconds, clients, make_request):
    """Accept for `seconds` with a drainer alongside (started and ready before the
    first request, as a worker would be); returns the load result, the messages made
    and the seconds from the first request to the last message made."""
    import tempfile

    from inbox.services.ingest import payloads_drain

    stop = Path(tempfile.mkdtemp()) / "stop"
    drainers = [subprocess.Popen([sys.executable, "-c", DRAINER % {"root": str(ROOT),
                                                                   "stop": str(stop)}],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True)
                for _ in range(DRAINERS)]
    for drainer in drainers:
        assert drainer.stdout.readline().strip() == "ready"
    start = time.time()
    result = _load(port, seconds, clients, make_request)
    stop.touch()  # each drainer drains once more, then stops
    done = [json.loads(d.communicate(timeout=900)[0].strip().splitlines()[-1])
            for d in drainers]
    made = sum(d["made"] for d in done)
    elapsed = max((d["last"] for d in done if d["made"]), default=start) - start
    cpu = sum(d["cpu"] for d in done)
    print(f"drainers: {made} messages made, their CPU {1000 * cpu / max(made, 1):.2f} ms "
          "per message (their database work not counted)", file=sys.stderr)
    left = payloads_drain(helpers=False)["created"]  # none expected: said if any
    if left:
        print(f"the drainer left {left} messages; made here", file=sys.stderr)
        made, elapsed = made + left, time.time() - start
    from inbox.models import Message

    Message.objects.filter(citizen_handle=MARK).delete()  # each measure on the same table
    _vacuum()
    return result, made, elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the measures this many times, interleaved, and add up")
    parser.add_argument("--only", default="single,batch,wechat,single_made",
                        help="comma-separated measures besides the bare view: "
                        + ", ".join(MEASURES))
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    args.only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(args.only) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures: {', '.join(sorted(unknown))}")
    sys.path.insert(0, str(ROOT))
    from bench.http_load import free_port, production_env, start_gunicorn, stop

    # As deployed: DEBUG off (with DEBUG on every statement is kept and logged, a
    # batch measured 20% slower), here, in the drainer and in gunicorn.
    os.environ.update(production_env(), DJANGO_SETTINGS_MODULE="bench.inbox_settings")
    account, token, endpoint, aes = _setup()
    port = free_port()
    server = start_gunicorn(port, int(os.environ.get("GUNICORN_WORKERS",
                                                     2 * (os.cpu_count() or 1))),
                            int(os.environ.get("GUNICORN_THREADS", "1")))
    try:
        run = {"id": uuid.uuid4().hex[:8]}  # one per round: message ids never repeat
        auth = {"Authorization": f"Collector {token}", "Content-Type": "application/json"}

        def bare(n, k):
            return "/bench/bare-json/", b'{"a": 1}', {"Content-Type": "application/json"}

        def item(n, k, j=0):
            return {"account": account.pk, "channel": "weibo_comment",
                    "platform_message_id": f"{run['id']}-{n}-{k}-{j}",
                    "text": "请问办理居住证需要多久？", "citizen": MARK,
                    "received_at": "2025-03-03T09:30:00+08:00"}

        in_request = {**auth, "Prefer": "return=representation"}

        def single(n, k):  # the default: stored, answered 202, drained
            return "/api/v1/inbox/collect/", json.dumps(item(n, k)).encode(), auth

        def batch(n, k):
            body = {"messages": [item(n, k + 10**6, j) for j in range(500)]}
            return "/api/v1/inbox/collect/", json.dumps(body).encode(), in_request

        def single_made(n, k):
            return "/api/v1/inbox/collect/", json.dumps(item(n, k + 2 * 10**6)).encode(), in_request

        def batch_stored(n, k):
            body = {"messages": [item(n, k + 3 * 10**6, j) for j in range(500)]}
            return "/api/v1/inbox/collect/", json.dumps(body).encode(), auth

        from wechatpy.crypto import WeChatCrypto
        from wechatpy.utils import WeChatSigner

        crypto = WeChatCrypto("benchtoken", aes, "wxbench")

        def callback(n, k):
            ts, nonce = str(int(time.time())), f"{n}{k}"
            xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName>"
                   f"<![CDATA[o{run['id']}{n}]]></FromUserName><CreateTime>{ts}</CreateTime>"
                   f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请问怎么办理？]]>"
                   f"</Content><MsgId>{abs(hash((run['id'], n, k))) % 10**17}</MsgId></xml>")
            from xml.etree import ElementTree

            env_xml = ElementTree.fromstring(crypto.encrypt_message(xml, nonce, ts))
            signer = WeChatSigner()
            signer.add_data("benchtoken", ts, nonce)
            query = urlencode({"signature": signer.signature, "timestamp": ts,
                               "nonce": nonce, "encrypt_type": "aes",
                               "msg_signature": env_xml.find("MsgSignature").text})
            body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA["
                    f"{env_xml.find('Encrypt').text}]]></Encrypt></xml>").encode()
            return f"/inbox/wechat/{endpoint.slug}/?{query}", body, {"Content-Type": "text/xml"}

        measures = {
            "bare": lambda: _load(port, args.seconds, args.clients, bare),
            "single": lambda: _async_measure(port, args.seconds, args.clients, single),
            "batch": lambda: _load(port, args.seconds, args.clients, batch),
            "wechat": lambda: _load(port, args.seconds, 1, callback),
            "single_made": lambda: _load(port, args.seconds, args.clients, single_made),
            "batch_stored": lambda: _async_measure(port, args.seconds, args.clients,
                                                   batch_stored),
        }
        results = {}
        _load(port, 2, args.clients, bare)  # warm-up
        for _round in range(args.rounds):
            # Rounds interleave the measures, so a machine whose load changes
            # during the run weighs on the bare view and the others alike.
            run["id"] = uuid.uuid4().hex[:8]
            for name in ["bare", *[m for m in measures if m != "bare" and m in args.only]]:
                results[name] = _merge(results.get(name), measures[name]())
                if name == "wechat":
                    _forget_wechat(account)  # no worker made them; the drain must not
    finally:
        stop(server)
    seconds = args.seconds * args.rounds
    bare_rate = results["bare"][0] / seconds
    rows = [("bare Django JSON view", f"{bare_rate:.0f} req/s", "", str(results["bare"][2]))]
    if "batch" in results:
        rows.append(("collector, batches of 500 made in the request (`Prefer: "
                     "return=representation`, 201)",
                     f"{results['batch'][0] * 500 / seconds:.0f} msg/s made", ">= 5,000/s",
                     str(results["batch"][2])))
    if "single_made" in results:
        made_rate = results["single_made"][0] / seconds
        rows.append(("collector, single messages made in the request (`Prefer: "
                     "return=representation`, 201)", f"{made_rate:.0f} msg/s made",
                     f"{100 * made_rate / bare_rate:.0f}% of bare (no target: the default "
                     "path is the one above)", str(results["single_made"][2])))
    if "wechat" in results:
        lat = sorted(results["wechat"][1])
        p50 = statistics.median(lat) if lat else float("nan")
        p95 = lat[int(len(lat) * 0.95) - 1] if lat else float("nan")
        rows.append(("WeChat callback (safe mode), 1 client",
                     f"p50 {p50:.1f} ms, p95 {p95:.1f} ms", "< 50 ms",
                     str(results["wechat"][2])))
    load = os.getloadavg()
    for key, label, per in (("single", "single messages", 1),
                            ("batch_stored", "batches of 500", 500)):
        if key not in results:
            continue
        (_count, _lat, statuses), made, elapsed = results[key]
        accepted = statuses.get(202, 0) * per / seconds
        rate = made / elapsed
        rows.insert(1 if per == 1 else len(rows), (
                     f"collector, {label} (the default: stored, 202; drained alongside)",
                     f"{accepted:.0f} msg/s accepted; all {made} made "
                     f"{elapsed - seconds:.1f} s after the windows closed: "
                     f"{rate:.0f} msg/s end to end",
                     (f"{100 * accepted / bare_rate:.0f}% of bare accepted, "
                      f"{100 * rate / bare_rate:.0f}% end to end (>= 40%)" if per == 1
                      else "(the 5,000/s is counted made, in the request, above)"),
                     str(statuses)))
    lines = ["| measure | result | target | statuses |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    header = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
              f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, gunicorn "
              f"{os.environ.get('GUNICORN_WORKERS', 2 * (os.cpu_count() or 1))} workers x "
              f"{os.environ.get('GUNICORN_THREADS', '1')} threads, {args.clients} clients, "
              f"{args.seconds:.0f} s per measure, {args.rounds} round(s) interleaved")
    print(header)
    print("\n".join(lines))
    from inbox.models import Message, RawPayload

    Message.objects.filter(citizen_handle=MARK).delete()
    RawPayload.objects.filter(body__contains=MARK).delete()
    _vacuum()
    if not args.no_record:
        with open(ROOT / "bench" / "RESULTS.md", "a") as out:
            out.write(f"\n### Inbox ingestion over loopback ({header})\n\n"
                      + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
