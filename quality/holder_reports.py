"""Source-holder reports: what each holder's delivery meets, what it lacks, what fixing it buys.

Each netbeheerder gets one report on its connections and their consumption; each gemeente one
on its BAG objects. A report is built from that holder's rows only: compliance per contract rule
against the profile's threshold, the number and a few identifiers of its failing records, the
change since the previous run, the fix-impact estimate (`quality.fix_impact`), and the columns
its delivery carried that the contract does not need (data minimisation). JSON for machines,
self-contained HTML for people.

A holder is its exact name as delivered: names that differ in case, spacing or an invisible
character are different holders, each with a report of its own. Rows that name no holder (an
empty or blank field) get one report per holder type too, for the operator of the run, so no
row is left out of every report. Files are named by `holder_key`, and `index.json` (with
`index.html` for people) maps each holder type and exact name to its files.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_contracts import load_contract

EXAMPLES = 5
HOLDER_KINDS = {"netbeheerder": ("connections", "consumption"), "gemeente": ("bag",)}
COMPLIANCE_COLUMNS = ["source", "holder", "rule", "n_rows", "n_failed", "compliance", "examples"]
# What the report of the rows naming no holder is called, and what those rows are.
UNASSIGNED_LABELS = {"netbeheerder": "(netbeheerder niet ingevuld)", "gemeente": "(gemeente niet ingevuld)"}
UNASSIGNED_ROWS = {
    "netbeheerder": "connections whose netbeheerder is empty, and consumption of EANs that no connection "
    "with a netbeheerder has",
    "gemeente": "BAG objects whose gemeente_code is empty",
}
# A real holder's key ends in "-" and hex digits or is hex digits only, so it can never be this.
UNASSIGNED_KEY = "_niet-ingevuld"
SLUG_LENGTH = 40
DIGEST_LENGTH = 10
INDEX_JSON = "index.json"
INDEX_HTML = "index.html"
INDEX_SCHEMA = {"holder_type": pl.String, "holder": pl.String, "key": pl.String, "html": pl.String, "missed": pl.Int64}


def named_holder(holder: pl.Expr) -> pl.Expr:
    """The holder name, or null where it is empty or only whitespace: such a field names no
    holder any more than a missing one does, so all those rows share one report."""
    return pl.when(holder.str.strip_chars() != "").then(holder)


def holder_key(holder: str | None) -> str:
    """The file name (without suffix) of a holder's report: a readable ASCII slug of at most
    `SLUG_LENGTH` characters and the first `DIGEST_LENGTH` hex digits of the SHA-256 of the
    exact name. The slug is for people; the digest keeps names that slug alike apart and gives
    a name the same file in every run. Only [a-z0-9-] (and `_` in UNASSIGNED_KEY) appear, so a
    key is never a path."""
    if holder is None:
        return UNASSIGNED_KEY
    digest = hashlib.sha256(holder.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_LENGTH]
    ascii_name = unicodedata.normalize("NFKD", holder).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_LENGTH].rstrip("-")
    return f"{slug}-{digest}" if slug else digest


def holder_label(holder_type: str, holder: str | None) -> str:
    """How a report names its holder: the exact name, or what the rows naming none are called."""
    return UNASSIGNED_LABELS[holder_type] if holder is None else holder


def holder_compliance(kind: str, results: pl.DataFrame) -> pl.DataFrame:
    """Per holder and rule of one delivery: rows, failing rows, compliance and up to `EXAMPLES`
    identifiers of failing records (`COMPLIANCE_COLUMNS`). `holder` is null for the rows that
    name no holder (`named_holder`). One pass over the rows with an aggregation per rule: the
    long form (a row per record and rule) was 50 million rows at a million objects."""
    names = {rule.name for rule in load_contract(kind).row_rules}
    rules = [c for c in results.columns if c in names or c.startswith("type_")]
    failed = {rule: pl.col(rule).not_() for rule in rules}
    wide = results.group_by(named_holder(pl.col("holder")).alias("holder")).agg(
        pl.len().alias("n_rows"),
        *[failed[rule].sum().alias(f"failed:{rule}") for rule in rules],
        *[
            pl.col("record_id").filter(failed[rule]).drop_nulls().sort().head(EXAMPLES).alias(f"examples:{rule}")
            for rule in rules
        ],
    )
    per_rule = [
        wide.select("holder", "n_rows", rule=pl.lit(rule), n_failed=f"failed:{rule}", examples=f"examples:{rule}")
        for rule in rules
    ]
    return (
        pl.concat(per_rule)
        .with_columns(
            source=pl.lit(kind),
            compliance=1.0 - pl.col("n_failed") / pl.col("n_rows"),
            n_failed=pl.col("n_failed").cast(pl.Int64),
            n_rows=pl.col("n_rows").cast(pl.Int64),
        )
        .select(COMPLIANCE_COLUMNS)
        .sort("holder", "source", "rule", nulls_last=True)
    )


@dataclass(frozen=True)
class HolderReport:
    """One holder's report; `holder` is the exact name, or None for the rows that name none."""

    holder_type: str
    holder: str | None
    profile: str
    document: dict

    @property
    def key(self) -> str:
        return holder_key(self.holder)

    @property
    def label(self) -> str:
        return holder_label(self.holder_type, self.holder)


def _holders(own: pl.DataFrame) -> list[str | None]:
    """The holders in `own`, by exact name, then None if some rows name no holder."""
    names = own["holder"].unique()
    return sorted(names.drop_nulls().to_list()) + ([None] if names.null_count() else [])


def _demands(rows: pl.DataFrame, profile: str, before: dict[tuple[str, str], float]) -> list[dict]:
    """One holder's compliance rows as report demands, with the contract's wording and
    threshold and the change since `before` (compliance by source and rule)."""
    demands = []
    for row in rows.iter_rows(named=True):
        contract = load_contract(row["source"])
        threshold = contract.threshold(row["rule"], profile)
        rule = None if row["rule"].startswith("type_") else contract.rule(row["rule"])
        earlier = before.get((row["source"], row["rule"]))
        demands.append(
            {
                "source": row["source"],
                "rule": row["rule"],
                "description": rule.description if rule else f"values of {row['rule'][5:]} have the contract's type",
                "blocking": contract.blocking(row["rule"]),
                "threshold": threshold,
                "n_rows": row["n_rows"],
                "n_failed": row["n_failed"],
                "compliance": row["compliance"],
                "meets": row["compliance"] >= threshold,
                "examples": list(row["examples"]),
                "previous_compliance": earlier,
                "trend": None if earlier is None else row["compliance"] - earlier,
            }
        )
    return demands


def _impact(fix_impact: pl.DataFrame, holder: str | None) -> list[dict]:
    """The holder's fix-impact rows (without `holder`). `fix_impact` groups by the name as
    delivered, so the blank names that together make the rows naming no holder are summed per
    defect, the gain as the mean over all their affected records."""
    own = fix_impact.filter(named_holder(pl.col("holder")).eq_missing(holder))
    return (
        own.group_by("defect")
        .agg(
            pl.col("n_affected", "n_correctable", "n_newly_linked", "n_now_deterministic").sum(),
            mean_probability_gain=(pl.col("mean_probability_gain") * pl.col("n_affected")).sum()
            / pl.col("n_affected").sum(),
        )
        .sort("defect")
        .to_dicts()
    )


def build_reports(
    compliance: pl.DataFrame,
    fix_impact: pl.DataFrame,
    deliveries: pl.DataFrame,
    profile: str,
    previous: dict[tuple[str, str | None], dict] | None = None,
) -> list[HolderReport]:
    """One report per holder and one per holder type for the rows naming none. `compliance`
    from `holder_compliance` (all deliveries), `fix_impact` from `quality.fix_impact`
    (netbeheerders), `deliveries` one row per delivery (`source`, `path`, `dropped_columns`),
    `previous` the previous run's documents by (holder type, exact holder name or None)."""
    reports = []
    for holder_type, kinds in HOLDER_KINDS.items():
        own = compliance.filter(pl.col("source").is_in(kinds))
        sent = deliveries.filter(pl.col("source").is_in(kinds)).select("source", "dropped_columns").to_dicts()
        for holder in _holders(own):
            before = {
                (d["source"], d["rule"]): d["compliance"]
                for d in (previous or {}).get((holder_type, holder), {}).get("demands", [])
            }
            demands = _demands(own.filter(pl.col("holder").eq_missing(holder)), profile, before)
            document = {
                "holder_type": holder_type,
                "holder": holder,
                "label": holder_label(holder_type, holder),
                "profile": profile,
                "summary": {
                    "demands": len(demands),
                    "missed": sum(not d["meets"] for d in demands),
                    "missed_blocking": sum(not d["meets"] and d["blocking"] for d in demands),
                },
                "demands": demands,
                "fix_impact": _impact(fix_impact, holder) if holder_type == "netbeheerder" else [],
                "columns_sent_but_not_needed": [{"source": d["source"], "columns": d["dropped_columns"]} for d in sent],
            }
            reports.append(HolderReport(holder_type, holder, profile, document))
    return reports


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _trend(change: float | None) -> str:
    return "first run" if change is None else f"{100 * change:+.2f} pt"


def _visible(text: str) -> str:
    """`text` HTML-escaped, with control characters (a NUL, a tab) written out as `\\x00`: names
    that differ only in one still read differently, and the page stays valid HTML."""
    return html.escape("".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text))


def _name(text: str) -> str:
    """A holder name for a page: visible (`_visible`), its spaces kept as delivered."""
    return f"<span class='holder-name'>{_visible(text)}</span>"


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
    "tr.missed td{background:#fdecea}.holder-name{white-space:pre-wrap;overflow-wrap:anywhere}"
)


def _verdict(summary: dict, unassigned: bool) -> str:
    """The report's one-line conclusion, about the holder's delivery or about the rows naming none."""
    subject, miss, meet = ("These records", "miss", "meet") if unassigned else ("Your delivery", "misses", "meets")
    if not summary["missed"]:
        return f"{subject} {meet} all {summary['demands']} demands"
    blocking = (
        f"{summary['missed_blocking']} of them blocking" if summary["missed_blocking"] else "none of them blocking"
    )
    return f"{subject} {miss} {summary['missed']} of {summary['demands']} demands, {blocking}"


def _audience(report: HolderReport) -> str:
    """Who the report is for: the holder, or, for the rows naming none, the run's operator."""
    if report.holder is None:
        return (
            f"For the operator of this run: the records that name no {report.holder_type} "
            f"({UNASSIGNED_ROWS[report.holder_type]}), so that no holder's report holds them."
        )
    return "This report shows only your own records."


def report_html(report: HolderReport) -> str:
    d = report.document
    esc = html.escape
    rows = "".join(
        f"<tr class='{'missed' if not x['meets'] else 'met'}'><td>{esc(x['source'])}</td><td>{esc(x['rule'])}</td>"
        f"<td>{esc(x['description'])}</td><td>{'blocking' if x['blocking'] else 'reuse demand'}</td>"
        f"<td>{_pct(x['compliance'])}</td><td>{_pct(x['threshold'])}</td><td>{'yes' if x['meets'] else 'no'}</td>"
        f"<td>{x['n_failed']:,}</td><td>{_visible(', '.join(x['examples']))}</td>"
        f"<td>{_trend(x['trend'])}</td></tr>"
        for x in d["demands"]
    )
    impact = "".join(
        f"<tr><td>{esc(x['defect'])}</td><td>{x['n_affected']:,}</td><td>{x['n_correctable']:,}</td>"
        f"<td>{x['n_newly_linked']:,}</td><td>{x['n_now_deterministic']:,}</td><td>{x['mean_probability_gain']:+.4f}</td></tr>"
        for x in d["fix_impact"]
    )
    impact_table = (
        (
            "<h2>What fixing each defect would buy</h2><p>The delivery linked again with the defect corrected on the "
            "records where the right value can be told: the object this run linked them to or, for connections it left "
            "unresolved, the best candidate it found (so 'would newly link' assumes your correction confirms that "
            "candidate). Records without either are counted, not corrected.</p><table><thead><tr><th>defect</th>"
            "<th>records with it</th><th>correctable</th><th>would newly link</th><th>would link deterministically</th>"
            f"<th>mean probability gain</th></tr></thead><tbody>{impact}</tbody></table>"
        )
        if d["fix_impact"]
        else ""
    )
    sent = "".join(
        f"<li>{esc(x['source'])}: {esc(', '.join(x['columns'])) if x['columns'] else 'none'}</li>"
        for x in d["columns_sent_but_not_needed"]
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>koppelwerk quality report: {_visible(report.label)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{'Quality of the records naming no holder' if report.holder is None else 'Quality of your delivery'}: "
        f"{_name(report.label)}</h1>"
        f"<p>{esc(report.holder_type)} · use profile {esc(report.profile)}. {esc(_audience(report))}</p>"
        f"<p class='verdict'>{esc(_verdict(d['summary'], report.holder is None))}.</p>"
        "<h2>Demands</h2><table><thead><tr><th>delivery</th><th>rule</th><th>what it asks</th><th>kind</th>"
        "<th>compliance</th><th>threshold</th><th>met</th><th>failing records</th><th>examples</th>"
        f"<th>since previous run</th></tr></thead><tbody>{rows}</tbody></table>{impact_table}"
        f"<h2>Columns you sent that are not needed</h2><p>Dropped at ingestion (data minimisation):</p><ul>{sent}</ul>"
        "</body></html>"
    )


def index_html(entries: list[dict]) -> str:
    """The reports of a run for people: holder type, name as delivered, link, demands missed."""
    rows = "".join(
        f"<tr><td>{html.escape(e['holder_type'])}</td>"
        f"<td>{'<em>' + _name(e['label']) + '</em>' if e['holder'] is None else _name(e['label'])}</td>"
        f"<td><a href='{html.escape(e['html'])}'>{html.escape(e['key'])}</a></td>"
        f"<td>{e['missed']} of {e['demands']}</td></tr>"
        for e in entries
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>koppelwerk quality reports</title>"
        f"<style>{_STYLE}</style></head><body><h1>Quality reports of this run</h1>"
        "<p>One report per source holder, by its name exactly as delivered (control characters shown as \\x..). "
        f"{html.escape(' and '.join(UNASSIGNED_LABELS.values()))} hold the records that name no holder; they are for "
        "the operator of the run.</p><table><thead><tr><th>holder type</th><th>holder</th><th>report</th>"
        f"<th>demands missed</th></tr></thead><tbody>{rows}</tbody></table></body></html>"
    )


def _check_files(reports: list[HolderReport]) -> None:
    """Stop before writing if two reports would share a file (a holder reported twice, or the
    all but impossible clash of two truncated digests) or one names no known holder-type folder:
    a report must never overwrite another or land outside the reports folder."""
    unknown = sorted({r.holder_type for r in reports} - set(HOLDER_KINDS))
    if unknown:
        raise ValueError(f"unknown holder type(s) {unknown}")
    shared = [key for key, n in Counter((r.holder_type, r.key) for r in reports).items() if n > 1]
    if shared:
        raise ValueError(f"holder reports would share a file: {shared}")


def _write_report(report: HolderReport, folder: Path) -> dict:
    """Write one report's JSON and HTML; its index entry, paths relative to `folder`."""
    (folder / report.holder_type).mkdir(parents=True, exist_ok=True)
    paths = {suffix: f"{report.holder_type}/{report.key}.{suffix}" for suffix in ("json", "html")}
    (folder / paths["json"]).write_text(json.dumps(report.document, indent=1, ensure_ascii=False), encoding="utf-8")
    (folder / paths["html"]).write_text(report_html(report), encoding="utf-8")
    summary = report.document["summary"]
    return {
        "holder_type": report.holder_type,
        "holder": report.holder,
        "label": report.label,
        "key": report.key,
        **paths,
        "demands": summary["demands"],
        "missed": summary["missed"],
        "missed_blocking": summary["missed_blocking"],
    }


def write_reports(reports: list[HolderReport], folder: Path) -> pl.DataFrame:
    """Write each report as `folder/<holder type>/<key>.json|html`, then the index
    (`index.json`, `index.html`) last, so a folder with an index has every file it lists.
    Returns the index as a frame (`INDEX_SCHEMA`, `html` the report's full path)."""
    _check_files(reports)
    folder.mkdir(parents=True, exist_ok=True)
    entries = [_write_report(report, folder) for report in reports]
    (folder / INDEX_HTML).write_text(index_html(entries), encoding="utf-8")
    (folder / INDEX_JSON).write_text(json.dumps({"reports": entries}, indent=1, ensure_ascii=False), encoding="utf-8")
    return pl.DataFrame(
        [{**{name: e[name] for name in INDEX_SCHEMA}, "html": str(folder / e["html"])} for e in entries],
        schema=INDEX_SCHEMA,
    )


def read_previous(folder: Path) -> dict[tuple[str, str | None], dict]:
    """The previous run's report documents in `folder`, by (holder type, exact holder name or
    None), each read from the file its exact name keys (the index's paths are not trusted).

    A folder without an index (no earlier run, or one from before reports were keyed by exact
    name, when holders could overwrite each other's file) gives none: the trend starts afresh
    rather than compare a holder with someone else's figures.
    """
    index = folder / INDEX_JSON
    if not index.is_file():
        return {}
    entries = json.loads(index.read_text(encoding="utf-8"))["reports"]
    documents = {}
    for entry in entries:
        if entry["holder_type"] not in HOLDER_KINDS:
            raise ValueError(f"{index}: unknown holder type {entry['holder_type']!r}")
        path = folder / entry["holder_type"] / f"{holder_key(entry['holder'])}.json"
        documents[(entry["holder_type"], entry["holder"])] = json.loads(path.read_text(encoding="utf-8"))
    return documents
