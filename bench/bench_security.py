"""Security benchmarks (issue 8, item 5): the revision diff of a 20,000-character post
over 100 revisions, old (difflib) against the bounded diff.

    .venv/bin/python -m bench.bench_security [--revisions 100] [--chars 20000] [--old]

Pure Python, no database. Prints a table; the caller copies it into RESULTS.md (own
section, with date, machine and load average). Budget: every diff under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time

import django

BUDGET_MS = 200


def revisions(chars: int, count: int, seed: int = 2026) -> list[str]:
    """A Chinese post and `count` successive edits: each replaces, inserts or deletes
    a few short runs in random places, as reviewers' rounds do."""
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)] + list("，。、；：\n")
    text = "".join(rng.choice(alphabet) for _ in range(chars))
    out = [text]
    for _ in range(count - 1):
        chars_ = list(out[-1])
        for _edit in range(rng.randint(1, 6)):
            at = rng.randrange(len(chars_))
            run = rng.randint(1, 40)
            kind = rng.choice(("replace", "insert", "delete"))
            new = [rng.choice(alphabet) for _ in range(run)]
            if kind == "replace":
                chars_[at : at + run] = new
            elif kind == "insert":
                chars_[at:at] = new
            else:
                del chars_[at : at + run]
        out.append("".join(chars_))
    return out


def old_difflib(old: str, new: str) -> int:
    import difflib

    return len(difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--revisions", type=int, default=100)
    parser.add_argument("--chars", type=int, default=20_000)
    parser.add_argument("--old", action="store_true", help="also time difflib (slow)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from moderation.selectors import revision_diff_html

    texts = revisions(args.chars, args.revisions)
    pairs = list(zip(texts, texts[1:], strict=False))
    pairs.append((texts[0], texts[-1]))  # first against last: the largest difference
    timings = []
    for old, new in pairs:
        started = time.perf_counter()
        revision_diff_html(old, new)
        timings.append((time.perf_counter() - started) * 1000)
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{len(pairs)} diffs of ~{args.chars} characters ({args.revisions} revisions)")
    print(
        f"bounded diff: median {statistics.median(timings):.1f} ms, "
        f"max {max(timings):.1f} ms, first-vs-last {timings[-1]:.1f} ms, "
        f"budget {BUDGET_MS} ms: {'ok' if max(timings) < BUDGET_MS else 'OVER BUDGET'}"
    )
    if args.old:
        started = time.perf_counter()
        old_difflib(texts[0], texts[-1])
        print(f"difflib (before), first-vs-last: {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
