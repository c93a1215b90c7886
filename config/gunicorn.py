"""Gunicorn settings for `make run` and for the production image.

Everything comes from the environment so the same file serves both:
`make run` binds 127.0.0.1:$PORT, the container binds 0.0.0.0:8000 behind a proxy.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two processes per CPU, one thread each (README "Deployment", bench/RESULTS.md):
# pages are CPU work, so more workers neither help nor hurt them much (30 clients
# on the province ledger, 2 CPUs: 2 workers 96-110 pages/s, 4 workers 91-95/s,
# p95 370-392 ms either way), while a collector's delivery waits for its commit to
# reach the disk and a second worker per CPU uses that time (single deliveries 38%
# -> 47% of a bare view). Threads cost pages more (2 x 4: 84/s, p95 686 ms).
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1)
workers = int(os.environ.get("GUNICORN_WORKERS", str(DEFAULT_WORKERS)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Code reloading stays off: what runs is what was installed.
reload = False
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Only the reverse proxy in front may set X-Forwarded-* (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Heartbeat files in memory, not on a container's overlay filesystem.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
