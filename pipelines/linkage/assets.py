"""Normalised registers, and the links and residue the staged linker makes of them."""

import json

import dagster as dg
import polars as pl

import linkage
from linkage.complexes import complexes as build_complexes
from pipelines.progress import reporting
from pipelines.resources import KoppelwerkSettings, columns

GROUP = "linkage"


# Linkage starts only once the deliveries passed their blocking contract rules (pipelines.quality).
@dg.asset(group_name=GROUP, description="BAG rows with comparison keys.", deps=["delivery_validation"])
def normalised_bag(bag: pl.DataFrame) -> pl.DataFrame:
    return linkage.normalise_bag(bag)


@dg.asset(
    group_name=GROUP,
    description="Register rows with comparison keys and operation status.",
    deps=["delivery_validation"],
)
def normalised_connections(connections: pl.DataFrame) -> pl.DataFrame:
    return linkage.normalise_connections(connections)


@dg.multi_asset(
    group_name=GROUP,
    ins={
        "normalised_bag": dg.AssetIn("normalised_bag", metadata=columns(*linkage.BAG_INPUT_COLUMNS)),
        "normalised_connections": dg.AssetIn(
            "normalised_connections", metadata=columns(*linkage.CONNECTION_INPUT_COLUMNS)
        ),
    },
    outs={
        "links": dg.AssetOut(description="One row per (connection, object) link."),
        "residue": dg.AssetOut(description="One row per connection without a link, with its class."),
        "linkage_curve": dg.AssetOut(description="Link rate and estimated precision per probability threshold."),
        "unresolved_candidates": dg.AssetOut(description="Best candidate of each connection left unresolved."),
        "linkage_model": dg.AssetOut(
            description="The trained Splink model (one row, `model`: its JSON), for re-links with the run's model."
        ),
    },
)
def link_connections(
    context: dg.AssetExecutionContext,
    settings: KoppelwerkSettings,
    normalised_bag: pl.DataFrame,
    normalised_connections: pl.DataFrame,
):
    config = settings.run_config()
    profile = config.use_profile
    with reporting(context) as progress:
        result = linkage.link(
            normalised_bag,
            normalised_connections,
            profile,
            config.linkage,
            config.duckdb_config(),
            progress=progress,
            backend=config.engine.linkage_backend,
        )
    n_linked = result.links["ean"].n_unique()
    context.log.info(
        f"linked {n_linked} of {normalised_connections.height} connections "
        f"({result.residue.height} in the residue) under profile '{profile.name}'"
    )
    by_method = result.links.group_by("method").len().sort("method").rows()
    by_class = result.residue.group_by("residue_class").len().sort("residue_class").rows()
    yield dg.Output(result.links, output_name="links", metadata={"by_method": dict(by_method)})
    yield dg.Output(result.residue, output_name="residue", metadata={"by_class": dict(by_class)})
    # The trained model is an artefact of the run: it says why every probabilistic link was made.
    model_path = settings.run_folder(context).staging / "linkage_model.json"
    model_path.write_text(json.dumps(result.model, indent=1))
    yield dg.Output(result.curve, output_name="linkage_curve", metadata={"model": str(model_path)})
    yield dg.Output(result.unresolved_candidates, output_name="unresolved_candidates")
    yield dg.Output(pl.DataFrame({"model": [json.dumps(result.model)]}), output_name="linkage_model")


@dg.asset(group_name=GROUP, description="Connected components of objects and the connections they share.")
def complexes(links: pl.DataFrame) -> pl.DataFrame:
    return build_complexes(links)
