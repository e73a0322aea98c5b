"""Data is text: the one helper every page uses before a value from a file, a user or the URL
goes into anything Streamlit renders as Markdown (st.markdown, st.caption, the alert boxes,
st.table cells, widget labels). tests/test_text_safety.py checks that no page forgets it."""

from __future__ import annotations

import re

_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:^=&])")
# Streamlit's renderer turns bare addresses into links even when escaped (http\://…, www\.…,
# a@b): a word joiner (U+2060, invisible, no line break) where the link would start stops it.
_AUTOLINK = re.compile(r"(?i)(?<=http)(?=s?\\:)|(?<=www)(?=\\\.)|(?<=@)")
WORD_JOINER = "\u2060"


def plain(value: object) -> str:
    """`value` escaped so that Markdown and HTML show as the characters they are: no link (not
    even an automatic one), image, bold, colour directive, formula or tag."""
    escaped = _MARKUP.sub(r"\\\1", "" if value is None else str(value))
    return _AUTOLINK.sub(WORD_JOINER, escaped).replace("\n", "  \n")
