"""`channelpulse models list | promote MODEL VERSION | rollback MODEL`: the versions in the live
Triton model repository and which one Triton serves (see docs/lifecycle.md)."""

from __future__ import annotations

import argparse
import json

from channelpulse.config import Settings
from channelpulse.models.registry import ModelRegistry, ModelRepository, RegistryError, TritonHttpControl


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "models",
        help="list model versions, promote one, roll back",
        description="Model versions in the live repository (CHANNELPULSE_STATE_DIR/model_repository). "
        "promote and rollback rewrite the model's config.pbtxt version policy, ask Triton (HTTP port "
        "CHANNELPULSE_TRITON_HTTP_PORT) to load it, and wait until the version answers ready.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("list", help="every model's versions, served flag and meta.json summary")
    ls.add_argument("model", nargs="?", help="only this model")
    ls.add_argument("--json", action="store_true", help="JSON (full meta.json) instead of a table")
    promote = actions.add_parser("promote", help="serve VERSION of MODEL")
    promote.add_argument("model")
    promote.add_argument("version", type=int)
    promote.add_argument("--note", default="manual promote", help="recorded in the served history")
    rollback = actions.add_parser("rollback", help="serve the version MODEL served before the current one")
    rollback.add_argument("model")
    rollback.add_argument("--note", default="manual rollback", help="recorded in the served history")
    for p in (promote, rollback):
        p.add_argument("--timeout", type=float, default=None,
                       help="seconds to wait for the version to load and be ready (default: "
                       "CHANNELPULSE_TRITON_MODEL_LOAD_TIMEOUT_S)")
        p.add_argument("--no-load", action="store_true", help="only rewrite config.pbtxt; do not call Triton")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    repository = ModelRepository(settings.model_repository)
    try:
        if args.action == "list":
            return _list(ModelRegistry(repository), args.model, args.json)
        timeout_s = settings.triton_model_load_timeout_s if args.timeout is None else args.timeout
        control = None if args.no_load else TritonHttpControl(settings.triton_http_url, timeout_s=timeout_s)
        registry = ModelRegistry(repository, control, ready_timeout_s=timeout_s)
        if args.action == "promote":
            result = registry.promote(args.model, args.version, note=args.note)
        else:
            result = registry.rollback(args.model, note=args.note)
    except RegistryError as exc:
        print(f"error: {exc}")
        return 1
    state = "ready on Triton" if result.verified else "config.pbtxt only (Triton not asked)"
    print(f"{result.model}: {result.action} -> version {result.version} (was {result.previous}); {state}")
    return 0


def _list(registry: ModelRegistry, model: str | None, as_json: bool) -> int:
    listing = registry.list(model)
    if as_json:
        print(json.dumps({name: [v.to_dict() for v in versions] for name, versions in listing.items()}, indent=2))
        return 0
    if not listing:
        print(f"no models in {registry.repository.root}")
        return 0
    print(f"{'model':<12} {'version':>7}  {'served':<6}  created / summary")
    for name, versions in listing.items():
        for v in versions:
            summary = _summary(v.meta)
            print(f"{name:<12} {v.version:>7}  {'yes' if v.served else '':<6}  {summary}")
    return 0


def _summary(meta: dict[str, object]) -> str:
    """A one-line digest of meta.json: creation time and the headline metric, when present."""
    parts = [str(meta["created"])] if "created" in meta else []
    metrics = meta.get("metrics")
    holdout = metrics.get("holdout") if isinstance(metrics, dict) else None
    if isinstance(holdout, dict) and "macro_f1" in holdout:
        parts.append(f"holdout macro-F1 {holdout['macro_f1']}")
    if isinstance(holdout, dict) and "hr" in holdout:  # recommender versions learned from the stream
        parts.append(f"newest held-out baskets HR {holdout['hr']:.4f}")
    if meta.get("source"):
        parts.append(str(meta["source"]))
    retrain = meta.get("retrain")
    if isinstance(retrain, dict):
        parts.append(f"retrain {retrain.get('request_id')}")
    return ", ".join(parts) or "-"
