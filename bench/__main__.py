"""python -m bench [--database-url URL] [--only NAME ...] [--repeat K] [--no-record]"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--database-url", help="defaults to $DATABASE_URL (the settings' default)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument(
        "--repeat", type=int, default=15, help="warm runs per side (median)"
    )
    parser.add_argument(
        "--province", default="", help="path of the province to measure"
    )
    parser.add_argument(
        "--no-record", action="store_true", help="do not write bench/RESULTS.md"
    )
    parser.add_argument(
        "--list", action="store_true", help="list the benchmarks and exit"
    )
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench import runner
    from bench.registry import BENCHMARKS

    if args.list:
        runner.discover()
        for name, bm in sorted(BENCHMARKS.items()):
            print(
                f"{name}: {bm.description} (budget {bm.budget_ms:g} ms, ratio {bm.max_ratio:g})"
            )
        return 0
    results = runner.run(
        names=args.only,
        repeat=max(1, args.repeat),
        province_path=args.province,
        record=not args.no_record,
    )
    return 1 if any(r.status in ("MISMATCH", "ERROR") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
