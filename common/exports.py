"""The one export writer of the platform: every CSV/XLSX a user downloads comes from here.

An export is a `Table`: a title (it names the file), columns (a header and a kind that
says how a value is written) and an iterable of raw rows in column order. The writer
owns how a cell reads, so every export reads the same way:

- codes with labels (`Column(labels=...)`) are written as their labels;
- datetimes in local time (Asia/Shanghai), to the second, no microseconds; dates ISO;
- booleans as 是/否 (Yes/No in English);
- None as an empty cell; dicts and lists as JSON (not escaped);
- SECURITY: text starting with = + - @ (or a tab / carriage return) is neutralised
  with a leading apostrophe, so no cell runs as a formula in a spreadsheet program;
- XLSX has a bold, frozen header row and an autofilter; CSV is UTF-8 with a BOM.

Files are named `<organization>_<title>_<YYYYMMDD>.<ext>`, e.g.
`云岭省_转发任务完成情况_20261128.xlsx`.

Writing is streamed (CSV to the client, XLSX by XlsxWriter in constant-memory mode to
a temporary file) so memory does not grow with rows. An export whose row count is
above `EXPORT_SYNC_MAX_ROWS` (default 5,000) never runs inside a web request: it
becomes an `ExportJob` run by Celery (queue "exports") with progress, and the file
is kept under MEDIA_ROOT/exports/ until it expires (`EXPORT_TTL_HOURS`). Jobs are
audited (requested, downloaded).

Usage from a view (the kind is registered once, so the worker can rebuild the same
table from the user and the query parameters)::

    exports.register("ledger", build_ledger_table)   # build(user, params) -> Table
    return exports.respond(request, "ledger", request.GET, "xlsx")            # page
    return exports.respond(request, "ledger", request.GET, "csv", api=True)   # API
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import (
    FileResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from common.errors import ValidationFailed

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 2000  # rows between two progress writes of a job


# --- what an export is --------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column: its header and how its values are written.

    kind: "text" (default), "number", "datetime", "date", "bool", "json".
    labels: code -> label (lazy strings welcome); a code without a label is written
    as itself.
    """

    header: Any
    kind: str = "text"
    labels: Mapping | None = None
    width: int | None = None  # XLSX column width in characters


@dataclass
class Table:
    """What is exported: title (names the file and the sheet), columns, raw rows.

    `count` answers the number of rows (a COUNT query, say) without reading them;
    `organization` is the name the file starts with (the scope's organization).
    """

    title: Any
    columns: Sequence[Column]
    rows: Iterable[Sequence]
    count: Callable[[], int] | None = None
    organization: str = ""
    extra: dict = field(default_factory=dict)

    def headers(self) -> list[str]:
        return [str(c.header) for c in self.columns]


# --- cells ----------------------------------------------------------------------------
def neutralise(text: str) -> str:
    """SECURITY: text that a spreadsheet would read as a formula gets a leading '."""
    if text and text[0] in FORMULA_PREFIXES:
        return "'" + text
    return text


def local_datetime(value: datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _converter(column: Column) -> Callable[[Any], Any]:
    """A function from a raw value to the cell, built once per column and export."""
    yes, no = _("Yes"), _("No")
    labels = (
        {code: str(label) for code, label in column.labels.items()}
        if column.labels
        else None
    )

    def convert(value):
        if value is None:
            return ""
        if labels is not None:
            value = labels.get(value, value)
        if isinstance(value, bool):
            return yes if value else no
        if isinstance(value, datetime):
            return local_datetime(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        return neutralise(str(value))

    return convert


def cells(table: Table) -> Iterator[list]:
    """The rows of `table` as written cells (str/int/float), in order."""
    converters = [_converter(c) for c in table.columns]
    for row in table.rows:
        yield [convert(value) for convert, value in zip(converters, row, strict=True)]


def cell(value, column: Column | None = None):
    """One value as the writer writes it (for tests and one-off uses)."""
    return _converter(column or Column("")).__call__(value)


# --- file names -----------------------------------------------------------------------
def file_name(table: Table, file_format: str, day: date | None = None) -> str:
    """`<organization>_<title>_<YYYYMMDD>.<ext>`; characters a file system refuses are
    replaced."""
    day = day or timezone.localdate()
    parts = [p for p in (table.organization, str(table.title)) if p]
    stem = "_".join(parts + [day.strftime("%Y%m%d")])
    for bad in '/\\:*?"<>|\r\n\t':
        stem = stem.replace(bad, "-")
    return f"{stem}.{file_format}"


# --- writers --------------------------------------------------------------------------
class _Echo:
    def write(self, value):
        return value


def csv_chunks(table: Table, progress: Callable[[int], None] | None = None):
    """The CSV text (UTF-8 BOM first, so Excel reads Chinese) in pieces of ~500 rows."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(table.headers())
    buffer = []
    count = 0
    for count, row in enumerate(cells(table), start=1):
        buffer.append(writer.writerow(row))
        if len(buffer) >= 500:
            yield "".join(buffer)
            buffer = []
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    if buffer:
        yield "".join(buffer)
    if progress:
        progress(count)


def write_csv(table: Table, path: str, progress=None) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for piece in csv_chunks(table, progress):
            handle.write(piece)
            rows += piece.count("\n") if piece != "\ufeff" else 0
    return max(rows - 1, 0)


def write_xlsx(table: Table, path: str, progress=None) -> int:
    """Write `table` to `path` in constant memory; returns the number of data rows."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "tmpdir": tmp_dir(),
            "strings_to_numbers": False,
            "strings_to_formulas": False,  # SECURITY: a cell is never a formula
            "strings_to_urls": False,
        },
    )
    title = str(table.title)
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    sheet = workbook.add_worksheet(title[:31] or "Sheet1")
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF1F5", "border": 1})
    headers = table.headers()
    for i, column in enumerate(table.columns):
        width = column.width or max(10, min(40, 2 * len(headers[i]) + 2))
        sheet.set_column(i, i, width)
    sheet.write_row(0, 0, headers, bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(cells(table), start=1):
        sheet.write_row(count, 0, row)
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    sheet.autofilter(0, 0, max(count, 1), max(len(headers) - 1, 0))
    workbook.close()
    if progress:
        progress(count)
    return count


def write_file(table: Table, path: str, file_format: str, progress=None) -> int:
    if file_format == "xlsx":
        return write_xlsx(table, path, progress)
    return write_csv(table, path, progress)


def tmp_dir() -> str:
    path = os.path.join(settings.VAR_DIR, "tmp")
    os.makedirs(path, exist_ok=True)
    return path


def response(table: Table, file_format: str):
    """The file as an HTTP response inside the request: CSV streamed, XLSX written to
    a temporary file that is streamed and removed."""
    name = file_name(table, file_format)
    if file_format == "csv":
        resp = StreamingHttpResponse(
            csv_chunks(table), content_type=CONTENT_TYPES["csv"]
        )
        resp["Content-Disposition"] = content_disposition_header(True, name)
        return resp
    handle, path = tempfile.mkstemp(prefix="export-", suffix=".xlsx", dir=tmp_dir())
    os.close(handle)
    try:
        write_xlsx(table, path)
        stream = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    finally:
        os.unlink(path)  # POSIX: the open handle keeps the data until it is closed
    return FileResponse(
        stream, as_attachment=True, filename=name, content_type=CONTENT_TYPES["xlsx"]
    )


def csv_stream(filename: str, header: list, rows, *, title=None, organization=""):
    """A small CSV streamed inside the request through the one writer (formula-safe,
    BOM for Excel): for lists whose rows the caller already formats. `filename` gives
    the title when no `title` is passed (its stem)."""
    stem = title if title is not None else filename.rsplit(".", 1)[0]
    table = Table(
        title=stem,
        columns=[Column(h) for h in header],
        rows=rows,
        organization=organization,
    )
    return response(table, "csv")


# --- kinds: exports a worker can rebuild ----------------------------------------------
_KINDS: dict[str, Callable[[Any, QueryDict], Table] | str] = {}


def register(kind: str, build: Callable[[Any, QueryDict], Table] | str) -> None:
    """Register how to build the table of `kind` from (user, query parameters):
    a function, or its dotted path (imported when first used, so an app can
    register from its AppConfig.ready() without importing its API module).

    `build` applies the user's scope and validates the parameters (raising
    ApplicationError: 400 / 403 / 404); it must not read anything else from a request,
    because a Celery worker calls it again to run a job."""
    _KINDS[kind] = build


def build(kind: str, user, params) -> Table:
    if kind not in _KINDS:
        raise ValidationFailed(_("Unknown export."), fields={"kind": [kind]})
    builder = _KINDS[kind]
    if isinstance(builder, str):
        from django.utils.module_loading import import_string

        builder = _KINDS[kind] = import_string(builder)
    return builder(user, as_querydict(params))


def viewset_queryset(viewset_class, user, params, action: str = "export"):
    """The queryset an API viewset's `action` answers for `user` and `params`, built
    without a web request (a worker rebuilding a job): the viewset's own scoping
    (get_queryset) and filters (filter_queryset) apply, so a job exports exactly
    what the endpoint would."""
    from django.http import HttpRequest
    from rest_framework.request import Request

    http = HttpRequest()
    http.method = "GET"
    http.GET = as_querydict(params)
    request = Request(http)
    request.user = user
    view = viewset_class()
    view.request, view.action, view.format_kwarg = request, action, None
    view.args, view.kwargs = (), {}
    return view.filter_queryset(view.get_queryset())


def person(relation: str):
    """A person's name as pages print it (User.__str__: the display name, else the
    username), as an expression for `values_list` over `relation` (e.g.
    "granted_by"): no query per row."""
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce, NullIf

    return Coalesce(
        NullIf(F(f"{relation}__display_name"), Value("")), F(f"{relation}__username")
    )


def kinds() -> frozenset[str]:
    return frozenset(_KINDS)


def as_querydict(params) -> QueryDict:
    if isinstance(params, QueryDict):
        return params
    query = QueryDict(mutable=True)
    for key, values in (params or {}).items():
        query.setlist(key, values if isinstance(values, list) else [values])
    query._mutable = False
    return query


def params_to_json(params) -> dict[str, list[str]]:
    params = as_querydict(params)
    return {key: params.getlist(key) for key in params if key != "page"}


def sync_max_rows() -> int:
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", 5000))


def respond(request, kind: str, params, file_format: str, *, api: bool = False):
    """Export `kind` for the signed-in user: the file itself when it is small, else a
    job (a redirect to its page, or 202 with its URLs from the API).

    Raises ApplicationError for bad parameters or a refused scope (the caller's
    error handling answers 400/403/404)."""
    if file_format not in FORMATS:
        raise ValidationFailed(
            _("The file format must be csv or xlsx."),
            fields={"file_format": [_("Choose csv or xlsx.")]},
        )
    table = build(kind, request.user, params)
    total = table.count() if table.count is not None else 0
    if total <= sync_max_rows():
        return response(table, file_format)
    from exportjobs.services import export_job_create

    job = export_job_create(
        user=request.user,
        kind=kind,
        params=params_to_json(params),
        file_format=file_format,
        total=total,
        title=str(table.title),
        organization_name=table.organization,
        actor=request.user,
    )
    if api:
        return JsonResponse(job_json(job), status=202)
    return HttpResponseRedirect(reverse("exports:detail", args=[job.pk]))


def job_json(job) -> dict:
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "file_format": job.file_format,
        "state": job.state,
        "total": job.total,
        "done": job.done,
        "percent": job.percent,
        "file_name": job.file_name,
        "size": job.size,
        "error": job.error,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "status_url": reverse("exports:status", args=[job.pk]),
        "download_url": (
            reverse("exports:download", args=[job.pk]) if job.downloadable else None
        ),
    }


def scope_label(user, action=None, domain=None, organization=None) -> str:
    """The organization a file is named after: the filter's organization when there
    is one, else the one root of the user's scope; several provinces read 全国
    (nationwide), other sets the first root's name with 等. No query: the user's
    memberships are already loaded by the scope."""
    from accounts.scoping import Action, Domain, memberships_of, scope_for

    if organization is not None:
        return organization.short_name or organization.name
    scope = scope_for(user, action or Action.VIEW, domain or Domain.BUSINESS)
    roots = scope.roots()
    if not roots:
        return ""
    names = {
        m.organization.path: (m.organization.short_name or m.organization.name)
        for m in memberships_of(user)
    }
    if len(roots) == 1:
        return names.get(roots[0], "")
    if all(len(p) == len(roots[0]) == 4 for p in roots):
        return _("Nationwide")
    return _("%(name)s etc.") % {"name": names.get(roots[0], "")}
