"""Every tuning number is a named setting of `core.config`, reachable from `koppelwerk run --set`,
listed by `koppelwerk settings`, on the Dagster launchpad, and honoured by the linkage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import polars as pl
import pytest

import linkage
import synth
from core.config import (
    PROFILES,
    SETTING_SECTIONS,
    DisclosureRules,
    LinkageSettings,
    RunConfig,
    UncertaintyThresholds,
    all_settings,
    parse_setting,
    with_settings,
)
from core.errors import KoppelwerkError
from koppelwerk import cli
from linkage.comparisons import street_comparison
from linkage.description import classify_word
from linkage.probabilistic import _apply_parameters
from linkage.woonplaats import woonplaats_variants
from pipelines.resources import KoppelwerkSettings

# --- the settings and `--set` ---------------------------------------------------------------


def test_every_section_is_a_run_config_field_and_every_setting_is_documented() -> None:
    run_fields = {f.name for f in dataclasses.fields(RunConfig)}
    assert set(SETTING_SECTIONS) <= run_fields
    settings = all_settings()
    assert {s.key for s in settings} == {
        f"{section}.{f.name}" for section, cls in SETTING_SECTIONS.items() for f in dataclasses.fields(cls)
    }
    for setting in settings:
        assert setting.doc and setting.kind in (int, float, str)
        assert getattr(getattr(RunConfig(), setting.section), setting.name) == setting.default


def test_the_linkage_defaults_are_the_numbers_the_modules_had() -> None:
    assert LinkageSettings() == LinkageSettings(
        m_floor=0.002,
        u_sample_pairs=2_000_000,
        u_sample_records=2_000_000,
        m_sample_connections=250_000,
        seed=42,
        threads=2,
        registered_bag_id_probability=0.999,
        exact_address_probability=0.995,
        street_prefix_min_length=8,
        street_similarity_min=0.9,
        description_typo_min_length=5,
        capacity_min_share=0.5,
        capacity_min_support=10,
        woonplaats_min_support=3,
        woonplaats_min_share=0.9,
        collective_min_dwellings=3,
        collective_min_meter=10,
    )


def test_parse_setting_gives_section_name_and_typed_value() -> None:
    assert parse_setting("linkage.m_floor=0.001") == ("linkage", "m_floor", 0.001)
    assert parse_setting(" linkage.u_sample_pairs = 1_000 ") == ("linkage", "u_sample_pairs", 1000)
    assert parse_setting("disclosure.min_connections=12") == ("disclosure", "min_connections", 12)
    section, name, value = parse_setting("uncertainty.strict=0.98")
    assert (section, name, value, type(value)) == ("uncertainty", "strict", 0.98, float)


def test_set_changes_the_run_config_and_nothing_else() -> None:
    base = RunConfig()
    changed = with_settings(
        base,
        ["linkage.m_floor=0.001", "disclosure.min_connections=12", "uncertainty.strict=0.98", "linkage.seed=7"],
    )
    assert changed.linkage == dataclasses.replace(LinkageSettings(), m_floor=0.001, seed=7)
    assert changed.disclosure == DisclosureRules(min_connections=12)
    assert changed.uncertainty == UncertaintyThresholds(strict=0.98)
    assert dataclasses.replace(
        changed, linkage=base.linkage, disclosure=base.disclosure, uncertainty=base.uncertainty
    ) == (base)
    assert with_settings(base, ["linkage.seed=1", "linkage.seed=2"]).linkage.seed == 2  # the last one wins
    assert with_settings(base, []) == base


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        ("linkage.no_such_thing=1", "unknown setting 'linkage.no_such_thing'"),
        ("m_floor=0.001", "unknown setting 'm_floor'"),
        ("linkage.m_floor", "expects SECTION.NAME=VALUE"),
        ("linkage.m_floor=a lot", "expected a number, got 'a lot'"),
        ("linkage.threads=1.5", "expected an integer, got '1.5'"),
        ("linkage.m_floor=1.5", "must be strictly between 0 and 1"),
        ("uncertainty.strict=nan", "expected a finite number"),
        ("disclosure.min_connections=0", "must be greater than 0"),
    ],
)
def test_an_unknown_name_or_a_bad_value_is_a_one_line_error(assignment: str, words: str) -> None:
    with pytest.raises(KoppelwerkError) as raised:
        with_settings(RunConfig(), [assignment])
    message = str(raised.value)
    assert words in message and "\n" not in message


def test_a_bad_value_in_code_is_refused_too() -> None:
    with pytest.raises(KoppelwerkError, match="capacity_min_share must be between 0 and 1"):
        LinkageSettings(capacity_min_share=2.0)


# --- the CLI ------------------------------------------------------------------------------------


def _run_args(tmp_path: Path, *extra: str) -> list[str]:
    for name in ("bag.parquet", "connections.csv", "consumption.parquet"):
        (tmp_path / name).touch()
    return [
        "run",
        "--bag",
        str(tmp_path / "bag.parquet"),
        "--connections",
        str(tmp_path / "connections.csv"),
        "--consumption",
        str(tmp_path / "consumption.parquet"),
        "--out",
        str(tmp_path / "out"),
        "--data-dir",
        str(tmp_path / "data"),
        *extra,
    ]


def test_run_set_reaches_the_run_config(tmp_path: Path) -> None:
    args = cli._parser().parse_args(
        _run_args(tmp_path, "--set", "linkage.m_floor=0.001", "--set", "disclosure.min_connections=12")
    )
    config = cli.run_config(args)
    assert config.linkage.m_floor == 0.001
    assert config.disclosure.min_connections == 12
    assert config.out_dir == (tmp_path / "out").resolve()
    # ... and survives the Dagster resource the job is built with
    assert KoppelwerkSettings.from_config(config).run_config() == config


@pytest.mark.parametrize("assignment", ["linkage.nope=1", "linkage.threads=two"])
def test_run_with_a_bad_setting_fails_with_one_line_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], assignment: str
) -> None:
    assert cli.main(_run_args(tmp_path, "--set", assignment)) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("koppelwerk: error: ") and "\n" not in err
    assert assignment.split("=")[0] in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "data").exists()


def test_settings_command_lists_every_setting_with_its_default_and_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    settings = all_settings()
    assert len(lines) == len(settings)
    for line, setting in zip(lines, settings, strict=True):
        key, rest = line.split(" = ", 1)
        value, doc = rest.split("  # ", 1)
        assert key.strip() == setting.key
        assert type(setting.default)(value.strip()) == setting.default
        assert doc == setting.doc
    listed = {line.split(" = ")[0].strip() for line in lines}
    for section, cls in SETTING_SECTIONS.items():
        assert {f"{section}.{f.name}" for f in dataclasses.fields(cls)} <= listed


# --- the Dagster launchpad ----------------------------------------------------------------------


def test_the_launchpad_has_a_typed_field_per_setting_with_the_core_default() -> None:
    model_fields = KoppelwerkSettings.model_fields
    for setting in all_settings():
        launchpad = model_fields[f"{setting.section}_{setting.name}"]
        assert launchpad.annotation is setting.kind
        assert launchpad.default == setting.default
        assert setting.doc in (launchpad.description or "")
    assert KoppelwerkSettings().run_config().linkage == LinkageSettings()


def test_koppelwerk_settings_round_trip_a_non_default_run_config(tmp_path: Path) -> None:
    config = RunConfig(
        bag=tmp_path / "b.parquet",
        connections=tmp_path / "c.csv",
        consumption=tmp_path / "v.parquet",
        out_dir=tmp_path / "out",
        data_dir=tmp_path / "data",
        year=2024,
        profile="operational",
        disclosure=DisclosureRules(min_connections=15, min_dwellings=8, dominance_share=0.4),
        uncertainty=UncertaintyThresholds(strict=0.995, loose=0.6),
        linkage=LinkageSettings(
            m_floor=0.001,
            u_sample_pairs=500_000,
            m_sample_connections=1000,
            seed=7,
            threads=1,
            capacity_min_share=0.75,
            capacity_min_support=4,
            woonplaats_min_support=5,
            woonplaats_min_share=0.8,
            collective_min_dwellings=4,
            collective_min_meter=16,
        ),
    )
    resource = KoppelwerkSettings.from_config(config)
    assert resource.linkage_seed == 7 and resource.disclosure_min_connections == 15
    assert resource.run_config() == config


# --- the linkage honours them -------------------------------------------------------------------


def _with_lamp_posts(connections: pl.DataFrame) -> pl.DataFrame:
    """Twelve described lamp posts of 1x6A, and one addressless 1x6A connection the capacity rule
    classifies (`8719...`)."""
    template = connections.head(1)
    rows = [
        template.with_columns(
            ean=pl.lit(ean),
            product=pl.lit("ELK"),
            straatnaam=pl.lit(None, pl.String),
            huisnummer=pl.lit(None, pl.Int32),
            huisnummertoevoeging=pl.lit(None, pl.String),
            postcode=pl.lit(None, pl.String),
            locatieomschrijving=pl.lit(description),
            bag_id=pl.lit(None, pl.String),
            x=pl.lit(None, pl.Float64),
            y=pl.lit(None, pl.Float64),
            fysieke_status=pl.lit("IBD"),
            aansluitcapaciteit=pl.lit("1x6A"),
        )
        for ean, description in [(f"8718{i:014d}", "OV mast") for i in range(12)] + [(f"8719{0:014d}", "kast 12")]
    ]
    return pl.concat([connections, *rows])


def test_a_changed_capacity_support_changes_the_residue_class_through_link() -> None:
    data = synth.generate(100, 3)
    bag = linkage.normalise_bag(data.bag)
    connections = linkage.normalise_connections(_with_lamp_posts(data.connections))
    profile = PROFILES["statistical"]

    def residue_class(settings: LinkageSettings | None) -> str:
        residue = linkage.link(bag, connections, profile, settings).residue
        return residue.filter(pl.col("ean") == f"8719{0:014d}")["residue_class"].item()

    assert residue_class(None) == residue_class(LinkageSettings()) == "public_lighting"
    assert residue_class(LinkageSettings(capacity_min_support=10_000)) == "unresolved"


def test_a_changed_woonplaats_support_resolves_a_rarer_variant() -> None:
    bag = linkage.normalise_bag(
        pl.DataFrame(
            {
                "postcode": ["3333CC"],
                "woonplaats_naam": ["Ceedorp"],
                "gemeente_code": ["0003"],
                "huisletter": [None],
                "huisnummertoevoeging": [None],
                "openbare_ruimte_naam": ["Dorpsstraat"],
            },
            schema_overrides={"huisletter": pl.String, "huisnummertoevoeging": pl.String},
        )
    )
    register = linkage.normalise_connections(
        pl.DataFrame(
            {
                "postcode": ["3333CC", "3333CC"],
                "woonplaats": ["Ceedorpe", "Ceedorpe"],
                "huisnummertoevoeging": [None] * 2,
                "straatnaam": ["Dorpsstraat"] * 2,
                "fysieke_status": ["IBD"] * 2,
                "bag_id": [None] * 2,
                "aansluitcapaciteit": ["1x35A"] * 2,
            },
            schema_overrides={"huisnummertoevoeging": pl.String, "bag_id": pl.String},
        )
    )
    assert woonplaats_variants(register, bag).height == 0  # two records: below the default support of 3
    lenient = LinkageSettings(woonplaats_min_support=2)
    assert woonplaats_variants(register, bag, lenient).rows() == [("ceedorpe", "ceedorp", "0003")]


def test_the_m_floor_setting_is_the_floor_of_every_level() -> None:
    levels = [{"sql_condition": "a", "u_probability": 0.01}, {"sql_condition": "b", "u_probability": 0.99}]
    model = {"comparisons": [{"output_column_name": "c", "comparison_levels": levels}]}
    observed = {"c": {1: 1.0}}  # every label at the top level, none at the other

    def bottom_m(m_floor: float) -> float:
        out = _apply_parameters(model, observed, n_pairs_sampled=1000, m_floor=m_floor)
        return out["comparisons"][0]["comparison_levels"][1]["m_probability"]

    assert bottom_m(LinkageSettings().m_floor) == pytest.approx(0.002 / 1.002)
    assert bottom_m(0.1) == pytest.approx(0.1 / 1.1)


def _street_level(settings: LinkageSettings, register: str, bag: str, register_cut: bool = False) -> str:
    """The label of the street level a (register, BAG) pair of street keys falls in, evaluated by
    DuckDB on the comparison's own SQL, as Splink evaluates it."""
    levels = street_comparison(settings).get_comparison("duckdb").as_dict()["comparison_levels"]
    pair = {
        "street_key_l": register,
        "street_key_r": bag,
        "street_key24_l": register[:24],
        "street_key24_r": bag[:24],
        "street_cut_l": register_cut,
        "street_cut_r": False,
    }
    con = duckdb.connect()
    con.execute("CREATE TABLE p AS SELECT " + ", ".join(f"${k} AS {k}" for k in pair), pair)
    for level in levels:
        condition = level["sql_condition"]
        if condition == "ELSE" or con.execute(f"SELECT ({condition}) FROM p").fetchone()[0]:
            return level["label_for_charts"]
    raise AssertionError("no level matched")


def test_the_street_similarity_setting_moves_a_typo_between_levels() -> None:
    # "kerkstrat" ~ "kerkstraat": Jaro-Winkler 0.98
    assert _street_level(LinkageSettings(), "kerkstrat", "kerkstraat").startswith("Jaro-Winkler")
    assert _street_level(LinkageSettings(street_similarity_min=0.99), "kerkstrat", "kerkstraat") == "all other"


def test_the_street_prefix_setting_decides_when_a_cut_prefix_agrees() -> None:
    # a register name cut (after abbreviation) to a prefix of BAG's full name
    full = "burgemeestervandersteenstraat"
    assert _street_level(LinkageSettings(), "burgemeesterva", full, register_cut=True) == "truncated at 24"
    assert _street_level(LinkageSettings(), "burg", full, register_cut=True) != "truncated at 24"
    assert (
        _street_level(LinkageSettings(street_prefix_min_length=4), "burg", full, register_cut=True) == "truncated at 24"
    )
    strict = LinkageSettings(street_prefix_min_length=15)
    assert _street_level(strict, "burgemeesterva", full, register_cut=True) != "truncated at 24"


def test_the_typo_length_setting_decides_which_words_may_be_one_typo_off() -> None:
    assert classify_word("lichmast") == ("public_lighting", "lichtmast", "typo")  # 8 letters
    assert classify_word("lichmast", settings=LinkageSettings(description_typo_min_length=9)) is None


# --- the engine: DuckDB's memory limit, threads and spill folder --------------------------------


def test_the_engine_settings_reach_every_duckdb_connection_of_a_run(tmp_path: Path) -> None:
    """The warehouse's connections and Splink's get the memory limit, threads and spill folder
    of the run's configuration: a connection opened with them reports them back."""
    config = with_settings(
        RunConfig(data_dir=tmp_path / "data"), ["engine.duckdb_memory_gb=0.5", "engine.duckdb_threads=1"]
    )
    assert config.spill_folder == tmp_path / "data" / "spill"
    with duckdb.connect(config=config.duckdb_config()) as con:
        limit, threads, spill = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
        ).fetchone()  # type: ignore[misc]
    assert limit in ("476.8 MiB", "500.0 MB", "0.5 GB")
    assert threads == 1
    assert spill == str(tmp_path / "data" / "spill")
    elsewhere = dataclasses.replace(config, spill_dir=tmp_path / "elsewhere")
    assert elsewhere.duckdb_config()["temp_directory"] == str(tmp_path / "elsewhere")


def test_splink_under_a_tight_memory_limit_gives_the_same_links(tmp_path: Path) -> None:
    """The limit bounds memory, never the result: scoring in 64 MB links as without a limit."""
    data = synth.generate(3000, seed=4)
    bag, connections = linkage.normalise_bag(data.bag), linkage.normalise_connections(data.connections)
    profile = RunConfig().use_profile
    free = linkage.link(bag, connections, profile)
    spill = tmp_path / "spill"
    tight = linkage.link(
        bag, connections, profile, duckdb_config={"memory_limit": "64MB", "temp_directory": str(spill)}
    )
    assert tight.links.equals(free.links)
    assert tight.residue.equals(free.residue)


def test_run_spill_dir_reaches_the_run_config(tmp_path: Path) -> None:
    args = cli._parser().parse_args(
        [
            *("run", "--bag", "sample/bag.parquet", "--connections", "sample/connections.csv"),
            *("--consumption", "sample/consumption.parquet", "--out", str(tmp_path / "out")),
            *("--spill-dir", str(tmp_path / "spill"), "--set", "engine.duckdb_memory_gb=3"),
        ]
    )
    config = cli.run_config(args)
    assert config.spill_folder == tmp_path / "spill"
    assert config.duckdb_config()["memory_limit"] == "3.0GB"
    assert KoppelwerkSettings.from_config(config).run_config().duckdb_config() == config.duckdb_config()
