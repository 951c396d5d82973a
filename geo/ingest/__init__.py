"""Ingestion: bytes of a CSV -> an import plan -> applied to the store in one transaction.

- `read`: bytes -> text (the encoding read from the whole payload) -> string columns;
- `presets`: native, ACLED, UCDP GED and common headers and codes -> schema columns;
- `rules`: every validation rule, once, column-wise, with line, column, value and reason;
- `plan`: `plan_import` (a file -> an ImportPlan) and `apply_plan` (the plan -> the store).
"""

from geo.ingest.plan import (
    MAX_BYTES,
    MAX_ROWS,
    ImportPlan,
    Progress,
    apply_plan,
    event_type_code,
    plan_import,
    write_rejects,
)
from geo.ingest.presets import (
    ACLED_COLUMNS,
    ACLED_TYPES,
    COMMON_HEADERS,
    COUNTRY_ISO3,
    ISO3_TO_ISO2,
    REGION_COUNTRIES,
    SIDE_SYNONYMS,
    TYPE_SYNONYMS,
    UCDP_COLUMNS,
    UCDP_GEO_PRECISION,
    UCDP_TIME_PRECISION,
    UCDP_VIOLENCE,
    column_mapping,
    detect_format,
)
from geo.ingest.read import (
    CSV_FIELD_LIMIT,
    DELIMITERS,
    decode,
    field_limit,
    read_records,
    sniff_delimiter,
)
from geo.ingest.rules import (
    EARLIEST_DATE,
    FATALITY_COLUMNS,
    FORMULA_PREFIXES,
    MAX_FATALITIES,
    RowIssue,
    decide_date_order,
    derived_id,
    parse_date,
)
from geo.region import CORE_LONLAT_BOX as CORE
from geo.region import REGION_LONLAT_BOX as REGION

__all__ = [
    "ACLED_COLUMNS",
    "ACLED_TYPES",
    "COMMON_HEADERS",
    "CORE",
    "COUNTRY_ISO3",
    "CSV_FIELD_LIMIT",
    "DELIMITERS",
    "EARLIEST_DATE",
    "FATALITY_COLUMNS",
    "FORMULA_PREFIXES",
    "ISO3_TO_ISO2",
    "MAX_BYTES",
    "MAX_FATALITIES",
    "MAX_ROWS",
    "REGION",
    "REGION_COUNTRIES",
    "SIDE_SYNONYMS",
    "TYPE_SYNONYMS",
    "UCDP_COLUMNS",
    "UCDP_GEO_PRECISION",
    "UCDP_TIME_PRECISION",
    "UCDP_VIOLENCE",
    "ImportPlan",
    "Progress",
    "RowIssue",
    "apply_plan",
    "column_mapping",
    "decide_date_order",
    "decode",
    "derived_id",
    "detect_format",
    "event_type_code",
    "field_limit",
    "parse_date",
    "plan_import",
    "read_records",
    "sniff_delimiter",
    "write_rejects",
]
