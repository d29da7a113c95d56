"""The ``graph-service`` command line: one module per group of verbs (see ``commands``)."""

from __future__ import annotations

from graph_service.cli.main import (
    SAMPLE_FILES,
    load_sample,
    load_sample_first,
    load_sample_newest,
    load_sample_ofsted,
    main,
    print_rows,
    sample_path,
)

__all__ = [
    "SAMPLE_FILES",
    "load_sample",
    "load_sample_first",
    "load_sample_newest",
    "load_sample_ofsted",
    "main",
    "print_rows",
    "sample_path",
]
