"""What every loader shares: reading files safely, and reporting bad input."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from graph_service.models import AuditEntry, check_text
from graph_service.spreadsheet import neutralise
from graph_service.store.base import GraphStore, WriteBatch, WriteResult

csv.field_size_limit(10_000_000)

#: Largest a file may be once decompressed, unless GRAPH_SERVICE_MAX_EXPANDED_BYTES says otherwise:
#: whole England is 49 MB, so this leaves five times that, while a gzip bomb stops long before memory does.
DEFAULT_MAX_EXPANDED_BYTES = 268_435_456
_EXPANDED_LIMIT: ContextVar[int | None] = ContextVar("expanded_limit", default=None)
#: The key a row of the wrong length carries in the dict ``read_csv`` yields: why it is wrong.
WRONG_LENGTH = "__wrong_length__"
_READ_CHUNK = 1 << 20
_DECODED_UTF8 = re.compile("[^\x00-\x7f\udc80-\udcff]")


def max_expanded_bytes() -> int:
    """The limit in force: set by :func:`expanded_limit`, else from the environment, else the default."""
    limit = _EXPANDED_LIMIT.get()
    if limit is not None:
        return limit
    configured = os.environ.get("GRAPH_SERVICE_MAX_EXPANDED_BYTES", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else DEFAULT_MAX_EXPANDED_BYTES


@contextmanager
def expanded_limit(limit: int) -> Iterator[None]:
    """Read files with at most ``limit`` bytes once decompressed (the API passes its setting)."""
    token = _EXPANDED_LIMIT.set(limit)
    try:
        yield
    finally:
        _EXPANDED_LIMIT.reset(token)


class LoadError(Exception):
    """A whole file cannot be loaded; the message is one line for the user."""


@dataclass(frozen=True)
class LoadIssue:
    """One bad row: where it is and what is wrong with it."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        column = f", column {self.column!r}" if self.column else ""
        return f"{self.file}:{self.line}{column}: {self.reason}"


class StrictModeError(LoadError):
    """``--strict`` refused a file at its first bad row."""

    def __init__(self, issue: LoadIssue) -> None:
        super().__init__(f"refused (strict): {issue}")
        self.issue = issue


@dataclass
class LoadReport:
    """What a load read, wrote and rejected."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0
    organisations: int = 0
    ties: int = 0
    ties_ended: int = 0
    issues: list[LoadIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    result: WriteResult | None = None
    dry_run: bool = False

    def summary(self) -> str:
        lines = [
            f"files: {', '.join(self.files)}",
            f"rows read: {self.rows_read}, rejected: {self.rows_rejected}",
            f"organisations in load: {self.organisations}, ties: {self.ties}, ties ended: {self.ties_ended}",
        ]
        if self.dry_run:
            lines.append("dry run: nothing was written")
        elif self.result is not None:
            r = self.result
            lines.append(
                f"written: {r.organisations_created} organisations created, {r.organisations_updated} updated, "
                f"{r.ties_created} ties created, {r.ties_updated} updated, {r.ties_ended} ended"
            )
        lines.extend(self.notes)
        return "\n".join(lines)

    def write_issues(self, path: Path) -> None:
        try:
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["file", "line", "column", "reason"])
                for issue in self.issues:
                    writer.writerow(
                        [neutralise(str(value)) for value in (issue.file, issue.line, issue.column, issue.reason)]
                    )
        except OSError as exc:
            raise LoadError(f"{path}: cannot write the report of rejected rows ({exc.strerror})") from None


class IssueCollector:
    """Collects bad rows, or raises at the first one in strict mode."""

    def __init__(self, report: LoadReport, strict: bool) -> None:
        self.report = report
        self.strict = strict

    def add(self, file: str, line: int, column: str, reason: str) -> None:
        issue = LoadIssue(file, line, column, reason)
        if self.strict:
            raise StrictModeError(issue)
        self.report.issues.append(issue)


class CheckedRow:
    """One row of a loaded file: its cells, and its problems reported to the collector.

    A row with more or fewer values than the header (``read_csv`` marks it) is bad from the
    start: a short row would read as empty cells, a long one shifted. Loaders add their own
    typed readers of cells; ``ok`` says whether every one read so far was good.
    """

    def __init__(self, row: dict[str, str], file: str, line: int, issues: IssueCollector) -> None:
        self.row = row
        self.file = file
        self.line = line
        self.issues = issues
        self.ok = True
        wrong_length = row.get(WRONG_LENGTH)
        if wrong_length:
            self.bad("", wrong_length)

    def bad(self, column: str, reason: str) -> None:
        self.ok = False
        self.issues.add(self.file, self.line, column, reason)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzipped, refused once larger than the limit.

    Decompression is streamed: a small file that expands to gigabytes stops at the limit.
    """
    try:
        check_text("the file name", path.name)
    except ValueError as exc:
        # The name is recorded as the records' source and printed in exports' headers.
        raise LoadError(f"{str(path)!r}: {exc}; rename the file") from None
    limit = max_expanded_bytes()
    too_big = f"{path}: larger than {limit:,} bytes once decompressed (GRAPH_SERVICE_MAX_EXPANDED_BYTES)"
    try:
        with path.open("rb") as handle:
            if handle.read(2) != b"\x1f\x8b":
                if os.fstat(handle.fileno()).st_size > limit:
                    raise LoadError(too_big.replace(" once decompressed", ""))
                handle.seek(0)
                return handle.read()
            handle.seek(0)
            raw = bytearray()
            try:
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    while chunk := unzipped.read(_READ_CHUNK):
                        raw += chunk
                        if len(raw) > limit:
                            raise LoadError(too_big)
            except (EOFError, OSError, zlib.error) as exc:
                raise LoadError(f"{path}: the gzip file is truncated or corrupt ({exc})") from None
            return bytes(raw)
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None


def read_text(path: Path) -> str:
    """The file's text: gzip or plain, UTF-8 (with or without BOM) or cp1252, never a mix.

    A UTF-8 file with one stray byte of another encoding is refused with its line, rather
    than read wholly as cp1252 (which would garble every accented name in it).
    """
    raw = read_bytes(path)
    if not raw.strip():
        raise LoadError(f"{path}: the file is empty")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError(f"{path}: cannot decode as UTF-16 ({exc.reason})") from None
    if b"\x00" in raw:
        raise LoadError(f"{path}: {_nul_reason(raw)}")
    bom = 3 if raw[:3] == b"\xef\xbb\xbf" else 0
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start + bom  # utf-8-sig counts from after the BOM
    if _has_utf8_sequences(raw):
        line = raw.count(b"\n", 0, first_bad) + 1
        raise LoadError(
            f"{path}:{line}: byte 0x{raw[first_bad]:02x} is not UTF-8, though the rest of the file is UTF-8:"
            " the file mixes encodings; fix that line, or save the whole file as UTF-8"
        )
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LoadError(
            f"{path}:{line}: the file is neither UTF-8 nor Windows-1252 text (byte 0x{raw[exc.start]:02x})"
        ) from None


def _has_utf8_sequences(raw: bytes) -> bool:
    """Whether the bytes hold a multi-byte UTF-8 character (a UTF-8 file), not only single bytes (cp1252).

    >>> _has_utf8_sequences("Café".encode() + bytes([0x92])), _has_utf8_sequences("Café".encode("cp1252"))
    (True, False)
    """
    # Undecodable bytes become lone surrogates; any other non-ASCII character came from valid UTF-8.
    return _DECODED_UTF8.search(raw.decode("utf-8", errors="surrogateescape")) is not None


def _nul_reason(raw: bytes) -> str:
    """Why bytes holding NULs are not a text file this loader reads."""
    sample = raw[:4096]
    half = len(sample) // 2
    # UTF-16 text of Latin letters has a NUL in every other byte.
    if half and max(sample[0::2].count(0), sample[1::2].count(0)) > 0.9 * half:
        return "UTF-16 text without a byte-order mark; save it as UTF-8 (or UTF-16 with BOM)"
    return "binary content, not a CSV or JSON text file"


def read_csv(path: Path, required: Sequence[str], what: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a CSV file, after checking its header.

    Values are as in the file, not stripped: a loader strips the few it reads,
    which is much cheaper than stripping all 135 columns of a GIAS row.
    """
    text = read_text(path)
    if "\x00" in text:
        raise LoadError(f"{path}: binary content, not a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise LoadError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise LoadError(f"{path}: not a readable CSV file ({exc})") from None
    missing = [name for name in required if name not in header]
    if missing:
        raise LoadError(f"{path}: wrong header for {what}: missing column(s) {', '.join(repr(m) for m in missing)}")
    duplicated = duplicated_names(header)
    if duplicated:
        raise LoadError(f"{path}: duplicated column(s) in header: {', '.join(duplicated)}")
    width = len(header)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for values in reader:
                if not "".join(values).strip():
                    continue
                row = dict(zip(header, values, strict=False))
                if len(values) != width:
                    # A short row (a file cut mid-row) would blank the columns it lacks; a long one
                    # has shifted values. Either way the loader rejects it, naming the row.
                    row[WRONG_LENGTH] = f"{len(values)} value(s) where the header has {width} column(s)"
                yield reader.line_num, row
        except csv.Error as exc:
            raise LoadError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None

    return header, rows()


def duplicated_names(names: Sequence[str], shown: int = 20) -> list[str]:
    """Names given more than once (the first ``shown`` of them, sorted), in linear time.

    >>> duplicated_names(["URN", "Name", "URN"])
    ['URN']
    """
    return sorted(name for name, count in Counter(names).items() if count > 1)[:shown]


def parse_date(text: str) -> date | None:
    """A GIAS (dd-mm-yyyy or dd/mm/yyyy) or ISO date; blank is ``None``.

    >>> parse_date("31-12-2011"), parse_date("01/09/2020"), parse_date("2024-05-01"), parse_date("")
    (datetime.date(2011, 12, 31), datetime.date(2020, 9, 1), datetime.date(2024, 5, 1), None)
    """
    text = text.strip()
    if not text:
        return None
    # Fast path for the 10-character forms (most of a GIAS file); strptime is slow.
    digits = text[:2] + text[3:5] + text[6:]
    if len(text) == 10 and text[2] == text[5] and text[2] in "-/" and digits.isascii() and digits.isdigit():
        try:
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        except ValueError:
            raise ValueError(f"{text!r} is not a date (no such day or month)") from None
    if len(text) == 10 and text[4] == text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (no such day or month)") from None
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (expected dd-mm-yyyy or yyyy-mm-dd)")


#: Makes the audit entry of a load from its report (checked, not yet written), so that the
#: entry is written in the load's own transaction: both or neither.
AuditOf = Callable[["LoadReport"], AuditEntry]


def write_load(store: GraphStore, batch: WriteBatch, report: LoadReport, audit: AuditOf | None = None) -> None:
    """Write a checked load as one ``apply`` (all or nothing), with its audit entry and a progress bar."""
    if audit is not None:
        batch.audit.append(audit(report))  # recorded in the load's own transaction
    progress = Progress(f"writing {len(batch):,} rows", len(batch))
    report.result = store.apply(batch, progress=progress)
    progress.done()


class Progress:
    """A plain progress bar on stderr, shown only on a terminal."""

    def __init__(self, label: str, total: int, enabled: bool | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        percent = min(100, done * 100 // self.total)
        if percent != self._last:
            self._last = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
            sys.stderr.flush()

    def __call__(self, done: int, total: int) -> None:
        """As a store's write progress: ``(rows written, rows to write)``."""
        self.total = max(total, 1)
        self.update(done)

    def done(self) -> None:
        if self.enabled:
            self.update(self.total)
            sys.stderr.write("\n")
