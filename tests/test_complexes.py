"""Complexes are the connected components of the object-connection graph."""

import polars as pl

from linkage.complexes import complexes


def test_chains_of_shared_connections_form_one_complex() -> None:
    # gas G1 serves A and B, electricity E2 serves B and C: A, B, C are one complex with G1, E2,
    # and each unit's own meter. D stands alone with its own meter.
    links = pl.DataFrame(
        {
            "ean": ["G1", "G1", "E2", "E2", "EA", "EB", "EC", "ED"],
            "object_id": ["A", "B", "B", "C", "A", "B", "C", "D"],
        }
    )
    result = complexes(links)
    assert dict(result.select("object_id", "complex_id").rows()) == {"A": "A", "B": "A", "C": "A", "D": "D"}
    sizes = result.unique("complex_id").sort("complex_id")
    assert sizes.select("n_objects", "n_connections").rows() == [(3, 5), (1, 1)]


def test_objects_without_shared_connections_are_their_own_complex() -> None:
    links = pl.DataFrame({"ean": ["E1", "G1", "E2"], "object_id": ["X", "X", "Y"]})
    result = complexes(links)
    assert result["complex_id"].to_list() == ["X", "Y"]
    assert result["n_connections"].to_list() == [2, 1]


def test_a_long_chain_of_shared_connections_is_one_complex_named_after_its_smallest_object() -> None:
    # O9 -S9- O8 -S8- ... -S1- O0, listed from the far end: the smallest id has to travel the whole
    # chain; O0 and O9 also have meters of their own, and Z stands apart
    chain = [(f"S{i}", f"O{i}") for i in range(1, 10)] + [(f"S{i}", f"O{i - 1}") for i in range(1, 10)]
    links = pl.DataFrame(
        [*reversed(chain), ("E0", "O0"), ("E9", "O9"), ("EZ", "Z")], schema=["ean", "object_id"], orient="row"
    )
    result = complexes(links)
    assert dict(result.select("object_id", "complex_id").rows()) == {**{f"O{i}": "O0" for i in range(10)}, "Z": "Z"}
    assert dict(result.select("complex_id", "n_connections").unique().rows()) == {"O0": 11, "Z": 1}
    assert dict(result.select("complex_id", "n_objects").unique().rows()) == {"O0": 10, "Z": 1}
