"""Learning from the stream: rebuild the recommender from the clicks the service saw and the current
catalog, compare it with the serving version on the newest held-out baskets, promote it through the
model registry when it is not worse.

One refresh (:func:`refresh`), given the click events (oldest first) and the catalog:

1. The vocabulary is the current catalog (deleted items are gone from it, so no version built from
   it can recommend them); without a catalog, the clicked items.
2. If the clicks and the catalog are those the serving version was built from, nothing is done.
3. Gate: each user's last basket (``replay.leave_last_basket_out``) is a held-out case; the newest
   ``gate_cases`` of them — only baskets after the serving version's newest click when that version
   was learned from this stream, so it never saw them — are ranked by a candidate fitted on the rest
   and by the serving version. Fewer than ``min_gate_cases``: skipped (too noisy to tell). The
   candidate passes when its HR@k >= serving HR@k - ``tolerance``.
4. Passed: a version fitted on all clicks is added to the registry and promoted. Failed, but the
   catalog changed: a *catalog sync* — the serving version's click evidence (its clicks up to its
   newest one) over the current catalog — is promoted instead, so new items get their text
   look-alikes and deleted items disappear even while the gate keeps the old click evidence.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from channelpulse.models.recommend.artifacts import ItemTables, save_tables
from channelpulse.models.recommend.recommender import Recommender
from channelpulse.models.recommend.replay import BasketCase, evaluate_baskets, leave_last_basket_out
from channelpulse.models.recommend.sequences import event_time
from channelpulse.models.recommend.text_neighbours import Embedder, catalog_embeddings
from channelpulse.models.recommend.training import TrainParams, fit_tables
from channelpulse.models.registry import ModelRegistry, RegistryError

SOURCE = "stream-refresh"
"""``meta.json`` ``source`` of versions learned from the stream by :func:`refresh`."""

Action = Literal["promoted", "catalog-sync", "rejected", "skipped", "unchanged"]


@dataclass(frozen=True)
class RefreshParams:
    """How a refresh learns and decides."""

    train: TrainParams = field(default_factory=TrainParams)
    max_history: int = 50
    """History length of the replayed user states (the worker's CHANNELPULSE_RECOMMENDATION_HISTORY)."""
    k: int = 10
    gate_cases: int = 500
    min_gate_cases: int = 30
    tolerance: float = 0.0


@dataclass(frozen=True)
class RefreshOutcome:
    action: Action
    detail: str
    version: int | None
    """The version serving after the refresh."""
    previous_version: int | None
    gate: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def catalog_vocabulary(catalog: Sequence[Mapping[str, Any]], clicks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Item rows of a version: the catalog's items (in order); the clicked items when there is none."""
    if catalog:
        return list(dict.fromkeys(str(item["item_id"]) for item in catalog))
    return sorted({str(e["item_id"]) for e in clicks})


FILED = "lake_ts"
"""Column of a click filed in the event lake: when the worker filed it (wall clock)."""


def filed_at(event: Mapping[str, Any]) -> datetime:
    """When a click reached the service: its lake filing time, else (offline) its event time."""
    value = event.get(FILED)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return event_time(event)


def fingerprint(clicks: Sequence[Mapping[str, Any]], catalog: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a version was built from: click count, newest click and filing time, a catalog digest."""
    digest = hashlib.sha1(
        json.dumps(sorted((str(i["item_id"]), i.get("title"), i.get("description")) for i in catalog)).encode()
    ).hexdigest()
    newest = max((event_time(e) for e in clicks), default=None)
    filed = max((filed_at(e) for e in clicks), default=None)
    return {
        "clicks": len(clicks),
        "clicks_until": newest.isoformat() if newest else None,
        "filed_until": filed.isoformat() if filed else None,
        "catalog_items": len(catalog),
        "catalog_digest": digest,
    }


def gate_cases(
    clicks: Sequence[Mapping[str, Any]], params: RefreshParams, after: datetime | None
) -> tuple[list[Mapping[str, Any]], list[BasketCase]]:
    """``(training clicks, newest held-out baskets)``; a basket filed (``filed_at``) at or before
    ``after`` is not held out (the serving version saw it). Filing time, not event time: partitions
    are consumed at different speeds, so event times of what a version saw do not end at one instant."""
    train, cases = leave_last_basket_out(clicks, params.max_history)
    if after is not None:
        filed: dict[str, datetime] = {}
        last = {c.user_id: c.at for c in cases}
        for e in clicks:
            user = str(e["user_id"])
            if user in last and event_time(e) >= last[user]:
                filed[user] = max(filed.get(user, after), filed_at(e))
        cases = [c for c in cases if filed.get(c.user_id, after) > after]
    eligible = sorted(cases, key=lambda c: c.at)
    held = eligible[-params.gate_cases :] if params.gate_cases > 0 else []
    if len(held) < len(cases):
        # users whose last basket is not held out train on it too
        held_users = {c.user_id for c in held}
        dropped = {c.user_id for c in cases} - held_users
        train = [e for e in train if str(e["user_id"]) not in dropped]
        train += [e for e in clicks if str(e["user_id"]) in dropped]
    return train, held


def fit(
    clicks: Sequence[Mapping[str, Any]],
    catalog: Sequence[Mapping[str, Any]],
    ids: Sequence[str],
    params: RefreshParams,
    embed: Embedder | None,
) -> ItemTables:
    """The neighbour tables of ``ids`` from ``clicks`` (+ catalog text when ``embed``)."""
    embeddings = catalog_embeddings(catalog, ids, embed) if embed is not None and catalog else None
    return fit_tables(clicks, ids, embeddings, params.train)


@dataclass(frozen=True)
class _Serving:
    version: int | None
    meta: dict[str, Any]
    model: Recommender | None

    @property
    def learned(self) -> bool:
        """Learned from this stream (so it saw its clicks filed up to ``inputs.filed_until``)."""
        return self.meta.get("source") == SOURCE

    @property
    def clicks_until(self) -> datetime | None:
        """Its newest click's event time (the catalog sync keeps the clicks up to it)."""
        until = self.meta.get("inputs", {}).get("clicks_until") if self.learned else None
        return datetime.fromisoformat(until) if until else None

    @property
    def filed_until(self) -> datetime | None:
        """When its newest click was filed (what it saw; offline: the newest click's event time)."""
        until = self.meta.get("inputs", {}).get("filed_until") if self.learned else None
        return datetime.fromisoformat(until) if until else self.clicks_until


def _serving(registry: ModelRegistry, model: str) -> _Serving:
    version = registry.served_version(model)
    if version is None:
        return _Serving(None, {}, None)
    info = next(v for v in registry.repository.versions(model) if v.version == version)
    return _Serving(version, dict(info.meta), Recommender.load(info.path, device="cpu"))


@dataclass
class _Refresh:
    registry: ModelRegistry
    model: str
    params: RefreshParams
    catalog: Sequence[Mapping[str, Any]]
    ids: list[str]
    embed: Embedder | None
    work_dir: Path | None
    serving: _Serving
    started: float
    text_state: dict[str, Any] = field(default_factory=dict)

    def outcome(self, action: Action, detail: str, version: int | None = None, **extra: Any) -> RefreshOutcome:
        after = version if version is not None else self.serving.version
        seconds = round(time.perf_counter() - self.started, 2)
        return RefreshOutcome(action, detail, after, self.serving.version, seconds=seconds, **extra)

    def catalog_changed(self) -> bool:
        """New or deleted items, or more of them placed by their text, since the serving version."""
        if self.serving.model is None or set(self.serving.model.items) != set(self.ids):
            return True
        served = self.serving.meta.get("inputs", {})
        return self.serving.learned and any(served.get(k) != v for k, v in self.text_state.items())

    def catalog_sync(self, clicks: Sequence[Mapping[str, Any]], why: str) -> RefreshOutcome:
        """The serving version's click evidence (its clicks, when it learned from this stream; none
        otherwise) over the current catalog."""
        until = self.serving.filed_until
        kept = [e for e in clicks if until is not None and filed_at(e) <= until]
        gate = {"decision": f"catalog sync ({why})"}
        version = self.add_and_promote(kept, {**fingerprint(kept, self.catalog), **self.text_state}, gate)
        if version is None:
            return self.outcome("rejected", f"catalog sync failed to promote ({why})", gate=gate)
        return self.outcome("catalog-sync", gate["decision"], version=version, gate=gate)

    def add_and_promote(
        self, clicks: Sequence[Mapping[str, Any]], inputs: dict[str, Any], gate: dict[str, Any]
    ) -> int | None:
        tables = fit(clicks, self.catalog, self.ids, self.params, self.embed)
        meta = {
            "model": self.model,
            "source": SOURCE,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "items": len(self.ids),
            "users": len({str(e["user_id"]) for e in clicks}),
            "inputs": inputs,
            "params": {k: v for k, v in asdict(self.params.train).items() if k != "scoring"},
            "scoring": asdict(self.params.train.scoring),
            "max_history": self.params.max_history,
            "metrics": {"holdout": dict(gate["candidate"])} if "candidate" in gate else {},
            "gate": gate,
        }
        with tempfile.TemporaryDirectory(prefix=f"refresh-{self.model}-", dir=self.work_dir) as tmp:
            out = Path(tmp) / "candidate"
            save_tables(out, tables, meta)
            info = self.registry.add_version(self.model, out, meta)
        try:
            self.registry.promote(self.model, info.version, note=f"stream refresh: {gate['decision']}")
        except RegistryError:
            return None
        return info.version


def refresh(
    clicks: Sequence[Mapping[str, Any]],
    catalog: Sequence[Mapping[str, Any]],
    registry: ModelRegistry,
    model: str,
    params: RefreshParams,
    embed: Embedder | None = None,
    work_dir: Path | None = None,
    text_state: Mapping[str, Any] | None = None,
) -> RefreshOutcome:
    """One refresh (see the module docstring); never raises for a refused or failed promotion.
    ``text_state`` (e.g. how many catalog texts have embeddings yet) is part of what a version was
    built from: when it changes, the catalog is placed again."""
    run = _Refresh(
        registry, model, params, catalog, catalog_vocabulary(catalog, clicks), embed, work_dir,
        _serving(registry, model), time.perf_counter(), dict(text_state or {}),
    )
    serving = run.serving
    inputs = {**fingerprint(clicks, catalog), **dict(text_state or {})}
    if serving.learned and serving.meta.get("inputs") == inputs:
        return run.outcome("unchanged", "same clicks and catalog as the serving version")
    if not run.ids:
        return run.outcome("skipped", "no catalog and no clicks yet")
    after = serving.filed_until
    train, held = gate_cases(clicks, params, after)
    gate: dict[str, Any] = {"cases": len(held), "after": after.isoformat() if after else None}
    if len(held) < params.min_gate_cases:
        detail = f"{len(held)} new held-out baskets (need {params.min_gate_cases})"
        if run.catalog_changed():
            return run.catalog_sync(clicks, detail)
        return run.outcome("skipped", detail, gate=gate)
    removed = set(serving.model.items) - set(run.ids) if serving.model is not None else set()
    cases = [replace(c, exclude=c.exclude | removed) for c in held]
    candidate = Recommender(fit(train, catalog, run.ids, params, embed), params.train.scoring, device="cpu")
    gate["candidate"] = evaluate_baskets(candidate, cases, params.k)
    if serving.model is not None:
        gate["serving"] = evaluate_baskets(serving.model, cases, params.k)
        passed = gate["candidate"]["hr"] >= gate["serving"]["hr"] - params.tolerance
        gate["decision"] = (
            f"candidate HR@{params.k} {gate['candidate']['hr']:.4f} "
            f"{'not worse than' if passed else 'worse than'} serving {gate['serving']['hr']:.4f} "
            f"(tolerance {params.tolerance:g}) on the {len(cases)} newest held-out baskets"
        )
    else:
        passed = True
        gate["decision"] = f"nothing serves; candidate HR@{params.k} {gate['candidate']['hr']:.4f}"
    if not passed:
        if run.catalog_changed():
            return run.catalog_sync(clicks, gate["decision"])
        return run.outcome("rejected", gate["decision"], gate=gate)
    version = run.add_and_promote(clicks, inputs, gate)
    if version is None:
        return run.outcome("rejected", f"promotion failed; {gate['decision']}", gate=gate)
    return run.outcome("promoted", gate["decision"], version=version, gate=gate)
