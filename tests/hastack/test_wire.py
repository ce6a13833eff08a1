"""Values as the engine's wire carries them (hastack.wire): every number a float there, whole ones back
to ints here (inside Outputs too), an unknown as its sentinel, and a value in words for messages."""

from __future__ import annotations

from hastack.wire import UNKNOWN, UNKNOWN_SENTINELS, is_unknown, show, to_wire, whole_numbers


def test_to_the_wire_numbers_become_floats_and_nothing_else_changes() -> None:
    assert to_wire({"a": 1, "b": [True, 2.5, None, "x"], 3: (4,)}) == {
        "a": 1.0,
        "b": [True, 2.5, None, "x"],
        "3": [4.0],
    }


def test_from_the_wire_whole_floats_are_ints_again_and_keys_sorted_when_asked() -> None:
    assert whole_numbers({"b": 2.0, "a": [1.5, 3.0]}, sort_keys=True) == {"a": [1.5, 3], "b": 2}
    assert list(whole_numbers({"b": 1, "a": 2}, sort_keys=True)) == ["a", "b"]
    assert list(whole_numbers({"b": 1, "a": 2})) == ["b", "a"]


def test_unknowns_are_the_sentinels() -> None:
    assert UNKNOWN in UNKNOWN_SENTINELS and is_unknown(UNKNOWN)
    assert not is_unknown("04da6b54") and not is_unknown(None)


def test_show_speaks_words() -> None:
    assert (show(3.0), show(2.5), show(None), show(True), show(UNKNOWN)) == (
        "3",
        "2.5",
        "unset",
        "true",
        "unknown until deploy",
    )
    assert show(None, unset="unset (IfHealthyBudget)") == "unset (IfHealthyBudget)"
