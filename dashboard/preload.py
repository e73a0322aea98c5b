"""What the dashboard server imports before it takes its first session.

Streamlit runs every session's script in its own thread, and a library the pages use is first
imported by whichever run needs it. Python's import lock makes two `import` statements safe, but
some libraries look modules up in `sys.modules` without importing them: plotly's validators ask
for pandas that way (`get_module("pandas", should_load=False)`), and get the half-initialised
module while another session's thread is still importing it. The load harness hit that on 总览
("partially initialized module 'pandas' has no attribute 'Series"). So the server imports, in its
main thread and before it listens, every library a page run would otherwise import first.
tests/test_preload.py opens every page after `preload()` and fails on any library module that a
page run still imports for the first time.
"""

from __future__ import annotations

import importlib
import pkgutil

# The dashboard's helper modules (not the page scripts, which Streamlit runs): they import the
# store, polars, duckdb, plotly and numpy, and everything of pipelines/ the pages call.
DASHBOARD = ("dashboard.auth", "dashboard.data", "dashboard.display", "dashboard.text", "dashboard.widgets")

# Libraries that other libraries import only when first needed: pandas and pyarrow (plotly and
# Streamlit's dataframe serialisation), xlsxwriter (polars' Excel export), PIL (Streamlit's
# images), fpdf (a report printed on the page), and plotly's lazily loaded parts.
LIBRARIES = (
    "pandas",
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.ipc",
    "pyarrow.pandas_compat",
    "numpy",
    "xlsxwriter",
    "PIL.Image",
    "PIL.ImageOps",
    "dateutil.parser",
    "dateutil.relativedelta",
    "fpdf",
    "plotly.io",
    "plotly.io._json",
    "plotly.offline",
    "plotly.tools",
    "narwhals.stable.v1",
    "polars.io.spreadsheet",
    "polars.dataframe.plotting",
    "polars._utils.udfs",
    "duckdb.sqltypes",
    "narwhals._polars.dataframe",
    "narwhals._polars.namespace",
    "narwhals._interchange.dataframe",
    "narwhals.stable.v1._namespace",
    "packaging.tags",
    "packaging.utils",
    "pyarrow.vendored.version",
    # a report drawn on the page: its QR code, its font and fpdf's font subsetting
    "segno",
    "pylopdf_fonts_zh_cn",
    "fontTools.cu2qu.cu2qu",
    "fontTools.pens.cu2quPen",
    "fontTools.pens.reverseContourPen",
)

# Streamlit's own parts that its first script run imports.
STREAMLIT = (
    "streamlit.emojis",
    "streamlit.runtime.scriptrunner.magic_funcs",
    "streamlit.web.skills",
    "streamlit.components.v2.manifest_scanner",
)


def preload() -> None:
    """Import the dashboard's modules and the libraries its pages use, and draw one figure of
    each kind the pages draw, so that plotly has loaded every part of itself they touch."""
    import pipelines

    for module in pkgutil.walk_packages(pipelines.__path__, "pipelines."):  # pydantic, the rules, …
        importlib.import_module(module.name)
    for name in DASHBOARD + LIBRARIES + STREAMLIT:
        importlib.import_module(name)
    import plotly.graph_objects as go
    import plotly.io as pio

    layout = go.Layout(
        title="·",
        legend={"orientation": "h"},
        margin={"l": 0},
        xaxis={"title": "·"},
        yaxis={"title": "·"},
        shapes=[{"type": "line", "x0": 0, "x1": 1, "y0": 0, "y1": 1, "line": {"dash": "dot"}}],
        annotations=[{"text": "·", "x": 0, "y": 0}],
    )
    figure = go.Figure(
        [
            go.Bar(x=["a"], y=[1], marker={"color": "#000"}),
            go.Scatter(x=[1], y=[1], line={"dash": "dot"}),
            go.Funnel(y=["a"], x=[1]),
            go.Pie(labels=["a"], values=[1]),
        ],
        layout,
    )
    pio.to_json(figure)
