"""UCI Online Retail (``shared/data/clicks/uci_online_retail``) as the service's catalog and click
events, following the data folder's README.

Kept rows: not a cancellation (``InvoiceNo`` starting with ``C``), a customer id, a product code
(not postage, fees, manual lines), ``UnitPrice > 0``; one event per (invoice, item) (5,187 rows
duplicate another). Each becomes a ``purchase`` by ``CustomerID`` of ``StockCode`` at
``InvoiceDate`` (treated as Europe/London, an assumption: the source has no time zone) with
``session_id`` = the invoice. The catalog has one item per kept code, titled with its most
frequent description.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from channelpulse.models.recommend.actions import PURCHASE

LONDON = ZoneInfo("Europe/London")
NON_PRODUCT = frozenset({"POST", "DOT", "M", "C2", "BANK CHARGES", "PADS", "D", "S", "B", "CRUK", "AMAZONFEE"})
CHANNEL = "web"


def day_files(root: str | Path) -> list[Path]:
    """The per-day CSV files in time order (``root`` is the data set folder or its ``by-day``)."""
    root = Path(root)
    folder = root / "by-day" if (root / "by-day").is_dir() else root
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no by-day/*.csv under {root}")
    return files


def _rows(root: str | Path) -> Iterator[dict[str, str]]:
    for path in day_files(root):
        with path.open(newline="", encoding="utf-8") as fh:
            yield from csv.DictReader(fh)


def _kept(row: dict[str, str]) -> bool:
    return not (
        row["InvoiceNo"].startswith("C")
        or not row["CustomerID"]
        or row["StockCode"] in NON_PRODUCT
        or float(row["UnitPrice"]) <= 0
    )


def load_retail(root: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(catalog, events)``: catalog items (``item_id``, ``title``) and click events in the wire
    format, in time order (file order within a minute)."""
    events: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for row in _rows(root):
        if not _kept(row):
            continue
        order, item = row["InvoiceNo"], row["StockCode"]
        text = row["Description"].strip()
        if text:
            spellings[item][text] += 1
        if (order, item) in seen:
            continue
        seen.add((order, item))
        at = datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=LONDON)
        events.append(
            {
                "event_id": f"uci-{order}-{item}",
                "occurred_at": at.isoformat(),
                "channel": CHANNEL,
                "user_id": row["CustomerID"].removesuffix(".0"),
                "item_id": item,
                "action": PURCHASE,
                "session_id": order,
                "price": float(row["UnitPrice"]),
            }
        )
    items = dict.fromkeys(e["item_id"] for e in events)
    catalog = [
        {"item_id": item, "title": spellings[item].most_common(1)[0][0] if spellings[item] else item}
        for item in items
    ]
    return catalog, events
