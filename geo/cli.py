"""`nkmap`: the command line. Same library calls as the app."""

from __future__ import annotations

import argparse
import sys

from geo.errors import NkMapError
from geo.layers import LAYER_NAMES, LAYER_TITLES, layer_on, parse_date, to_geojson


def _cmd_layer(args: argparse.Namespace) -> int:
    if args.list:
        for name in LAYER_NAMES:
            print(f"{name}\t{LAYER_TITLES[name]}")
        return 0
    if not args.name:
        raise NkMapError("give a layer name or --list")
    day = parse_date(args.on) if args.on else None
    sys.stdout.write(to_geojson(layer_on(args.name, day)) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nkmap", description="Nagorno-Karabakh conflict map: data and exports."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    layer = sub.add_parser(
        "layer",
        help="print a reference layer as GeoJSON",
        description="Print a reference layer as a GeoJSON FeatureCollection on stdout.",
    )
    layer.add_argument(
        "name",
        nargs="?",
        choices=LAYER_NAMES,
        metavar="NAME",
        help=f"one of: {', '.join(LAYER_NAMES)}",
    )
    layer.add_argument("--on", metavar="YYYY-MM-DD", help="keep only features valid that day")
    layer.add_argument("--list", action="store_true", help="list the layer names")
    layer.set_defaults(func=_cmd_layer)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NkMapError as exc:
        print(f"nkmap: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
