#!/usr/bin/env python3
"""Copy the front-end dist files the UI needs from node_modules/ into yingdan/static/vendor/.

Run after `npm ci` (the Makefile does both). Standard library only. The source maps referenced by the
minified files are copied along, so Django's ManifestStaticFilesStorage can resolve every reference.
Usage: python scripts/copy_vendor.py [--check]   (--check: only verify that every source file exists)
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "yingdan" / "static" / "vendor"

# (source under node_modules, destination under static/vendor) — templates use {% static 'vendor/NAME' %}
FILES = [
    ("htmx.org/dist/htmx.min.js", "htmx.min.js"),
    ("echarts/dist/echarts.min.js", "echarts.min.js"),
    ("sortablejs/Sortable.min.js", "Sortable.min.js"),
    ("bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"),
    ("bootstrap/dist/css/bootstrap.min.css", "bootstrap.min.css"),
    ("bootstrap-icons/font/bootstrap-icons.min.css", "bootstrap-icons.min.css"),  # refers to fonts/...
]
DIRECTORIES = [
    ("bootstrap-icons/font/fonts", "fonts"),
]
LICENSES = ["htmx.org", "echarts", "sortablejs", "bootstrap", "bootstrap-icons"]

SOURCE_MAP = re.compile(rb"sourceMappingURL=([\w.\-]+\.map)")


def copy_file(src: Path, dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    copied = 1
    for name in SOURCE_MAP.findall(src.read_bytes()[-500:]):
        map_src = src.parent / name.decode()
        if map_src.exists():
            shutil.copy2(map_src, dest.parent / map_src.name)
            copied += 1
    return copied


def main(argv: list[str]) -> int:
    missing = [src for src, _ in FILES + DIRECTORIES if not (NODE_MODULES / src).exists()]
    if missing:
        print(
            "copy_vendor: missing in node_modules (run `npm ci` first):",
            *missing,
            sep="\n  ",
            file=sys.stderr,
        )
        return 1
    if "--check" in argv:
        return 0
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    count = 0
    for src, dest in FILES:
        count += copy_file(NODE_MODULES / src, VENDOR / dest)
    for src, dest in DIRECTORIES:
        shutil.copytree(NODE_MODULES / src, VENDOR / dest)
        count += sum(1 for p in (VENDOR / dest).rglob("*") if p.is_file())
    for package in LICENSES:
        for candidate in ("LICENSE", "LICENSE.md", "LICENSE.txt"):
            license_file = NODE_MODULES / package / candidate
            if license_file.exists():
                dest = VENDOR / "licenses" / f"{package}.{candidate}"
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(license_file, dest)
                count += 1
                break
    print(f"copy_vendor: {count} files copied into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
