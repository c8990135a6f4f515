"""`channelpulse stack up|status|down`."""

from __future__ import annotations

import argparse
import json

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "stack",
        help="start, inspect or stop the local Kafka + Triton + Prometheus stack",
        description="Manage the local stack: a single-node Apache Kafka (KRaft) broker, Triton Inference "
        "Server with the model repository, and Prometheus. Ports and folders come from CHANNELPULSE_* "
        "variables (see docs/configuration.md); everything binds 127.0.0.1 by default.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="start the services not yet running and wait until all are ready")
    st = actions.add_parser("status", help="print each service's address and whether it is up")
    st.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    actions.add_parser("down", help="stop every service the stack started")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.infra.stack import stack  # the local-dev stack, imported only by this command
    from channelpulse.infra.stack.process import StackError

    if args.action == "up":
        try:
            info = stack.up(settings)
        except StackError as exc:
            print(f"error: {exc}")
            return 1
        _print(info)
        return 0
    if args.action == "down":
        stopped = stack.down(settings)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    info = stack.status(settings)
    if args.json:
        print(json.dumps(info))
    else:
        _print(info)
    return 0 if info["up"] else 3


def _print(info: dict[str, object]) -> None:
    for name, addr in (("kafka", "kafka"), ("triton", "triton_grpc"), ("prometheus", "prometheus")):
        state = "up" if info[f"{name}_up"] else "down"
        print(f"{name:<11} {state:<5} {info[addr]}")
    print(f"{'triton http':<11} {'':<5} {info['triton_http']}")
