"""The `koppelwerk` command: `run` executes the Dagster job on a delivery, `synth` makes sample data,
`settings` lists the tuning settings `run --set` takes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.config import DATA_DIR_VARIABLE, PROFILES, RunConfig, all_settings, with_settings
from core.errors import KoppelwerkError
from core.run_folder import RunFolder, discard, recover


def _rate_override(text: str) -> tuple[str, float]:
    """`NAME=VALUE` of a --set option, checked at parse time so a typo gets argparse's message."""
    name, equals, value = text.partition("=")
    try:
        if not (name and equals):
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="koppelwerk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="link a delivery and publish statistics (the Dagster job)")
    run.add_argument(
        "--bag", type=Path, required=True, help="BAG objects: Parquet, CSV or an LVBAG 2.0 XML extract zip"
    )
    run.add_argument("--connections", type=Path, required=True, help="grid connections: Parquet or CSV")
    run.add_argument("--consumption", type=Path, required=True, help="annual consumption: Parquet or CSV")
    run.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    run.add_argument("--year", type=int, default=None, help="consumption year (default: the latest delivered)")
    run.add_argument(
        "--profile", choices=sorted(PROFILES), default="statistical", help="use profile (default: statistical)"
    )
    run.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"the operator's folder for the warehouse and run logs, outside --out "
        f"(default: ${DATA_DIR_VARIABLE}, else ./.koppelwerk)",
    )
    run.add_argument(
        "--spill-dir",
        type=Path,
        default=None,
        help="where DuckDB spills what exceeds engine.duckdb_memory_gb (default: DATA_DIR/spill)",
    )
    run.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="SECTION.NAME=VALUE",
        help="change one tuning setting, e.g. linkage.m_floor=0.001; repeatable (`koppelwerk settings` lists them)",
    )

    commands.add_parser("settings", help="list every tuning setting `run --set` takes, with its default")

    synth = commands.add_parser("synth", help="generate a fictional municipality with truth files")
    synth.add_argument("--objects", type=int, required=True, help="number of BAG objects (>= 100)")
    synth.add_argument("--seed", type=int, default=1, help="random seed; same seed, same files")
    synth.add_argument("--out", type=Path, required=True, help="output folder")
    synth.add_argument("--noise", type=Path, default=None, help="YAML file with noise rates (see docs/synth.md)")
    synth.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=_rate_override,
        help="override one noise rate; repeatable",
    )
    synth.add_argument(
        "--connections-format",
        choices=["parquet", "csv"],
        default="parquet",
        help="csv writes a grid operator's export: ';'-separated, Windows-1252",
    )
    return parser


# Shipped with the package: telemetry off, runs in this process's coordinator.
INSTANCE_CONFIG = Path(__file__).with_name("dagster.yaml")


def dagster_instance():
    """The local Dagster instance whose run history the UI shows: $DAGSTER_HOME, else ./.dagster."""
    from dagster import DagsterInstance

    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(INSTANCE_CONFIG, home / "dagster.yaml")
    return DagsterInstance.from_config(str(home))


def _check_text(evaluation: Any) -> str:
    """A failed check's name, with its one-line summary where it has one."""
    summary = evaluation.metadata.get("summary")
    return f"{evaluation.check_name} ({summary.value})" if summary is not None else evaluation.check_name


def _check_details(evaluation: Any) -> str:
    """A failed check with all its metadata (the examples among them), for the run log: the
    terminal's one line names the check, the log says where to look."""
    items = "; ".join(f"{key}: {entry.value}" for key, entry in evaluation.metadata.items())
    return f"check {evaluation.asset_key.to_user_string()}.{evaluation.check_name} failed: {items}"


def _koppelwerk_error_names() -> set[str]:
    """Class names of our own errors, whose message is meant for the operator as it is."""
    found, todo = set(), [KoppelwerkError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _failure_text(event: Any) -> str:
    """One line for a failed step: our own error's message as it is, anything else with its
    step and type (the traceback is in the run's log)."""
    error = event.step_failure_data.error
    cause = error.cause or error
    message = cause.message.split(": ", 1)[-1].strip()
    if cause.cls_name in _koppelwerk_error_names():
        return message
    return f"step '{event.step_key}' failed: {cause.cls_name}: {message}"


def _job_result(config: RunConfig, folder: RunFolder) -> Any:
    """Run the job: in this process, or with every step in a process of its own for a large
    delivery (`RunConfig.isolates_steps`); the result holds the run's events either way."""
    from dagster._core.execution.api import execute_run

    from pipelines.definitions import build_definitions, reconstructable_job
    from pipelines.jobs import JOB_NAME
    from pipelines.loggers import asset_steps

    isolated = reconstructable_job(config) if config.isolates_steps else None
    job = isolated.get_definition() if isolated else build_definitions(config).resolve_job_def(JOB_NAME)
    run_config = {
        "loggers": {
            "progress": {"config": {"steps": asset_steps(job)}},
            "run_log": {"config": {"path": str(folder.log)}},
        }
    }
    instance = dagster_instance()
    if isolated is None:
        return job.execute_in_process(
            run_config=run_config, instance=instance, run_id=folder.run_id, raise_on_error=False
        )
    # `dg.execute_job` with the run id the CLI has already named the run's log and folder after
    folder.open()  # owned by this process: a step's process ends, the run goes on
    run = instance.create_run_for_job(
        job_def=job, run_id=folder.run_id, run_config=run_config, job_code_origin=isolated.get_python_origin()
    )
    return execute_run(isolated, run, instance, raise_on_error=False)


def _execute(config: RunConfig, folder: RunFolder) -> Any:
    """Run the job; any failure becomes a KoppelwerkError with one line, and the run's staged
    outputs are set aside (the output folder's good run stays as it was)."""
    from dagster import AssetCheckSeverity

    try:
        result = _job_result(config, folder)
        failed = [evaluation for evaluation in result.get_asset_check_evaluations() if not evaluation.passed]
        blocking = [evaluation for evaluation in failed if evaluation.severity == AssetCheckSeverity.ERROR]
        for evaluation in failed:
            logging.getLogger("koppelwerk").log(
                logging.ERROR if evaluation.severity == AssetCheckSeverity.ERROR else logging.WARNING,
                _check_details(evaluation),
            )
        if blocking:
            raise KoppelwerkError("asset checks failed: " + "; ".join(_check_text(e) for e in blocking))
        step_failures = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
        if step_failures:
            raise KoppelwerkError(_failure_text(step_failures[0]))
        if not result.success:
            raise KoppelwerkError("the run did not complete")
    except BaseException:
        discard(folder)
        raise
    for warning in failed:
        print(f"koppelwerk: warning: {_check_text(warning)}", file=sys.stderr)
    return result


def run_config(args: argparse.Namespace) -> RunConfig:
    """The RunConfig of `koppelwerk run`'s arguments, `--set` applied; a KoppelwerkError with one
    line for a missing delivery, a bad setting or a data folder inside the output folder."""
    for name in ("bag", "connections", "consumption"):
        path: Path = getattr(args, name)
        if not path.exists():
            raise KoppelwerkError(f"--{name}: {path} does not exist")
    config = RunConfig(
        bag=args.bag.resolve(),
        connections=args.connections.resolve(),
        consumption=args.consumption.resolve(),
        out_dir=args.out.resolve(),
        year=args.year,
        profile=args.profile,
        **({"data_dir": args.data_dir.resolve()} if args.data_dir else {}),
        spill_dir=args.spill_dir.resolve() if args.spill_dir else None,
    )
    config = with_settings(config, args.settings)
    if config.data_dir == config.out_dir or config.out_dir in config.data_dir.parents:
        raise KoppelwerkError(
            f"--data-dir {config.data_dir} lies in --out {config.out_dir}: the warehouse holds "
            "per-connection data and must stay out of the output folder"
        )
    return config


def _run(args: argparse.Namespace) -> int:
    from pipelines.loggers import python_logging_to

    config = run_config(args)
    folder = config.run_folder(str(uuid.uuid4()))
    python_logging_to(folder.log)
    recover(config.out_dir, config.data_dir)
    print(f"koppelwerk: run {folder.run_id}, log {folder.log}", file=sys.stderr)
    try:
        result = _execute(config, folder)
    except KoppelwerkError as error:
        raise KoppelwerkError(f"{error} (run {folder.run_id}; details in {folder.log})") from error
    summary = json.loads((config.out_dir / "run_summary.json").read_text())
    print(f"\nkoppelwerk run {result.run_id} succeeded")
    for key in (
        "connections_read",
        "connections_linked",
        "connections_in_residue",
        "connections_quarantined",
        "link_rate_active",
        "statistics_cells",
        "statistics_cells_suppressed",
    ):
        print(f"  {key.replace('_', ' '):32} {summary[key]}")
    for row in summary["residue_share_of_total"]:
        print(f"  {'residue share of ' + row['unit']:32} {100 * row['share_of_total']:.2f} %")
    print(f"wrote to {config.out_dir} (only public/ may leave the organisation):")
    for path in sorted(config.out_dir.iterdir()):
        if not path.name.startswith("."):
            print(f"  {path}")
    print(f"warehouse: {folder.warehouse}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    import synth

    try:
        noise = synth.NoiseConfig.from_yaml(args.noise) if args.noise else synth.NoiseConfig()
        if args.overrides:
            noise = noise.with_overrides(dict(args.overrides))
        # chunk by chunk: ten million objects in the memory of one chunk
        paths = synth.write_generated(
            args.objects, args.seed, args.out, noise, connections_format=args.connections_format
        )
    except ValueError as error:  # unknown rate name, rate out of range, too few objects, chunk share used up
        raise KoppelwerkError(str(error)) from error
    for name, path in paths.items():
        print(f"  {name:20} {path}")
    return 0


def settings_table() -> str:
    """Every setting as `section.name = default  # doc`, one a line, columns aligned."""
    rows = [
        (setting.key, setting.default if isinstance(setting.default, str) else repr(setting.default), setting.doc)
        for setting in all_settings()
    ]
    key_width = max(len(key) for key, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    return "\n".join(f"{key:{key_width}} = {value:{value_width}}  # {doc}" for key, value, doc in rows)


def _settings(_: argparse.Namespace) -> int:
    print(settings_table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("koppelwerk").setLevel(logging.INFO)
    try:
        command = {"run": _run, "synth": _synth, "settings": _settings}[args.command]
        return command(args)
    except KoppelwerkError as error:
        print(f"koppelwerk: error: {_one_line(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("koppelwerk: error: interrupted; the output folder is as the last good run left it", file=sys.stderr)
        return 130
    except Exception as error:  # a bug of ours: the traceback goes to the log, one line to the terminal
        logging.getLogger("koppelwerk").exception("unexpected error")
        print(f"koppelwerk: error: unexpected {type(error).__name__}: {_one_line(str(error))}", file=sys.stderr)
        return 2


def _one_line(text: str) -> str:
    """Messages can quote input values: keep them on one line and of readable length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 500 else flat[:497] + "..."


if __name__ == "__main__":
    sys.exit(main())
