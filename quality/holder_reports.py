"""Source-holder reports: what each holder's delivery meets, what it lacks, what fixing it buys.

Each netbeheerder gets one report on its connections and their consumption; each gemeente one
on its BAG objects. A report is built from that holder's rows only: compliance per contract rule
against the profile's threshold, the number and a few identifiers of its failing records, the
change since the previous run, the fix-impact estimate (`quality.fix_impact`), and the columns
its delivery carried that the contract does not need (data minimisation). JSON for machines,
self-contained HTML for people.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts import load_contract

EXAMPLES = 5
HOLDER_KINDS = {"netbeheerder": ("connections", "consumption"), "gemeente": ("bag",)}
COMPLIANCE_COLUMNS = ["source", "holder", "rule", "n_rows", "n_failed", "compliance", "examples"]


def holder_compliance(kind: str, results: pl.DataFrame) -> pl.DataFrame:
    """Per holder and rule of one delivery: rows, failing rows, compliance and up to `EXAMPLES`
    identifiers of failing records (`COMPLIANCE_COLUMNS`)."""
    names = {rule.name for rule in load_contract(kind).row_rules}
    rules = [c for c in results.columns if c in names or c.startswith("type_")]
    long = results.select("holder", "record_id", *rules).unpivot(index=["holder", "record_id"], variable_name="rule", value_name="passed")
    return (
        long.group_by("holder", "rule")
        .agg(
            n_rows=pl.len(),
            n_failed=(~pl.col("passed")).sum(),
            examples=pl.col("record_id").filter(~pl.col("passed")).drop_nulls().sort().head(EXAMPLES),
        )
        .with_columns(source=pl.lit(kind), compliance=1.0 - pl.col("n_failed") / pl.col("n_rows"),
                      n_failed=pl.col("n_failed").cast(pl.Int64), n_rows=pl.col("n_rows").cast(pl.Int64))
        .select(COMPLIANCE_COLUMNS)
        .sort("holder", "source", "rule")
    )


@dataclass(frozen=True)
class HolderReport:
    holder_type: str
    holder: str
    profile: str
    document: dict

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.holder.lower()).strip("-") or "onbekend"


def build_reports(
    compliance: pl.DataFrame,
    fix_impact: pl.DataFrame,
    deliveries: pl.DataFrame,
    profile: str,
    previous: dict[tuple[str, str], dict] | None = None,
) -> list[HolderReport]:
    """One report per holder. `compliance` from `holder_compliance` (all deliveries),
    `fix_impact` from `quality.fix_impact` (netbeheerders), `deliveries` one row per delivery
    (`source`, `path`, `dropped_columns`), `previous` the previous run's documents by
    (holder type, holder)."""
    reports = []
    for holder_type, kinds in HOLDER_KINDS.items():
        own = compliance.filter(pl.col("source").is_in(kinds) & pl.col("holder").is_not_null())
        for holder in sorted(own["holder"].unique().to_list()):
            rows = own.filter(pl.col("holder") == holder)
            before = {
                (r["source"], r["rule"]): r["compliance"]
                for r in (previous or {}).get((holder_type, holder), {}).get("demands", [])
            }
            demands = []
            for row in rows.iter_rows(named=True):
                contract = load_contract(row["source"])
                threshold = contract.threshold(row["rule"], profile)
                rule = None if row["rule"].startswith("type_") else contract.rule(row["rule"])
                earlier = before.get((row["source"], row["rule"]))
                demands.append({
                    "source": row["source"], "rule": row["rule"],
                    "description": rule.description if rule else f"values of {row['rule'][5:]} have the contract's type",
                    "blocking": contract.blocking(row["rule"]), "threshold": threshold,
                    "n_rows": row["n_rows"], "n_failed": row["n_failed"], "compliance": row["compliance"],
                    "meets": row["compliance"] >= threshold, "examples": list(row["examples"]),
                    "previous_compliance": earlier,
                    "trend": None if earlier is None else row["compliance"] - earlier,
                })
            impact = fix_impact.filter(pl.col("holder") == holder).drop("holder").to_dicts() if holder_type == "netbeheerder" else []
            sent = deliveries.filter(pl.col("source").is_in(kinds)).select("source", "dropped_columns").to_dicts()
            document = {
                "holder_type": holder_type, "holder": holder, "profile": profile,
                "summary": {"demands": len(demands), "missed": sum(not d["meets"] for d in demands),
                            "missed_blocking": sum(not d["meets"] and d["blocking"] for d in demands)},
                "demands": demands, "fix_impact": impact,
                "columns_sent_but_not_needed": [{"source": d["source"], "columns": d["dropped_columns"]} for d in sent],
            }
            reports.append(HolderReport(holder_type, holder, profile, document))
    return reports


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _trend(change: float | None) -> str:
    return "first run" if change is None else f"{100 * change:+.2f} pt"


def report_html(report: HolderReport) -> str:
    d = report.document
    esc = html.escape
    rows = "".join(
        f"<tr class='{'missed' if not x['meets'] else 'met'}'><td>{esc(x['source'])}</td><td>{esc(x['rule'])}</td>"
        f"<td>{esc(x['description'])}</td><td>{'blocking' if x['blocking'] else 'reuse demand'}</td>"
        f"<td>{_pct(x['compliance'])}</td><td>{_pct(x['threshold'])}</td><td>{'yes' if x['meets'] else 'no'}</td>"
        f"<td>{x['n_failed']:,}</td><td>{esc(', '.join(x['examples']))}</td>"
        f"<td>{_trend(x['trend'])}</td></tr>"
        for x in d["demands"]
    )
    impact = "".join(
        f"<tr><td>{esc(x['defect'])}</td><td>{x['n_affected']:,}</td><td>{x['n_correctable']:,}</td>"
        f"<td>{x['n_newly_linked']:,}</td><td>{x['n_now_deterministic']:,}</td><td>{x['mean_probability_gain']:+.4f}</td></tr>"
        for x in d["fix_impact"]
    )
    impact_table = (
        "<h2>What fixing each defect would buy</h2><p>The delivery linked again with the defect corrected on the "
        "records where the right value can be told: the object this run linked them to or, for connections it left "
        "unresolved, the best candidate it found (so 'would newly link' assumes your correction confirms that "
        "candidate). Records without either are counted, not corrected.</p><table><thead><tr><th>defect</th>"
        "<th>records with it</th><th>correctable</th><th>would newly link</th><th>would link deterministically</th>"
        f"<th>mean probability gain</th></tr></thead><tbody>{impact}</tbody></table>"
    ) if d["fix_impact"] else ""
    sent = "".join(
        f"<li>{esc(x['source'])}: {esc(', '.join(x['columns'])) if x['columns'] else 'none'}</li>"
        for x in d["columns_sent_but_not_needed"]
    )
    s = d["summary"]
    verdict = (f"Your delivery misses {s['missed']} of {s['demands']} demands"
               + (f", {s['missed_blocking']} of them blocking" if s["missed_blocking"] else ", none of them blocking")
               if s["missed"] else f"Your delivery meets all {s['demands']} demands")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>koppelwerk quality report: {esc(report.holder)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
        "tr.missed td{background:#fdecea}</style></head><body>"
        f"<h1>Quality of your delivery: {esc(report.holder)}</h1>"
        f"<p>{esc(report.holder_type)} · use profile {esc(report.profile)}. This report shows only your own records.</p>"
        f"<p class='verdict'>{esc(verdict)}.</p>"
        "<h2>Demands</h2><table><thead><tr><th>delivery</th><th>rule</th><th>what it asks</th><th>kind</th>"
        "<th>compliance</th><th>threshold</th><th>met</th><th>failing records</th><th>examples</th>"
        f"<th>since previous run</th></tr></thead><tbody>{rows}</tbody></table>{impact_table}"
        f"<h2>Columns you sent that are not needed</h2><p>Dropped at ingestion (data minimisation):</p><ul>{sent}</ul>"
        "</body></html>"
    )


def write_reports(reports: list[HolderReport], folder: Path) -> pl.DataFrame:
    """Write each report as JSON and HTML under `folder/<holder type>/<slug>.*`; returns an index."""
    index = []
    for report in reports:
        target = folder / report.holder_type
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{report.slug}.json").write_text(json.dumps(report.document, indent=1, ensure_ascii=False), encoding="utf-8")
        (target / f"{report.slug}.html").write_text(report_html(report), encoding="utf-8")
        index.append({"holder_type": report.holder_type, "holder": report.holder,
                      "html": str(target / f"{report.slug}.html"), "missed": report.document["summary"]["missed"]})
    return pl.DataFrame(index, schema={"holder_type": pl.String, "holder": pl.String, "html": pl.String, "missed": pl.Int64})


def read_previous(folder: Path) -> dict[tuple[str, str], dict]:
    """The previous run's report documents in `folder`, by (holder type, holder)."""
    documents = {}
    for path in folder.glob("*/*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        documents[(document["holder_type"], document["holder"])] = document
    return documents
