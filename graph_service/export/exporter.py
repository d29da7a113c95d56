"""Prepare an export (decide what it holds, check its size), then stream it or write it to disk."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from graph_service.export.codebook import as_csv, entries
from graph_service.export.metadata import build_metadata
from graph_service.export.parquet import edges_table, nodes_table, parquet_readme
from graph_service.export.records import Schema
from graph_service.export.source import ExportError, ExportSpec, ExportTooLarge, Selection, select
from graph_service.export.textformats import CsvFlavour, csv_files, csv_readme, cypher, node_link
from graph_service.export.xmlformats import gexf, graphml
from graph_service.models import Organisation, slugify
from graph_service.store.base import GraphStore

#: Bytes gathered before a piece of output is handed on.
CHUNK_BYTES = 1 << 16


class ExportFormat(StrEnum):
    """The file formats of an export."""

    GRAPHML = "graphml"
    GEXF = "gexf"
    JSON = "json"
    CSV = "csv"
    CYPHER = "cypher"
    PARQUET = "parquet"


MEDIA_TYPES = {
    ExportFormat.GRAPHML: "application/graphml+xml",
    ExportFormat.GEXF: "application/gexf+xml",
    ExportFormat.JSON: "application/json",
    ExportFormat.CSV: "application/zip",
    ExportFormat.CYPHER: "text/plain; charset=utf-8",
    ExportFormat.PARQUET: "application/zip",
}
EXTENSIONS = {
    ExportFormat.GRAPHML: "graphml",
    ExportFormat.GEXF: "gexf",
    ExportFormat.JSON: "json",
    ExportFormat.CSV: "zip",
    ExportFormat.CYPHER: "cypher",
    ExportFormat.PARQUET: "parquet.zip",
}
#: Formats of several files: a zip, or a folder.
BUNDLES = frozenset({ExportFormat.CSV, ExportFormat.PARQUET})
_WRITERS = {ExportFormat.GRAPHML: graphml, ExportFormat.GEXF: gexf, ExportFormat.JSON: node_link}


def encoded(pieces: Iterable[str], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """UTF-8 chunks of about ``size`` bytes from many small strings."""
    buffer: list[str] = []
    held = 0
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(buffer).encode("utf-8", "replace")
            buffer.clear()
            held = 0
    if buffer:
        yield "".join(buffer).encode("utf-8", "replace")


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out as they come (zipfile streams into it)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zipped(members: Iterable[tuple[str, Callable[[], Iterator[bytes]]]]) -> Iterator[bytes]:
    """A zip archive of the members, produced as it is compressed (no temporary file)."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, produce in members:
            with archive.open(name, "w") as member:
                for chunk in produce():
                    member.write(chunk)
                    if data := pipe.take():
                        yield data
    if data := pipe.take():
        yield data


@dataclass
class PreparedExport:
    """An export whose content is decided; its bytes are produced when asked for."""

    fmt: ExportFormat
    csv_flavour: CsvFlavour
    selection: Selection
    schema: Schema
    metadata: dict[str, Any]

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]

    @property
    def filename(self) -> str:
        """A file name that says what the export holds, e.g. ``school-graph-la_code-330-2024-01-01.graphml``."""
        parts = ["school-graph"]
        for key, value in self.metadata["filters"].items():
            if key == "hops":
                continue
            text = "-".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(text if key == "as_at" else f"{key}-{slugify(text)}")
        if self.fmt is ExportFormat.CSV and self.csv_flavour is not CsvFlavour.PLAIN:
            parts.append(self.csv_flavour.value)
        return f"{'-'.join(parts)}.{EXTENSIONS[self.fmt]}"

    def files(self) -> list[tuple[str, Callable[[], Iterator[bytes]]]]:
        """CSV and Parquet exports: each file of the set, with metadata.json, codebook.csv and README.txt."""
        if self.fmt is ExportFormat.PARQUET:
            selection, schema, meta = self.selection, self.schema, self.metadata
            members = [
                ("nodes.parquet", lambda: iter([nodes_table(selection, schema, meta)])),
                ("edges.parquet", lambda: iter([edges_table(selection, schema, meta)])),
            ]
            readme = parquet_readme(self.metadata)
        else:
            members = [
                (name, _encode_later(produce))
                for name, produce in csv_files(self.selection, self.schema, self.csv_flavour)
            ]
            readme = csv_readme(self.metadata, self.csv_flavour)
        meta_text = json.dumps(self.metadata, indent=2, ensure_ascii=False) + "\n"
        members.append(("metadata.json", lambda: iter([meta_text.encode("utf-8")])))
        book = as_csv(entries(self.schema))
        members.append(("codebook.csv", lambda: iter([book.encode("utf-8")])))
        members.append(("README.txt", lambda: iter([readme.encode("utf-8")])))
        return members

    def chunks(self) -> Iterator[bytes]:
        """The whole file (a zip for CSV), chunk by chunk."""
        if self.fmt in BUNDLES:
            return zipped(self.files())
        if self.fmt is ExportFormat.CYPHER:
            return encoded(cypher(self.selection, self.schema, self.metadata))
        return encoded(_WRITERS[self.fmt](self.selection, self.schema, self.metadata))


def _encode_later(produce: Callable[[], Iterator[str]]) -> Callable[[], Iterator[bytes]]:
    return lambda: encoded(produce())


def prepare_export(
    store: GraphStore,
    spec: ExportSpec,
    fmt: ExportFormat,
    csv_flavour: CsvFlavour = CsvFlavour.PLAIN,
    max_items: int | None = None,
) -> PreparedExport:
    """Decide what the export holds and check it is not too large; nothing is written yet.

    Raises :class:`ExportError` when the area matches nothing and
    :class:`ExportTooLarge` when nodes plus edges exceed ``max_items``.
    """
    schema = Schema()
    locations: dict[str, tuple[float, float]] = {}

    def seen(organisations: list[Organisation]) -> None:
        schema.add_organisations(organisations)
        if fmt is ExportFormat.GEXF:
            locations.update(
                (org.id, (org.latitude, org.longitude))
                for org in organisations
                if org.latitude is not None and org.longitude is not None
            )

    selection = select(store, spec, on_organisations=seen)
    selection.locations = locations
    nodes, edges = selection.counts
    if max_items is not None and nodes + edges > max_items:
        raise ExportTooLarge(
            f"the export would hold {nodes} organisations and {edges} ties ({nodes + edges} in all),"
            f" more than the limit of {max_items}: choose an area, a kind of tie or a date"
        )
    schema.add_ties(selection.ties)
    schema = schema.ordered()
    meta = build_metadata(store, spec, selection, schema, fmt.value)
    if fmt is ExportFormat.CSV:
        meta["csv_flavour"] = csv_flavour.value
    return PreparedExport(fmt, csv_flavour, selection, schema, meta)


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write a file under a temporary name and rename it, so a failure leaves no half file.

    What is not a regular file (a FIFO, a device such as ``/dev/stdout``, or a link to one) is
    written through, never replaced by a file; a link to a regular file keeps pointing at it.
    A file that cannot be written is an :class:`ExportError` (``/dev/full``: no space left).
    """
    try:
        try:
            mode: int | None = path.stat().st_mode  # through links
        except FileNotFoundError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            raise ExportError(f"{path}: is a directory; give a file name")
        if mode is not None and not stat.S_ISREG(mode):
            with path.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            return
        target = path.resolve() if path.is_symlink() else path
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        try:
            with partial.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_export(prepared: PreparedExport, path: Path) -> list[Path]:
    """Write the export; CSV and Parquet go to a directory, or to a zip when ``path`` ends in ``.zip``.

    Returns the files written.
    """
    if prepared.fmt in BUNDLES and path.suffix.lower() != ".zip":
        path.mkdir(parents=True, exist_ok=True)
        written = []
        for name, produce in prepared.files():
            _write_atomically(path / name, produce())
            written.append(path / name)
        return written
    _write_atomically(path, prepared.chunks())
    return [path]
