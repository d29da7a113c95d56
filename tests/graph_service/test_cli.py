"""The graph-service command line, on the embedded store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph_service.cli import load_sample, main, sample_path
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(path))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    return path


def test_load_gias_birmingham_matches_the_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    establishments = sample_path("edubasealldata20250718_birmingham.csv")
    assert main(["load", "gias", str(establishments)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"store: the embedded store file {db}\n") and "rejected: 0" in out
    rows = list(csv.DictReader(establishments.open(encoding="utf-8")))
    store = EmbeddedStore(db)
    store.open()
    counts = store.counts()
    providers = counts.get("school", 0) + counts.get("fe_college", 0) + counts.get("community_partner", 0)
    assert providers == len(rows)
    from graph_service.models import NodeKind, Status
    from graph_service.store import OrganisationFilter

    _, open_schools = store.list_organisations(
        OrganisationFilter(
            kinds=[NodeKind.SCHOOL, NodeKind.FE_COLLEGE, NodeKind.COMMUNITY_PARTNER], statuses=[Status.OPEN]
        )
    )
    assert open_schools == sum(1 for r in rows if r["EstablishmentStatus (name)"] == "Open")
    trust_ties = [t for t in store.all_ties() if t.target_id.startswith("group-") and t.kind.value == "member_of"]
    in_trust = sum(1 for r in rows if r["Trusts (code)"])
    in_federation = sum(1 for r in rows if r["Federations (code)"])
    assert len(trust_ties) == in_trust + in_federation
    store.close()


def test_settings_choose_the_file(db: Path) -> None:
    assert Settings().db_path == db


def test_a_missing_file_is_one_line_not_a_traceback(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "gias", "/nonexistent/edubase.csv"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: /nonexistent/edubase.csv: no such file"]


def test_help_lists_every_verb_without_importing_them() -> None:
    """`graph-service --help` imports no verb's module, nor the stores; VERBS agrees with the modules."""
    import subprocess
    import sys

    from graph_service.cli import commands

    code = (
        "import sys\n"
        "from graph_service.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('graph_service.store', 'graph_service.questions', 'networkx', 'numpy',"
        " 'graph_service.cli.questions', 'graph_service.cli.export', 'graph_service.cli.viz') if m in sys.modules]\n"
        "print('imported:', heavy)\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "imported: []" in found
    for verb in commands.VERBS:
        assert f"    {verb}" in found
    modules = commands.registry()
    assert {verb: helptext for verb, (_m, helptext) in commands.VERBS.items()} == {
        verb: command[0] for verb, command in modules.items()
    }


def test_a_closed_pipe_ends_quietly_and_support_fits_100_columns(tmp_path: Path) -> None:
    """`graph-service support ... | head`: no "Broken pipe" error; every line within 100 columns."""
    import os
    import subprocess
    import sys

    db = tmp_path / "sample.sqlite3"
    store = EmbeddedStore(db)
    store.open()
    load_sample(store)
    store.close()
    env = {**os.environ, "GRAPH_SERVICE_DB": str(db), "GRAPH_SERVICE_STORE": "embedded", "COLUMNS": "200"}
    command = [sys.executable, "-m", "graph_service.cli", "support", "103288"]
    whole = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert whole.returncode == 0, whole.stderr
    lines = whole.stdout.splitlines()
    assert len(lines) > 50 and max(len(line) for line in lines) <= 100
    assert any(line.startswith("    ") and not line.startswith("     ") for line in lines)  # wrapped rules
    # The reader goes away before the answer is written (as `| head` does after its lines).
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == f"store: the embedded store file {db}\n"
