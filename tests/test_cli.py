"""The `dangan` command as a user runs it: real processes, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.store import SYSTEM, Store
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    registration_row,
    roster_row,
    write_csv,
)

DANGAN = [sys.executable, "-m", "pipelines.cli"]


def run(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DANGAN, "--db", str(db), "--today", "2024-06-10", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).parent.parent,
    )


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    db = tmp_path / "cli.duckdb"
    assert (
        run(
            "campaign", "set", "--cohort", "2024", "--school", "江西服装学院", "--notice", "江服就发〔2024〕27号", db=db
        ).returncode
        == 0
    )
    roster = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [roster_row(i) for i in range(10)])
    assert run("import", "roster", str(roster), db=db).returncode == 0
    statuses = ["已通过", "待院审核", "待校审核", "已退回", "已通过", "已通过", ""]
    rows = [
        registration_row(i, 审核状态=s, 退回原因="缺材料" if s == "已退回" else "", 确认状态="已确认" if i == 0 else "")
        for i, s in enumerate(statuses)
    ]
    result = run("import", "registrations", str(write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, rows)), db=db)
    assert result.returncode == 0, result.stderr
    return db


def test_stats_json_equals_sql_on_the_store(loaded: Path) -> None:
    result = run("stats", "--by", "college", "--format", "json", db=loaded)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    with Store(loaded, today="2024-06-10").reading(SYSTEM) as reader:
        expected = reader._conn.execute("""
            select college_name, count(*), count(registration_id),
                   count(*) filter (where status = 'pending_college'), count(*) filter (where status = 'pending_school'),
                   count(*) filter (where status = 'returned'), count(*) filter (where status = 'approved'),
                   count(*) filter (where is_confirmed), count(*) filter (where is_verified)
            from graduate_stages group by 1 order by 1""").fetchall()
    keys = [
        "key",
        "graduates",
        "registered",
        "pending_college",
        "pending_school",
        "returned",
        "approved",
        "confirmed",
        "verified",
    ]
    assert [tuple(r[k] for k in keys) for r in printed] == expected
    assert sum(r["graduates"] for r in printed) == 10 and sum(r["confirmed"] for r in printed) == 1


def test_stats_table_and_csv_formats(loaded: Path) -> None:
    table = run("stats", "--by", "transfer_type", db=loaded)
    assert table.returncode == 0 and "转递类型" in table.stdout and "转回生源地" in table.stdout
    as_csv = run("stats", "--by", "school", "--format", "csv", db=loaded)
    lines = as_csv.stdout.strip().splitlines()
    assert lines[0] == "key,graduates,registered,pending_college,pending_school,returned,approved,confirmed,verified"
    assert lines[1].startswith("全校,10,7,")


def test_options_after_the_command_and_environment_variables_work(loaded: Path, tmp_path: Path) -> None:
    by_env = subprocess.run(
        [*DANGAN, "stats", "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "DANGAN_DB": str(loaded), "DANGAN_TODAY": "2024-06-10"},
    )
    after = subprocess.run(
        [*DANGAN, "stats", "--format", "json", "--db", str(loaded), "--today", "2024-06-10"],
        capture_output=True,
        text=True,
    )
    assert by_env.returncode == after.returncode == 0
    assert json.loads(by_env.stdout) == json.loads(after.stdout)


def test_a_refused_import_exits_non_zero_with_rows_named_and_no_traceback(loaded: Path, tmp_path: Path) -> None:
    rows = [roster_row(20), roster_row(21, 身份证号="123")]
    result = run("import", "roster", str(write_csv(tmp_path / "bad.csv", ROSTER_HEADER, rows)), db=loaded)
    assert result.returncode == 1
    assert "导入被拒绝，未写入任何数据" in result.stderr and "bad.csv 第 3 行，“身份证号”列" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_skip_invalid_from_the_cli_writes_the_refused_file(loaded: Path, tmp_path: Path) -> None:
    rows = [roster_row(20), roster_row(21, 身份证号="123")]
    out = tmp_path / "refused.csv"
    result = run(
        "import",
        "roster",
        str(write_csv(tmp_path / "bad.csv", ROSTER_HEADER, rows)),
        "--skip-invalid",
        "--refused-out",
        str(out),
        db=loaded,
    )
    assert result.returncode == 0 and "新增 1" in result.stdout and "拒绝 1" in result.stdout
    assert "身份证号" in out.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    "args",
    [
        ["--today", "明天", "stats"],
        ["import", "roster", "/nonexistent/roster.csv"],
        ["campaign", "set", "--cohort", "24", "--school", "某校"],
    ],
)
def test_user_errors_are_messages_not_tracebacks(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run([*DANGAN, "--db", str(tmp_path / "x.duckdb"), *args], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_stats_on_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run([*DANGAN, "--db", str(tmp_path / "new.duckdb"), "stats"], capture_output=True, text=True)
    assert result.returncode == 1 and "dangan demo" in result.stderr


def test_serve_starts_streamlit_with_the_secure_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tomllib

    seen: dict[str, list[str]] = {}

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen["argv"] = argv
        raise SystemExit(0)

    monkeypatch.delenv("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", raising=False)
    monkeypatch.setattr(cli.os, "execve", execve)
    with pytest.raises(SystemExit):
        cli.main(["--db", str(tmp_path / "d.duckdb"), "serve", "--port", "8599"])
    argv = seen["argv"]
    pairs = dict(zip(argv[5::2], argv[6::2], strict=False))
    assert pairs["--client.showErrorDetails"] == "none" and pairs["--server.enableXsrfProtection"] == "true"
    assert pairs["--server.maxUploadSize"] == "200" and pairs["--server.port"] == "8599"
    config = tomllib.loads((Path(__file__).parent.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none" and config["server"]["enableXsrfProtection"] is True
    # no full garbage collection after each run: 46% of the server's CPU under load (#17)
    assert pairs["--runner.postScriptGC"] == "false" and config["runner"]["postScriptGC"] is False
    assert cli._env_name("client.showErrorDetails") == "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"
