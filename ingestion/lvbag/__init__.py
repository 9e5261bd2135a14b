"""Reader for Kadaster LVBAG 2.0 XML extracts (gemeente, national, or a single per-type zip).

The extract is read where it lies, streaming XML out of zips nested in zips, and mapped onto the
`bag` input columns as every object stands on one day (the peildatum, by default the extract
date). See `reader` for the mapping, `archive` for the zip layouts, `chunks` for the XML.
"""

from __future__ import annotations

from ingestion.lvbag.reader import bag_schema, is_lvbag_extract, read_lvbag_extract

__all__ = ["bag_schema", "is_lvbag_extract", "read_lvbag_extract"]
