"""Research export: GraphML, GEXF, node-link JSON, CSV, Cypher and Parquet, and an importer to read most back.

>>> from graph_service.export import ExportFormat
>>> [f.value for f in ExportFormat]
['graphml', 'gexf', 'json', 'csv', 'cypher', 'parquet']
"""

from __future__ import annotations

from graph_service.export.exporter import (
    MEDIA_TYPES,
    ExportFormat,
    PreparedExport,
    prepare_export,
    write_export,
)
from graph_service.export.metadata import ATTRIBUTION
from graph_service.export.source import ExportError, ExportSpec, ExportTooLarge, build_spec
from graph_service.export.textformats import CsvFlavour

__all__ = [
    "ATTRIBUTION",
    "MEDIA_TYPES",
    "CsvFlavour",
    "ExportError",
    "ExportFormat",
    "ExportSpec",
    "ExportTooLarge",
    "PreparedExport",
    "build_spec",
    "prepare_export",
    "write_export",
]
