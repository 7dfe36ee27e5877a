#!/usr/bin/env python3
"""Reads vCard files with Python's vobject and prints what it saw, as JSON.

The card crate's conformance test compares its own reader with this one: every card vobject reads,
we must read too, with the same FN and at least as many TEL and EMAIL properties.

Usage: vobject_oracle.py FILE...  ->  {"FILE": {"cards": [{"fn": str|null, "tel": n, "email": n}],
                                                "error": str|null}}
"""
import json
import logging
import sys

import vobject


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read(path: str) -> dict:
    cards, error = [], None
    with open(path, "rb") as f:
        text = decode(f.read())
    try:
        for comp in vobject.readComponents(text, ignoreUnreadable=True):
            if comp.name.upper() != "VCARD":
                continue
            fn = None
            if "fn" in comp.contents:
                value = comp.contents["fn"][0].value
                fn = value if isinstance(value, str) else None
            cards.append({
                "fn": fn,
                "tel": len(comp.contents.get("tel", [])),
                "email": len(comp.contents.get("email", [])),
            })
    except Exception as exc:  # vobject stops at the first card it cannot read
        error = f"{type(exc).__name__}: {exc}"
    return {"cards": cards, "error": error}


if __name__ == "__main__":
    logging.disable(logging.CRITICAL)  # vobject logs every line it skips
    json.dump({path: read(path) for path in sys.argv[1:]}, sys.stdout, ensure_ascii=False, indent=1)
