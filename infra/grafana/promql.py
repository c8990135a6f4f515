"""Just enough PromQL lexing to list the metric names an expression reads.

A metric name is an identifier that is not a function or aggregation (those are followed by ``(``),
not a keyword (``by``, ``and``, ``offset``, ``inf`` ...) and not a label: label matchers ``{...}``,
range/subquery brackets ``[...]``, strings and the label lists of ``by``/``without``/``on``/
``ignoring``/``group_left``/``group_right`` are skipped whole. Grafana variables (``$__rate_interval``,
``${name}``) are skipped too; :func:`with_intervals` replaces the interval ones with a duration so
Prometheus itself can parse the expression.
"""

from __future__ import annotations

import re

_TOKENS = re.compile(
    r"""
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<selector>\{(?:[^}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\})
    | (?P<range>\[[^\]]*\])
    | (?P<variable>\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)[a-zA-Z]*)
    | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
"""Keywords whose parenthesised list holds label names, not metrics."""

KEYWORDS = LABEL_LIST_KEYWORDS | {"bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"}
"""Identifiers that are PromQL keywords or literals (compared case-insensitively)."""

GRAFANA_INTERVALS = ("$__rate_interval", "$__interval", "$__range")
"""Grafana's built-in duration variables that dashboard queries may use inside ``[...]``."""


def _tokens(expr: str) -> list[tuple[str, str]]:
    """(kind, text) of every token except white space."""
    return [
        (str(m.lastgroup), m.group())
        for m in _TOKENS.finditer(expr)
        if m.lastgroup != "space"
    ]


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects, e.g. ``{"channelpulse_batch_size_bucket"}`` for
    ``histogram_quantile(0.95, sum by (le) (rate(channelpulse_batch_size_bucket[5m])))``."""
    tokens = _tokens(expr)
    names: set[str] = set()
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1][1].lower() if i + 1 < len(tokens) else ""
        if kind == "ident":
            if text.lower() in LABEL_LIST_KEYWORDS and following == "(":
                i = _after_group(tokens, i + 1)
                continue
            # a function or aggregation call: `rate(`, `sum(`, `sum by (...) (`
            is_call = following == "(" or following in ("by", "without")
            if text.lower() not in KEYWORDS and not is_call:
                names.add(text)
        i += 1
    return names


def _after_group(tokens: list[tuple[str, str]], start: int) -> int:
    """Index just past the parenthesised group that opens at ``tokens[start]``."""
    depth = 0
    for j in range(start, len(tokens)):
        if tokens[j][1] == "(":
            depth += 1
        elif tokens[j][1] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    raise ValueError("unbalanced parentheses in PromQL expression")


def with_intervals(expr: str, duration: str = "1m") -> str:
    """``expr`` with Grafana's interval variables replaced by ``duration`` (plain PromQL)."""
    for variable in GRAFANA_INTERVALS:
        expr = expr.replace(variable, duration)
    return expr
