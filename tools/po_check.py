"""The Chinese catalogue is the one source of translations: check it is complete.

    make messages   # makemessages (no source locations), compilemessages, this check
    python tools/po_check.py --fill new.json   # write {"msgid": "中文"} entries

Translate by editing msgstr in locale/zh_Hans/LC_MESSAGES/django.po (Chinese has one
plural form), then `make messages` again. Entries carry no source locations, so two
branches that add strings in different files rarely touch the same lines; where they
do, `msgcat --use-first` of both sides merges them.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    comments: list[str] = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    obsolete: bool = False

    @property
    def fuzzy(self) -> bool:
        return any(c.startswith("#,") and "fuzzy" in c for c in self.comments)

    @property
    def translated(self) -> bool:
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)

    def drop_fuzzy(self) -> None:
        kept = []
        for c in self.comments:
            if c.startswith("#,"):
                flags = [
                    f.strip()
                    for f in c[2:].split(",")
                    if f.strip() and f.strip() != "fuzzy"
                ]
                if not flags:
                    continue
                c = "#, " + ", ".join(flags)
            if c.startswith("#|"):  # previous msgid of a fuzzy match
                continue
            kept.append(c)
        self.comments = kept


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def _quote(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def parse(text: str) -> list[Entry]:
    entries: list[Entry] = []
    current = Entry()
    key: tuple[str, int | None] | None = None
    started = False

    def flush():
        nonlocal current, key, started
        if started or current.comments:
            entries.append(current)
        current, key, started = Entry(), None, False

    for raw in text.splitlines():
        line = raw.rstrip("\n")
        if not line.strip():
            flush()
            continue
        if line.startswith("#~"):
            current.obsolete = True
            current.comments.append(line)
            continue
        if line.startswith("#"):
            if started:  # a comment after a msgstr starts a new entry
                flush()
            current.comments.append(line)
            continue
        if line.startswith('"'):
            value = _unquote(line)
            name, index = key
            if name == "msgstr" and index is not None:
                current.msgstr_plural[index] += value
            else:
                setattr(current, name, getattr(current, name) + value)
            continue
        word, _, rest = line.partition(" ")
        started = True
        if word.startswith("msgstr["):
            index = int(word[7:-1])
            current.msgstr_plural[index] = _unquote(rest)
            key = ("msgstr", index)
        elif word in {"msgctxt", "msgid", "msgid_plural", "msgstr"}:
            setattr(current, word, _unquote(rest))
            key = (word, None)
        else:
            raise ValueError(f"cannot parse PO line: {line!r}")
    flush()
    return entries


def _field(name: str, value: str) -> list[str]:
    if "\n" in value[:-1] or len(value) > 70:
        parts = value.splitlines(keepends=True) if "\n" in value[:-1] else [value]
        return [f'{name} ""'] + [_quote(p) for p in parts]
    return [f"{name} {_quote(value)}"]


def serialize(entries: list[Entry]) -> str:
    blocks = []
    for e in entries:
        lines = list(e.comments)
        if not e.obsolete:
            if e.msgctxt is not None:
                lines += _field("msgctxt", e.msgctxt)
            lines += _field("msgid", e.msgid)
            if e.msgid_plural is not None:
                lines += _field("msgid_plural", e.msgid_plural)
                for i in sorted(e.msgstr_plural):
                    lines += _field(f"msgstr[{i}]", e.msgstr_plural[i])
            else:
                lines += _field("msgstr", e.msgstr)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def load(path: Path = ZH_PO) -> list[Entry]:
    return parse(path.read_text(encoding="utf-8"))


def messages(entries: list[Entry]) -> list[Entry]:
    """The translatable entries: not the header, not obsolete ones."""
    return [e for e in entries if e.msgid and not e.obsolete]


def fill(translations: dict[str, str], path: Path = ZH_PO) -> int:
    """Write Chinese for the msgids in `translations` (a key "context\x04msgid" names a
    msgctxt); plural entries get the same text for Chinese's one form. Clears the
    fuzzy mark of each entry written. Returns how many were written."""
    entries = load(path)
    written = 0
    for e in entries:
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.obsolete or key not in translations:
            continue
        text = translations[key]
        if e.msgid_plural is not None:
            e.msgstr_plural = {0: text}
        else:
            e.msgstr = text
        e.drop_fuzzy()
        written += 1
    path.write_text(serialize(entries), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Report msgids of locale/zh_Hans that lack Chinese or are fuzzy"
    )
    parser.add_argument(
        "--fill", metavar="JSON", help='write translations from a JSON file {"msgid": "中文"}'
    )
    args = parser.parse_args(argv)
    if args.fill:
        import json

        with open(args.fill, encoding="utf-8") as f:
            print(f"filled {fill(json.load(f))} entries")
    entries = messages(load())
    missing = [e for e in entries if not e.translated or e.fuzzy]
    print(f"{len(entries) - len(missing)}/{len(entries)} translated; {len(missing)} to do")
    for e in missing:
        print("  to translate:", repr(e.msgid))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
