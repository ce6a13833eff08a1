"""Values unknown during preview never crash a rule and never produce a false violation: every
single value (leaf or subtree) of the good stack is replaced by the engine's unknown sentinel in
turn, then random pairs of them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hastack.wire import UNKNOWN
from hastack_policy.objects import K8sObject
from tests.policy.k8s_fixtures import DEV, PROD, all_violations, good_stack

Path = tuple[int, tuple[str | int, ...]]


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


STACK = good_stack()
PATHS: list[Path] = [
    (i, path)
    for i, obj in enumerate(STACK)
    for path in _paths(obj.props)
    if path[0] not in ("apiVersion", "kind")
]


def _with_unknowns(paths: list[Path]) -> list[K8sObject]:
    objs = [K8sObject(o.type, o.urn, o.name, copy.deepcopy(o.props)) for o in STACK]
    for index, path in paths:
        node: Any = objs[index].props
        try:
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = UNKNOWN
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement already swallowed this path
    return objs


def test_there_are_many_paths() -> None:
    assert len(PATHS) > 300


def test_every_single_unknown_is_harmless() -> None:
    failures = []
    for path in PATHS:
        for env in (PROD, DEV):
            found = all_violations(_with_unknowns([path]), env)
            if found:
                failures.append((STACK[path[0]].name, path[1], found))
    assert failures == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PATHS), min_size=2, max_size=4))
def test_several_unknowns_are_harmless(paths: list[Path]) -> None:
    assert all_violations(_with_unknowns(paths), PROD) == {}
