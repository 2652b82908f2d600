"""The UI's own handlers, called as a crafted HTTP request would call them (no browser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
from starlette.requests import Request


def crafted_request(token: str, ip: str = "203.0.113.5") -> gr.Request:
    """A Gradio request from `ip` that carries `token` as its Authorization header."""
    scope = {
        "type": "http",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": (ip, 1234),
    }
    return gr.Request(request=Request(scope))


def ui_handler(blocks: gr.Blocks, name: str) -> Callable[..., Any]:
    """The first handler of `blocks` with this function name."""
    for fn in blocks.fns.values():
        if fn.name == name:
            assert fn.fn is not None
            return fn.fn
    raise AssertionError(f"no handler named {name}")


def ui_handlers(blocks: gr.Blocks) -> dict[str, Callable[..., Any]]:
    """Every handler of `blocks` by function name, but names that several handlers share."""
    found: dict[str, list[Callable[..., Any]]] = {}
    for fn in blocks.fns.values():
        if fn.fn is not None and fn.name:
            found.setdefault(str(fn.name), []).append(fn.fn)
    return {name: fns[0] for name, fns in found.items() if len(fns) == 1}
