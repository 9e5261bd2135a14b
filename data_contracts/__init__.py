"""ODCS v3.2.0 contracts for every input and output, and the code that reads them.

`load_contract(name)` gives the typed view ingestion validates deliveries against;
`validate_output(name, frame)` is what the pipeline calls before it writes an output table.
"""

from __future__ import annotations

import polars as pl

from data_contracts.contract import (
    CONTRACT_NAMES,
    EXTRA_OUTPUT_NAMES,
    INPUT_NAMES,
    OUTPUT_NAMES,
    Column,
    Contract,
    ContractError,
    RowRule,
    contract_path,
    load_contract,
)

__all__ = [
    "CONTRACT_NAMES",
    "EXTRA_OUTPUT_NAMES",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "Column",
    "Contract",
    "ContractError",
    "RowRule",
    "contract_path",
    "load_contract",
    "validate_output",
]


def validate_output(name: str, frame: pl.DataFrame) -> None:
    """Raise ContractError unless `frame` has exactly the contract's columns, in order, with its dtypes.

    Outputs are the pipeline's fixed edges: a renamed, missing, extra or re-typed column would
    reach every consumer of the Parquet files, so the run stops before writing instead.
    """
    outputs = OUTPUT_NAMES + EXTRA_OUTPUT_NAMES
    if name not in outputs:
        raise ContractError(f"{name!r} is not an output contract; outputs are {', '.join(outputs)}")
    expected = load_contract(name).polars_schema
    actual = frame.schema
    problems: list[str] = []
    missing = [column for column in expected if column not in actual]
    extra = [column for column in actual if column not in expected]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"undeclared column(s) {', '.join(extra)}")
    problems += [
        f"{column} is {actual[column]}, expected {dtype}"
        for column, dtype in expected.items()
        if column in actual and actual[column] != dtype
    ]
    if not problems and list(actual) != list(expected):
        problems.append(f"columns must be in the order {', '.join(expected)}")
    if problems:
        raise ContractError(f"output {name} does not match its contract: {'; '.join(problems)}")
