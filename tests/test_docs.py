"""The README documents every setting and every command a user can reach."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines import cli
from pipelines.store import config

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_environment_variable_is_documented() -> None:
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (Path(__file__).parent.parent / "pipelines").rglob("*.py")
    )
    variables = set(re.findall(r"\bDANGAN_[A-Z_]+\b", sources))
    assert {config.ENV_DB, config.ENV_TODAY, config.ENV_LOCK_WAIT} <= variables
    for name in variables:
        assert name in README, f"{name} is not documented in README.md"


def test_every_cli_command_is_documented() -> None:
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"dangan {name}" in README, f"`dangan {name}` is not documented in README.md"


def test_the_two_commands_are_documented() -> None:
    assert "make run" in README and "make test" in README


def test_the_alias_table_is_the_one_in_pipelines_columns() -> None:
    """README's 导入文件 table lists every field with exactly the header names pipelines/columns.py accepts."""
    from pipelines import columns

    section = README[README.index("## 导入文件") : README.index("## 看板与命令行同时使用")]
    for layout in columns.LAYOUTS.values():
        table = section[section.index(f"**{layout.label}**") :]
        for field in layout.fields:
            row = re.search(rf"^\| {re.escape(field.label)} \|[^|]*\| (.+) \|$", table, re.M)
            assert row, f"{layout.label}: no README row for {field.label}"
            assert row[1].split("、") == list(field.aliases), (
                f"{layout.label}/{field.label}: README and columns.py differ"
            )
