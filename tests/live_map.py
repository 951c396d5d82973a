"""The live map's side of a page test: AppTest runs the page but not the component's
JavaScript (geo/map/component/live.js), so a test reads the component's arguments and sends
its report the way the browser would."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def map_args(at: AppTest) -> dict:
    """The live map's arguments: the URL of the map's page and values (period, framing, view,
    the `ready` token)."""
    (instance,) = at.get("component_instance")
    return json.loads(instance.proto.json_args)


def report_drawn(at: AppTest) -> AppTest:
    """What the browser does after a rerun: the live map says it has drawn the page and period
    it was sent (it hands back their `ready` token), and the page reruns to draw what is under
    the map (geo/ui.py MapReport)."""
    at.session_state["map"] = {"view": None, "drawn": map_args(at)["ready"]}
    return at.run()
