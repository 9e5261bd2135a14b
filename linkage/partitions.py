"""Region partitions: the country cut into parts of bounded size that link on their own.

Blocking is local: a connection's candidates share a postcode, a street and woonplaats, or the
object its registered id names (`linkage.candidates`, `linkage.deterministic`). So the BAG is cut
into region partitions (whole gemeenten, packed in code order up to `max_objects` address rows;
a pand is never split, because common areas and collective gas are per pand), and a connection
whose every key finds BAG rows of one partition only is linked inside that partition. The few
whose keys reach into several partitions (a postcode of a neighbouring gemeente, a registered id
elsewhere), or into none (no usable address), go to the national pass, which sees the whole BAG.

Every key a linkage step joins on is listed in `_KEYS`; a step joining on a new key must add it
there, or a partitioned run would stop equalling the unpartitioned one (`tests/test_partitions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from linkage.candidates import RULE_KEYS
from linkage.key_hash import key_hash

# The national pass: connections no partition holds all the candidates of.
NATIONAL = -1
# Connections that are not linked at all (`Partitioning.without`).
_NOWHERE = -2

# The blocking rules' keys (the registered id among them: its object's rows, withdrawn ones
# included, as the register records take the pand of a stale id), and the postcode alone (the residue's "BAG has no address in
# this postcode at all", the deterministic route "does the postcode find this number").
_KEYS: list[tuple[list[pl.Expr], list[pl.Expr]]] = [
    *RULE_KEYS,
    ([pl.col("postcode_clean")], [pl.col("postcode_clean")]),
]


@dataclass(frozen=True)
class Partitioning:
    """`bag_partition`: per BAG row (in the BAG's order) its partition, 0, 1, ...;
    `connection_partition`: per connection (`ean`, `partition`) the partition that holds all its
    candidates, or `NATIONAL`. `n_partitions` counts the regions (not the national pass)."""

    bag_partition: pl.Series
    connection_partition: pl.DataFrame
    n_partitions: int

    def bag(self, bag: pl.DataFrame, partition: int) -> pl.DataFrame:
        """The BAG rows of `partition`, in their national order; all of them for the national pass."""
        return bag if partition == NATIONAL else bag.filter(self.bag_partition == partition)

    def connections(self, connections: pl.DataFrame, partition: int) -> pl.DataFrame:
        eans = self.connection_partition.filter(pl.col("partition") == partition).select("ean")
        return connections.join(eans, on="ean", how="semi", maintain_order="left")

    def without(self, eans: pl.Series) -> Partitioning:
        """The same cut with the connections `eans` in no partition (they are not linked): their
        partition is set to `_NOWHERE`, so the register's EANs are shared, not copied."""
        nowhere = pl.when(pl.col("ean").is_in(eans.implode())).then(_NOWHERE).otherwise("partition")
        kept = self.connection_partition.with_columns(partition=nowhere.cast(pl.Int32))
        return Partitioning(self.bag_partition, kept, self.n_partitions)

    def order(self) -> list[int]:
        """The partitions in the order they are linked: the regions, then the national pass."""
        return [*range(self.n_partitions), NATIONAL]


def _units(bag: pl.DataFrame) -> pl.DataFrame:
    """Per BAG row its unit: the gemeente of its pand (the first in code order where a pand
    straddles a border), else of its object (a ligplaats with a nevenadres across the border);
    rows without a gemeente share one unit."""
    building = pl.coalesce("pand_id", "object_id")
    return bag.select(unit=pl.col("gemeente_code").fill_null("").min().over(building))


def _packed(units: pl.DataFrame, max_objects: int) -> pl.DataFrame:
    """Units packed, in code order, into partitions of at most `max_objects` rows; a unit bigger
    than that is a partition of its own (a gemeente is never cut)."""
    sizes = units.group_by("unit").len().sort("unit")
    partition, filled, rows = 0, 0, []
    for unit, size in sizes.iter_rows():
        if filled and filled + size > max_objects:
            partition, filled = partition + 1, 0
        rows.append((unit, partition))
        filled += size
    return pl.DataFrame(rows, schema={"unit": pl.String, "partition": pl.Int32}, orient="row")


def region_partitions(bag: pl.DataFrame, connections: pl.DataFrame, max_objects: int) -> Partitioning:
    """Cut normalised `bag` into regions of at most `max_objects` rows and place each of the
    normalised (woonplaatsen resolved) `connections` in the region that holds all its candidate
    rows, or in the national pass."""
    units = _units(bag)
    packed = _packed(units, max_objects)
    bag_partition = units.join(packed, on="unit", how="left", maintain_order="left")["partition"]
    with_partition = bag.with_columns(partition=bag_partition)
    # per key the lowest and highest partition it reaches, looked up in the register's order:
    # one row per key, not one per (connection, key, partition), so a national register's reach
    # is two running columns. Keys are grouped and joined as hashes (`key_hash`): at ten million
    # objects that took the partitioning's peak from 14.4 to 12.6 GB. A hash two keys share only
    # widens a connection's reach (to the national pass, which sees every row); it never places
    # a connection in a region without all of its candidates.
    nothing = pl.repeat(None, connections.height, dtype=pl.Int32, eager=True)
    reach = pl.DataFrame({"low": nothing, "high": nothing})
    for conn_keys, bag_keys in _KEYS:
        regions = (
            with_partition.select("partition", key=key_hash(bag_keys))
            .drop_nulls("key")
            .group_by("key")
            .agg(low=pl.col("partition").min(), high=pl.col("partition").max())
        )
        reached = connections.select(key=key_hash(conn_keys)).join(regions, on="key", how="left", maintain_order="left")
        reach = reached.select(
            low=pl.min_horizontal("low", reach["low"]), high=pl.max_horizontal("high", reach["high"])
        )
    # a connection no key places anywhere (all nulls) goes to the national pass too
    partition = reach.select(
        pl.when(pl.col("low") == pl.col("high")).then("low").otherwise(NATIONAL).cast(pl.Int32)
    ).to_series()
    connection_partition = pl.DataFrame({"ean": connections["ean"], "partition": partition})
    return Partitioning(bag_partition, connection_partition, packed["partition"].n_unique())
