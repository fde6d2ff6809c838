"""Every random generator of the simulator has its own seed tag: two features drawing from
one stream would be correlated by accident (the buddy and post-approval-edit generators once
shared 9_002)."""

from __future__ import annotations

import importlib
import pkgutil

import tsfraud_simulator


def test_seed_tags_are_distinct_across_the_simulator() -> None:
    tags: dict[int, str] = {}
    for info in pkgutil.iter_modules(tsfraud_simulator.__path__):
        module = importlib.import_module(f"tsfraud_simulator.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("TAG_") and isinstance(value, int):
                owner = f"{info.name}.{name}"
                # the same name seen again is an import of the same constant, not a clash
                same = value in tags and tags[value].split(".")[1] == name
                assert value not in tags or same, (
                    f"{owner} and {tags[value]} share seed tag {value}"
                )
                tags.setdefault(value, owner)
    assert len(tags) >= 8
