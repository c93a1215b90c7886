"""Fill the Chinese catalogue from tools/zh_translations.py.

    .venv/bin/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
    .venv/bin/python tools/po_fill.py            # fill msgstr, drop fuzzy, report missing
    .venv/bin/python tools/po_fill.py --missing  # print untranslated msgids as dict entries
    .venv/bin/python manage.py compilemessages --ignore=.venv

The translations live in a plain dict (msgid -> msgstr, or a tuple of plural forms;
Chinese has one plural form) so they survive `makemessages` rewriting the .po file.
A small parser is enough for the subset of PO that xgettext writes; it keeps every
comment and reference line as it is.
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


def fill(entries: list[Entry], table: dict) -> list[Entry]:
    """Fill from `table`; returns the entries still untranslated."""
    missing = []
    for e in messages(entries):
        key = e.msgid if e.msgctxt is None else (e.msgctxt, e.msgid)
        value = table.get(key)
        if value is None:
            if not e.translated or e.fuzzy:
                missing.append(e)
            continue
        if e.msgid_plural is not None:
            forms = value if isinstance(value, tuple) else (value,)
            e.msgstr_plural = {0: forms[0]}
        else:
            e.msgstr = value
        e.drop_fuzzy()
    return missing


def _header_for_chinese(entries: list[Entry]) -> None:
    for e in entries:
        if e.msgid == "" and not e.obsolete:
            lines = e.msgstr.splitlines(keepends=True)
            out = []
            for line in lines:
                if line.startswith("Project-Id-Version:"):
                    line = "Project-Id-Version: govmedia\n"
                elif line.startswith("PO-Revision-Date:") and "YEAR" in line:
                    line = line.replace(
                        "YEAR-MO-DA HO:MI+ZONE", "2026-01-01 00:00+0800"
                    )
                elif line.startswith("Last-Translator:"):
                    line = "Last-Translator: govmedia <govmedia@localhost>\n"
                elif line.startswith("Language-Team:"):
                    line = "Language-Team: Chinese (Simplified)\n"
                elif line.startswith("Plural-Forms:"):
                    line = "Plural-Forms: nplurals=1; plural=0;\n"
                elif line.startswith("Language:"):
                    line = "Language: zh_Hans\n"
                elif line.startswith("Content-Type:"):
                    line = "Content-Type: text/plain; charset=UTF-8\n"
                out.append(line)
            e.msgstr = "".join(out)
            e.drop_fuzzy()
            e.comments = [
                "# Simplified Chinese UI of the govmedia platform (tools/po_fill.py)."
            ]
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Fill locale/zh_Hans from tools/zh_translations.py"
    )
    parser.add_argument(
        "--missing", action="store_true", help="print missing msgids and exit"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tools.zh_translations import ZH

    entries = load()
    _header_for_chinese(entries)
    # Plural entries carry a single form in Chinese.
    for e in messages(entries):
        if e.msgid_plural is not None:
            e.msgstr_plural = {0: e.msgstr_plural.get(0, "")}
    missing = fill(entries, ZH)
    if args.missing:
        for e in missing:
            key = repr(e.msgid) if e.msgctxt is None else repr((e.msgctxt, e.msgid))
            print(
                f'    {key}: {"(" if e.msgid_plural else ""}""{",)" if e.msgid_plural else ""},'
            )
        return 0
    ZH_PO.write_text(serialize(entries), encoding="utf-8")
    total = len(messages(entries))
    print(f"{total - len(missing)}/{total} translated; {len(missing)} missing")
    for e in missing:
        print("  missing:", repr(e.msgid))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
