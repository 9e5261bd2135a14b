"""The contracts are valid ODCS, say what the interface spec says, and their rules run as declared."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from core.config import DisclosureRules, UncertaintyThresholds
from data_contracts import (
    CONTRACT_NAMES,
    EXTRA_OUTPUT_NAMES,
    INPUT_NAMES,
    OUTPUT_NAMES,
    ContractError,
    contract_path,
    load_contract,
    validate_output,
)
from ingestion.validate import SQL_RULES
from tests.paths import PROJECT_ROOT

SPEC = PROJECT_ROOT.parent / "shared" / "spec" / "interfaces.md"
ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"
SPEC_DTYPES = {
    "string": pl.String(),
    "enum": pl.String(),
    "bool": pl.Boolean(),
    "int": pl.Int64(),
    "float": pl.Float64(),
}


# --- the interface spec, parsed so that drift between it and the contracts fails a test -------


def _spec_text() -> str:
    if not SPEC.exists():
        pytest.fail(f"the interface spec is expected at {SPEC}")
    return SPEC.read_text(encoding="utf-8")


def _input_table(name: str) -> list[tuple[str, str, str]]:
    """(column, type, meaning) rows of the spec table under the heading that ends in (`name`)."""
    section = re.search(rf"^## Input \d+: .*\(`{name}`\)\n(.*?)(?=^## )", _spec_text(), re.S | re.M)
    assert section, f"no input section for {name} in {SPEC}"
    rows = []
    for line in section.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("column", "") or set(cells[0]) <= {"-"}:
            continue
        rows += [(column.strip(), cells[1], cells[2]) for column in cells[0].split(",")]
    return rows


def _column_list(text: str, marker: str) -> list[str]:
    """The backticked names in the first sentence after `marker`, ignoring parenthesised remarks."""
    start = text.index(marker) + len(marker)
    paragraph = text[start:].split("\n\n", 1)[0]
    while re.search(r"\([^()]*\)", paragraph):
        paragraph = re.sub(r"\([^()]*\)", "", paragraph)
    sentence = re.split(r"\.(?:\s|$)", paragraph, maxsplit=1)[0]
    return [name for name in re.findall(r"`([^`]+)`", sentence) if re.fullmatch(r"[a-z_0-9]+", name)]


def _residue_classes() -> list[str]:
    table = _spec_text().split("| residue_class | what it is |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| (\w+) \|", table, re.M)


OUTPUT_COLUMNS = {
    "links": lambda: _column_list(_spec_text(), "`links.parquet` —"),
    "residue": lambda: _column_list(_spec_text(), "`residue.parquet` —"),
    "sector_energy_statistics": lambda: _column_list(_spec_text(), "`public/sector_energy_statistics.parquet` —"),
    "quarantine": lambda: _column_list(ARCHITECTURE.read_text(encoding="utf-8"), "- Quarantine "),
}


# --- ODCS validity ----------------------------------------------------------------------------


def _lint(document_text: str):
    from datacontract.data_contract import DataContract  # a development tool; slow to import

    return DataContract(data_contract_str=document_text).lint()


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_contract_lints_clean_as_odcs_v3_2_0(name: str) -> None:
    run = _lint(contract_path(name).read_text(encoding="utf-8"))
    assert run.has_passed(), [(check.name, check.reason) for check in run.checks]
    assert all(check.result == "passed" for check in run.checks), [(c.name, c.reason) for c in run.checks]
    assert any("ODCS v3.2.0" in check.name for check in run.checks)


def test_lint_catches_a_broken_contract() -> None:
    """The lint test above means something: a wrong logicalType does not pass."""
    document = yaml.safe_load(contract_path("connections").read_text(encoding="utf-8"))
    document["schema"][0]["properties"][0]["logicalType"] = "text"
    assert not _lint(yaml.safe_dump(document)).has_passed()


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_contract_header_and_description(name: str) -> None:
    document = load_contract(name).document
    assert document["apiVersion"] == "v3.2.0" and document["kind"] == "DataContract"
    assert document["id"] == f"koppelwerk-{name.replace('_', '-')}"
    assert {"purpose", "usage", "limitations"} <= set(document["description"])
    assert document["team"]["name"]
    assert [schema["name"] for schema in document["schema"]] == [name]


def test_contract_names_are_the_yaml_files_in_data_contracts() -> None:
    folder = contract_path("bag").parent
    assert folder == PROJECT_ROOT / "data_contracts"
    assert sorted(path.stem for path in folder.glob("*.yaml")) == sorted(CONTRACT_NAMES)
    assert set(INPUT_NAMES) | set(OUTPUT_NAMES) | set(EXTRA_OUTPUT_NAMES) == set(CONTRACT_NAMES)
    with pytest.raises(ContractError, match="unknown contract 'gas'"):
        contract_path("gas")


# what a checkout holds that is no part of the distribution (and `build/`, which pip's in-tree
# build would otherwise leave in the project root)
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "out", ".dagster", ".koppelwerk", "build", "*.egg-info", "__pycache__", ".*_cache"
)


def _venv_can_build_wheels() -> bool:
    """Whether the venv has the build backend pyproject.toml asks for (setuptools>=69) and a
    bdist_wheel (setuptools>=70.1 has its own; older ones need `wheel`); if not, pip builds in
    an isolated environment."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major_minor = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return major_minor >= (69, 0) and (major_minor >= (70, 1) or importlib.util.find_spec("wheel") is not None)


def test_built_wheel_ships_the_yaml_files_as_package_data(tmp_path: Path) -> None:
    """The wheel itself, not the source tree: an installed koppelwerk reads its contracts, the
    linkage vocabulary and the Dagster instance settings from inside the package."""
    source = tmp_path / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=_NOT_SOURCE)
    wheels = tmp_path / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)]
    if _venv_can_build_wheels():
        command.insert(command.index("--no-deps"), "--no-build-isolation")
    built = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = wheels.glob("koppelwerk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    expected = {f"data_contracts/{path.name}" for path in (PROJECT_ROOT / "data_contracts").glob("*.yaml")}
    assert len(expected) == len(CONTRACT_NAMES)
    expected |= {"linkage/vocabulary.yaml", "koppelwerk/dagster.yaml"}
    assert expected <= names, sorted(expected - names)
    for package in ("core", "pipelines", "data_contracts", "linkage", "koppelwerk"):
        assert f"{package}/__init__.py" in names, package
    # the subpackages too, with their modules
    for folder in ("pipelines", "core"):
        for module in (PROJECT_ROOT / folder).rglob("*.py"):
            assert module.relative_to(PROJECT_ROOT).as_posix() in names, module
    assert not any(name.startswith("tests/") for name in names)


# --- the contracts say what the interface spec says --------------------------------------------


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_input_columns_match_the_spec(name: str) -> None:
    contract = load_contract(name)
    spec = _input_table(name)
    assert contract.column_names == [column for column, _, _ in spec]
    for column_name, spec_type, meaning in spec:
        column = contract.column(column_name)
        base, length, optional = re.fullmatch(r"(\w+)(?:\((\d+)\))?(\?)?", spec_type).groups()
        assert column.dtype == SPEC_DTYPES[base], column_name
        assert column.nullable == bool(optional), column_name
        if length:
            assert column.max_length == int(length), column_name
        if base == "enum":
            assert set(column.enum) == set(re.findall(r"`([^`]+)`", meaning)), column_name
        assert column.description, column_name


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_output_columns_match_the_spec(name: str) -> None:
    expected = OUTPUT_COLUMNS[name]()
    assert expected, f"no column list found for {name}"
    assert load_contract(name).column_names == expected


def test_output_enums_match_the_spec() -> None:
    assert list(load_contract("residue").column("residue_class").enum) == _residue_classes()
    assert len(_residue_classes()) == 12
    statistics = load_contract("sector_energy_statistics")
    assert statistics.column("suppressed").dtype == pl.Boolean()
    assert "gemeente" in statistics.column("region_level").enum
    assert list(load_contract("quarantine").column("source").enum) == list(INPUT_NAMES)


def test_disclosure_numbers_match_the_pipeline_config() -> None:
    document = load_contract("sector_energy_statistics").document
    stated = {entry["property"]: entry["value"] for entry in document["description"]["customProperties"]}
    rules = DisclosureRules()
    assert stated == {
        "minConnections": rules.min_connections,
        "minDwellings": rules.min_dwellings,
        "dominanceShare": rules.dominance_share,
    }
    queries = {rule.name: rule.query for rule in load_contract("sector_energy_statistics").row_rules}
    assert f"n_connections < {rules.min_connections}" in queries["published_cell_min_connections"]
    assert f"n_objects < {rules.min_dwellings}" in queries["published_dwelling_cell_min_dwellings"]
    uncertainty = load_contract("sector_energy_uncertainty").document["description"]["customProperties"]
    thresholds = UncertaintyThresholds()
    assert {entry["property"]: entry["value"] for entry in uncertainty} == {
        "uncertaintyStrict": thresholds.strict,
        "uncertaintyLoose": thresholds.loose,
    }


# --- the rules: what quarantines, and that every declared form agrees --------------------------

# Quarantine only what the pipeline cannot use at all; everything else about an address is the
# linker's job. Changing this set is a policy change: review it with the source holders.
QUARANTINE_RULES = {
    "bag": {
        "object_id_required",
        "object_id_format",
        "nummeraanduiding_id_required",
        "nummeraanduiding_id_format",
        "object_type_required",
        "object_type_enum",
        "object_address_unique",
    },
    "connections": {"ean_required", "ean_check_digit", "ean_unique", "product_required", "product_enum"},
    "consumption": {
        "ean_required",
        "ean_check_digit",
        "year_required",
        "year_in_range",
        "product_required",
        "product_enum",
        "volume_required",
        "volume_non_negative",
        "volume_below_absurd",
        "unit_required",
        "unit_enum",
        "unit_matches_product",
        "consumption_key_unique",
    },
}
FLAG_ONLY = {
    "bag": {"postcode_format", "huisnummer_range", "huisletter_format", "gebruiksdoel_known", "object_type_matches_id"},
    "connections": {"postcode_format", "huisnummer_range", "fysieke_status_known", "bag_id_format"},
}


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_quarantine_policy(name: str) -> None:
    rules = {rule.name: rule for rule in load_contract(name).row_rules}
    assert {rule for rule, spec in rules.items() if spec.quarantine} == QUARANTINE_RULES[name]
    assert FLAG_ONLY.get(name, set()) <= {rule for rule, spec in rules.items() if not spec.quarantine}
    document = load_contract(name).document
    for quality in _qualities(document):
        severity = "error" if rules[quality["name"]].quarantine else "warning"
        assert quality["severity"] == severity, quality["name"]


def _qualities(document: dict) -> list[dict]:
    schema = document["schema"][0]
    return list(schema.get("quality") or []) + [q for prop in schema["properties"] for q in prop.get("quality") or []]


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_input_properties_declare_their_necessity(name: str) -> None:
    for prop in load_contract(name).document["schema"][0]["properties"]:
        necessity = [entry["value"] for entry in prop["customProperties"] if entry["property"] == "necessity"]
        assert necessity in (["required"], ["optional"]), prop["name"]


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_enum_rules_allow_exactly_the_enum(name: str) -> None:
    contract = load_contract(name)
    for rule in contract.row_rules:
        if rule.valid_values is not None and contract.column(rule.column).enum:
            assert rule.valid_values == contract.column(rule.column).enum, rule.name


def _rule_count_in_duckdb(query: str, frame: pl.DataFrame) -> int:
    connection = duckdb.connect()
    connection.register("delivery", frame.to_arrow())
    return connection.execute(query.replace("${table}", "delivery")).fetchone()[0]


SQL_RULE_CASES: dict[str, pl.DataFrame] = {
    "ean_check_digit": pl.DataFrame(
        {"ean": ["871687120000000011", "871687120000000012", "87168712000000001", "87168712000000001X", None, "abc"]}
    ),
    "huisnummer_range": pl.DataFrame({"huisnummer": [0, 1, 99999, 100000, -3, None]}),
    "volume_non_negative": pl.DataFrame({"volume": [0.0, -0.5, 12.0, None]}),
    "volume_below_absurd": pl.DataFrame({"volume": [0.0, 3512.5, 9.99e10, 1e11, 1e15, None]}),
    "year_in_range": pl.DataFrame({"year": [1999, 2000, 2024, date.today().year, date.today().year + 1, 0, None]}),
    "unit_matches_product": pl.DataFrame(
        {"product": ["ELK", "ELK", "GAS", "GAS", "XYZ", None], "unit": ["kWh", "m3", "m3", "kWh", "kWh", "kWh"]}
    ),
    "address_or_description_present": pl.DataFrame(
        {
            "huisnummer": [12, 12, None, 7, None],
            "postcode": ["1234AB", None, "1234AB", None, None],
            "straatnaam": [None, "Dorpsstraat", None, None, None],
            "locatieomschrijving": [None, None, None, None, "OV mast"],
        },
        schema_overrides={"huisnummer": pl.Int64, "postcode": pl.String, "straatnaam": pl.String},
    ),
    "object_type_matches_id": pl.DataFrame(
        {
            "object_id": ["0457010000000001", "0457020000000001", "0457030000000001", "0457010000000002", None],
            "object_type": ["verblijfsobject", "verblijfsobject", "standplaats", "onbekend", "ligplaats"],
        }
    ),
}


def test_every_sql_input_rule_has_one_polars_form_that_agrees() -> None:
    """The contract's SQL and ingestion's polars expression count the same rows as breaking."""
    sql_rules = {
        rule.name: rule.query for name in INPUT_NAMES for rule in load_contract(name).row_rules if rule.metric == "sql"
    }
    assert set(sql_rules) == set(SQL_RULES) == set(SQL_RULE_CASES)
    for rule, frame in SQL_RULE_CASES.items():
        breaks, _ = SQL_RULES[rule]()
        in_polars = frame.select(breaks.fill_null(False).sum()).item()
        assert in_polars == _rule_count_in_duckdb(sql_rules[rule], frame), rule
        assert in_polars > 0, rule


def test_sql_rule_queries_are_identical_wherever_a_rule_name_recurs() -> None:
    queries: dict[str, set[str]] = {}
    for name in INPUT_NAMES:
        for rule in load_contract(name).row_rules:
            if rule.query:
                queries.setdefault(rule.name, set()).add(" ".join(rule.query.split()))
    assert all(len(variants) == 1 for variants in queries.values()), queries


# --- outputs: validate_output and the rules datacontract-cli runs on them -----------------------


def _valid_outputs() -> dict[str, pl.DataFrame]:
    eans = [f"87168712000000{n:04d}" for n in range(12)]
    return {
        "links": pl.DataFrame(
            {
                "ean": [eans[0], eans[0], eans[1]],
                "object_id": ["0457010000000001", "0457010000000002", "0457010000000003"],
                "match_probability": [0.99, 0.99, 0.95],
                "match_weight": [12.0, 12.0, 8.5],
                "method": ["collective", "collective", "exact_address"],
                "allocation_share": [0.5, 0.5, 1.0],
            }
        ),
        "residue": pl.DataFrame(
            {
                "ean": [eans[2]],
                "residue_class": ["public_lighting"],
                "reason": ["lichtmast"],
                "netbeheerder": ["Liander"],
            }
        ),
        "sector_energy_statistics": pl.DataFrame(
            {
                "year": [2024, 2024],
                "region_level": ["gemeente", "gemeente"],
                "region_code": ["0457", "0457"],
                "sector": ["woonfunctie", "kantoorfunctie"],
                "product": ["ELK", "GAS"],
                "unit": ["kWh", "m3"],
                "volume": [123456.0, None],
                "n_connections": [40, 3],
                "n_objects": [38, 3],
                "suppressed": [False, True],
            }
        ),
        "sector_energy_uncertainty": pl.DataFrame(
            {
                "year": [2024, 2024],
                "region_level": ["gemeente", "gemeente"],
                "region_code": ["0457", "0457"],
                "sector": ["woonfunctie", "kantoorfunctie"],
                "product": ["ELK", "GAS"],
                "unit": ["kWh", "m3"],
                "volume": [123456.0, None],
                "volume_probabilistic": [1200.0, None],
                "volume_low": [121000.0, None],
                "volume_high": [124000.0, None],
                "withheld": [None, "the cell is suppressed"],
            }
        ),
        "quarantine": pl.DataFrame(
            {
                "source": ["connections", "connections"],
                "row_number": [4, 4],
                "record_id": [eans[3], eans[3]],
                "rule": ["ean_check_digit", "product_enum"],
                "detail": ["ean = '...' is not ...", "product = 'WATER' is not one of ELK, GAS"],
            }
        ),
    }


@pytest.mark.parametrize("name", OUTPUT_NAMES + EXTRA_OUTPUT_NAMES)
def test_validate_output_accepts_the_contract_shape(name: str) -> None:
    frame = _valid_outputs()[name]
    validate_output(name, frame)
    validate_output(name, frame.clear())


def test_validate_output_names_what_is_wrong() -> None:
    links = _valid_outputs()["links"]
    with pytest.raises(ContractError, match=r"output links .*missing column.*allocation_share"):
        validate_output("links", links.drop("allocation_share"))
    with pytest.raises(ContractError, match=r"undeclared column.*customer"):
        validate_output("links", links.with_columns(customer=pl.lit("x")))
    with pytest.raises(ContractError, match="match_probability is Float32, expected Float64"):
        validate_output("links", links.with_columns(pl.col("match_probability").cast(pl.Float32)))
    with pytest.raises(ContractError, match="in the order ean, object_id"):
        validate_output("links", links.select(reversed(links.columns)))
    with pytest.raises(ContractError, match="not an output contract"):
        validate_output("connections", links)


@pytest.mark.parametrize("name", OUTPUT_NAMES + EXTRA_OUTPUT_NAMES)
def test_output_rules_run_in_datacontract_test(name: str, tmp_path: Path) -> None:
    """Every output rule is executable: datacontract-cli passes a valid table and fails a broken one."""
    from datacontract.data_contract import DataContract

    def run(frame: pl.DataFrame):
        path = tmp_path / f"{name}.parquet"
        frame.write_parquet(path)
        document = dict(load_contract(name).document)
        document["servers"] = [{"server": "local", "type": "local", "path": str(path), "format": "parquet"}]
        return DataContract(data_contract_str=yaml.safe_dump(document)).test()

    valid = _valid_outputs()[name]
    outcome = run(valid)
    assert not [c.name for c in outcome.checks if c.result in ("failed", "error")], outcome.pretty()
    broken = pl.concat([valid, valid.head(1)])  # a repeated row breaks each output's key
    assert any(c.result == "failed" for c in run(broken).checks)


def test_load_contract_rejects_malformed_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from data_contracts import contract as module

    document = yaml.safe_load(contract_path("consumption").read_text(encoding="utf-8"))
    del document["schema"][0]["properties"][3]["quality"][0]["customProperties"]
    (tmp_path / "consumption.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.setattr(module, "contract_path", lambda name: tmp_path / f"{name}.yaml")
    module.load_contract.cache_clear()
    try:
        with pytest.raises(ContractError, match="rule 'volume_required' needs customProperty quarantine"):
            module.load_contract("consumption")
    finally:
        module.load_contract.cache_clear()


WEIGHING = {
    "publicInterest",
    "concreteUse",
    "statutoryTask",
    "necessity",
    "risks",
    "proportionality",
    "decision",
    "decidedBy",
}
SHARING_CRITERIA = {
    "withWhom",
    "statutoryTask",
    "linkToOriginalPurpose",
    "provisionCompulsory",
    "relationToDataSubjects",
    "consequencesForDataSubjects",
    "safeguards",
    "sensitivity",
    "numberOfSubjects",
    "itemsPerSubject",
}


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_input_contracts_record_the_reuse_and_its_weighing(name: str) -> None:
    document = load_contract(name).document
    reuse = next(entry["value"] for entry in document["customProperties"] if entry["property"] == "reuse")
    assert {"holder", "purpose", "bounds", "legalBasis", "weighing", "sharingCriteria"} <= set(reuse)
    assert set(reuse["weighing"]) == WEIGHING and set(reuse["weighing"]["risks"]) == {"intended", "unintended"}
    assert set(reuse["sharingCriteria"]) == SHARING_CRITERIA
    assert all(str(value).strip() for value in reuse["sharingCriteria"].values())


@pytest.mark.parametrize("name", INPUT_NAMES)
def test_every_input_rule_has_thresholds_per_profile_and_a_kind(name: str) -> None:
    contract = load_contract(name)
    for rule in contract.row_rules:
        assert set(rule.thresholds) == {"statistical", "operational"}, rule.name
        assert rule.threshold("operational") >= rule.threshold("statistical"), rule.name
        assert not (rule.blocking and not rule.quarantine and rule.metric == "custom"), rule.name
    assert any(rule.blocking for rule in contract.row_rules)
