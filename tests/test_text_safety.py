"""Data is text (#15): every Streamlit call that renders Markdown (st.markdown, st.caption, the
alert boxes, st.table cells, widget labels …) is fed only our own words, or values that went
through `widgets.plain`. The scan reads every file of dashboard/ and fails naming the line of
any argument it cannot prove safe, so a new page cannot forget it.

Safe: string literals and numbers; f-strings whose every value is safe or formatted as a number
or date (`{n:,}`, `{d:%Y-%m-%d}`); `plain(...)` / `widgets.plain(...)`; our code tables and domain
texts (`workflow.STAGES[...]`, `roles.ROLES`, `check.title`, a Step's `next_step` …); joins,
sums and conditionals of safe parts. A line may say `# text: ours` after a reviewer checked that
a value is the program's own (a label dictionary of the page, say).
"""

from __future__ import annotations

import ast
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"

# Calls whose text arguments Streamlit renders as Markdown (labels of widgets included).
MARKDOWN_CALLS = {
    "markdown",
    "caption",
    "info",
    "warning",
    "error",
    "success",
    "write",
    "title",
    "header",
    "subheader",
    "toast",
    "table",
    "metric",
    "expander",
    "page_link",
    "tabs",
    "radio",
    "button",
    "form_submit_button",
    "download_button",
    "checkbox",
    "toggle",
    "selectbox",
    "multiselect",
    "text_input",
    "text_area",
    "number_input",
    "date_input",
    "file_uploader",
    "status",
    "popover",
    "link_button",
    "segmented_control",
    "pills",
}
TEXT_KEYWORDS = {"label", "body", "help", "placeholder", "delta", "caption"}
DOMAIN_MODULES = {
    "workflow",
    "roles",
    "accounts",
    "verification",
    "checks",
    "codes",
    "transfer_types",
    "access",
    "reports",
    "selfservice",
    "progress",
    "statistics",
    "imports",
    "sheets",
    "config",
    "divisions",
    "campaigns",
    "submissions",
    "exports",
    "report_pdf",
    "columns",
    "math",
    "dispatch",
    "dispatch_rules",
}
# Attributes that hold the program's own words (domain objects built from code tables).
DOMAIN_ATTRIBUTES = {
    "title",
    "explanation",
    "label",
    "meaning",
    "headline",
    "next_step",
    "deadline_note",
    "height",
    "width",
    "days_left",
}
SAFE_FUNCTIONS = {"plain", "len", "int", "float", "round", "sum", "min", "max", "abs", "bool"}


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def safe(node: ast.AST, names: frozenset[str] = frozenset()) -> bool:
    """Whether `node` can only be the program's own words; `names` are local names bound only
    to such values (see `safe_names`)."""

    def ok(child: ast.AST) -> bool:
        return safe(child, names)

    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(ok(v.value) or v.format_spec is not None for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.BinOp):
        return ok(node.left) and ok(node.right)
    if isinstance(node, ast.IfExp):
        return ok(node.body) and ok(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(ok(v) for v in node.values)
    if isinstance(node, (ast.Compare, ast.UnaryOp)):
        return True  # booleans and numbers
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in SAFE_FUNCTIONS:
            return True
        if name == "join" and isinstance(func, ast.Attribute) and ok(func.value):
            return all(ok(a.elt if isinstance(a, (ast.GeneratorExp, ast.ListComp)) else a) for a in node.args)
        if name == "get" and isinstance(func, ast.Attribute):  # a table's value, or the default
            return ok(func.value) and all(ok(a) for a in node.args[1:])
        return _root(node) in DOMAIN_MODULES | names
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr in DOMAIN_ATTRIBUTES:
            return True
        return _root(node) in DOMAIN_MODULES | names
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(ok(e) for e in node.elts)
    return False


def safe_names(tree: ast.AST) -> frozenset[str]:
    """Local names every binding of which (assignment, `:=`, a for loop's target) is safe."""
    bindings: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bindings.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.NamedExpr):
            bindings.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
            bindings.setdefault(node.target.id, []).append(ast.Subscript(value=node.iter, slice=ast.Constant(0)))
        elif isinstance(node, (ast.arg,)):
            bindings.setdefault(node.arg, []).append(ast.Name(id="__parameter__"))  # unknown: a caller's value
    names: set[str] = set()
    while True:
        grown = {n for n, values in bindings.items() if all(safe(v, frozenset(names)) for v in values)}
        if grown == names:
            return frozenset(names)
        names = grown


def unsafe_calls(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    tree = ast.parse(source)
    names = safe_names(tree)
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MARKDOWN_CALLS
        ):
            continue
        if _root(node.func) in DOMAIN_MODULES | {"data", "pl", "auth"}:
            continue  # not Streamlit (reports.issue, pl.col(...).cast …)
        if node.func.attr == "page_link":
            arguments = []  # its first argument is the page's script; the label is a keyword
        elif node.func.attr in ("number_input", "date_input"):
            arguments = node.args[:1]  # a number or date value is not Markdown
        else:
            arguments = node.args[:1] if node.func.attr not in ("table", "write") else node.args
        arguments += [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        end = getattr(node, "end_lineno", node.lineno) or node.lineno
        reviewed = any("# text: ours" in lines[i - 1] for i in range(node.lineno, end + 1))
        for argument in arguments:
            if not safe(argument, names) and not reviewed:
                found.append(
                    f"{path.relative_to(DASHBOARD.parent)}:{argument.lineno}: {ast.get_source_segment(source, argument)}"
                )
    return found


def test_no_markdown_call_is_fed_data_that_did_not_go_through_plain() -> None:
    found = [line for path in sorted(DASHBOARD.rglob("*.py")) for line in unsafe_calls(path)]
    assert not found, "Markdown calls fed values not proven to be text (wrap them in widgets.plain):\n" + "\n".join(
        found
    )


def test_the_scan_catches_what_it_should() -> None:
    def flagged(code: str) -> bool:
        call = ast.parse(code).body[0].value  # type: ignore[attr-defined]
        return not all(safe(a) for a in call.args[:1])

    assert flagged("st.markdown(f'单位：{g[\"unit_name\"]}')")
    assert flagged("st.caption(name)")
    assert flagged("st.info('提示：' + reason)")
    assert not flagged("st.markdown(f'单位：{widgets.plain(g[\"unit_name\"])}')")
    assert not flagged("st.caption(f'{n:,} 人 · {workflow.STAGES[stage]}')")
    assert not flagged("st.warning('、'.join(widgets.plain(h) for h in headers))")


def test_plain_shows_markup_as_the_text_it_is() -> None:
    from dashboard.widgets import plain

    hostile = "![p](http://x/x.png)[登录已过期请点此](http://x/phish) **已核验有效** <b>x</b> :red[红] $x$ `c`"
    escaped = plain(hostile)
    for token in ("![", "](", "**", "<b>", ":red[", "$x$", "`c`"):
        assert token not in escaped
    assert escaped.replace("\\", "").replace("\u2060", "") == hostile
    for address in ("http://evil.example/x", "HTTPS://evil.example", "www.evil.example", "a@evil.example"):
        assert "\u2060" in plain(address)  # no automatic link either
