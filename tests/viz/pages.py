"""Reading the page data back out of a rendered page, as the page's own script does; and the browser
suites' screenshots."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_PAGE_DATA = re.compile(r"\n  var pageData = (.*?);\n")


def page_json(page: str) -> dict[str, Any]:
    """The ``pageData`` object of a rendered page (the text must hold no ``<``: it sits in a script)."""
    found = _PAGE_DATA.search(page)
    assert found is not None, "no pageData in the page"
    assert "<" not in found.group(1)
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def node_ids(page: str) -> list[str]:
    data = page_json(page)
    index = data["nodeFields"].index("id")
    return [row[index] for row in data["nodes"]]


#: Where the browser suites write their screenshots (git-ignored; docs/viz.md lists them).
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "viz" / "workflows"


def shot(page: Any, name: str) -> None:
    """A screenshot of the page's viewport (1400x900) as ``OUTPUT/<name>.png``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=False)
