"""Fleet audits: many stores from a list file, in parallel processes, one summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from egressguard.audit.fleet import parse_fleet
from egressguard.cli.main import run
from egressguard.errors import ConfigError
from egressguard.store.history_sqlite import SqliteHistory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_list_format(tmp_path: Path) -> None:
    text = "# stores\nshop-a  ./a\n\n/abs/b   # absolute\nc\n"
    stores = parse_fleet(text, tmp_path, "stores.txt")
    assert [(s.name, s.path, s.line) for s in stores] == [
        ("shop-a", tmp_path / "a", 2),
        ("b", Path("/abs/b"), 4),
        ("c", tmp_path / "c", 5),
    ]


@pytest.mark.parametrize(
    ("text", "message"), [("a x\na y\n", "already used on line 1"), ("# none\n\n", "no store")]
)
def test_list_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_fleet(text, tmp_path, "stores.txt")


def test_fleet_audits_in_parallel_with_summary_history_and_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXAMPLES / "magento2-module", tmp_path / "shop1")
    shutil.copytree(EXAMPLES / "shopify-theme", tmp_path / "shop2")
    (tmp_path / "stores.txt").write_text("shop1 shop1\nshop2 shop2\ngone ./missing\n")
    out, history = tmp_path / "out", tmp_path / "history.sqlite"
    args = [
        "audit",
        "--fleet",
        str(tmp_path / "stores.txt"),
        "--jobs",
        "2",
        "--output-dir",
        str(out),
        "--history",
        str(history),
    ]
    assert run(args) == 2  # one store could not be audited
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert [ln.split()[0] for ln in lines[1:4]] == ["shop1", "shop2", "gone"]  # list order
    assert "ERROR:" in lines[3] and "no such file" in lines[3]
    summary = json.loads((out / "fleet-summary.json").read_text())
    per = {s["store"]: s for s in summary["stores"]}
    one = json.loads((out / "shop1.json").read_text())
    assert per["shop1"]["integrations"] == len(one["integrations"]) > 0
    assert per["shop1"]["findings"]["critical"] == sum(
        1 for f in one["findings"] if f["severity"] == "critical"
    )
    assert summary["totals"]["failed"] == 1 and per["gone"]["error"]
    assert (out / "fleet-summary.md").read_text().startswith("# Fleet audit summary")
    store = SqliteHistory(history)
    assert store.targets() == ["shop1", "shop2"]
    store.close()

    (tmp_path / "shop2" / "assets" / "ai-search.js").unlink()
    (tmp_path / "stores.txt").write_text("shop1 shop1\nshop2 shop2\n")
    assert run(args) == 1  # critical findings remain, no store failed
    per = {s["store"]: s for s in json.loads((out / "fleet-summary.json").read_text())["stores"]}
    assert per["shop1"]["new"] == 0 and per["shop1"]["fixed"] == 0
    assert per["shop2"]["fixed"] > 0 and per["shop2"]["new"] == 0


def test_paths_and_fleet_are_exclusive(tmp_path: Path) -> None:
    (tmp_path / "stores.txt").write_text("a a\n")
    assert run(["audit", str(tmp_path), "--fleet", str(tmp_path / "stores.txt")]) == 2
    assert run(["audit"]) == 2
