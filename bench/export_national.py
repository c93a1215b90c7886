"""The national ledger export as a job (issue 9): 200,000 accounts, XLSX and CSV.

    .venv/bin/python -m bench.export_national [--format xlsx|csv]

Creates the job as the web request would (for `syn-national`, demo/scale_ops.py),
runs it as the Celery worker does (exportjobs.services.export_job_run, in this
process), then checks the download (the file opens, its rows) and prints rows,
seconds, file size and the process's peak resident memory (ru_maxrss) before and
after. Prints; add the line to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", default="xlsx", choices=["xlsx", "csv"])
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from common import exports
    from exportjobs import services
    from exportjobs.models import ExportJob

    user = User.objects.get(username="syn-national")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = exports.build("ledger", user, {})
    total = table.count()
    with transaction.atomic():
        job = services.export_job_create(
            user=user, kind="ledger", params={}, file_format=args.format, total=total,
            title=str(table.title), organization_name=table.organization, actor=user,
        )
        transaction.on_commit(lambda: None)
    ExportJob.objects.filter(pk=job.pk).update(state="queued")
    started = time.perf_counter()
    done = services.export_job_run(str(job.pk))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = os.path.join(settings.MEDIA_ROOT, done.file_path)
    if args.format == "xlsx":
        import openpyxl

        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = sheet.max_row - 1
    else:
        with open(path, encoding="utf-8-sig") as f:
            rows = sum(1 for _ in f) - 1
    print(
        f"national ledger export ({args.format}): job {done.state}, {done.done} rows "
        f"written, {rows} rows read back, expected {total}; {seconds:.1f} s; file "
        f"{done.size / 1e6:.1f} MB ({done.file_name}); peak RSS {before:.0f} MB before, "
        f"{peak:.0f} MB after; load average {os.getloadavg()[0]:.1f}"
    )
    return 0 if done.state == "done" and rows == total else 1


if __name__ == "__main__":
    sys.exit(main())
