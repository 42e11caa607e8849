"""History import: complaints from a CSV or XLSX file, by a column mapping (issue: history import).

The mapping names the source and, for each Kesu field, the file's column:

    {"source": "crm2019",
     "columns": {"source_id": "工单号", "description": "投诉内容", "received_at": "受理时间",
                 "phone": "电话", "channel": "渠道", "state": "状态", "closed_at": "结案时间"},
     "defaults": {"channel": "hotline"},
     "values": {"state": {"已结案": "closed"}},
     "date_format": "%Y/%m/%d %H:%M", "timezone": "Asia/Shanghai"}

A wrong mapping, a file that cannot be read, or a mapped column missing from its header is
refused before any row is read. Each row is then checked as intake checks a staff submission
(`parse_incoming`), plus its id, times and state; a bad row is reported by its number as the
user sees it (the header is row 1), its column and the reason, and the good rows are imported.

Rows go in batches, one transaction each, with the rows the intake path would write —
customer (found by phone or email, else created), complaint, one `imported` event, search
row — plus an ImportedRow keyed by (source, source id): a re-run skips what is there, so a run
that stopped is completed by running it again. It is not `receive()` row by row: that takes
six round trips and sends an acknowledgement per complaint. Here each batch costs a handful
of statements (COPY on PostgreSQL), triage runs on the whole batch with the same rules,
scoring and classifier, and nothing is sent: no outbox row, no alert. Imported complaints
keep their received time and take a reference number of that day from the same per-day
counter as live intake, so the two never collide. Open ones get their SLA policy and clocks
from their received time (sla.services.start_history_clocks): what was overdue before the
import is taken as such, silently, so the sweep announces only what falls due after it.
"""

from kesu.intake.importer.files import SourceFile, check_columns, open_source
from kesu.intake.importer.jobs import (
    STALE_AFTER,
    _claim,
    errors_csv,
    queue_again,
    queue_import,
    run_job,
    run_pending_imports,
)
from kesu.intake.importer.mapping import (
    ALIASES,
    DATE_FORMATS,
    EARLIEST,
    FIELDS,
    FUTURE_SKEW,
    IMPORTABLE_STATES,
    MAPPING_KEYS,
    NO_DEFAULT,
    PARSED,
    REQUIRED,
    TIMES,
    WORDS,
    ImportMapping,
    load_mapping,
    read_mapping,
)
from kesu.intake.importer.rows import Problem, _predict_all
from kesu.intake.importer.sql import _Table
from kesu.intake.importer.writer import (
    ATTEMPTS,
    BATCH_SIZE,
    ERRORS_KEPT,
    PARALLEL_FROM,
    Outcome,
    Progress,
    import_file,
)

__all__ = [
    "ALIASES",
    "ATTEMPTS",
    "BATCH_SIZE",
    "DATE_FORMATS",
    "EARLIEST",
    "ERRORS_KEPT",
    "FIELDS",
    "FUTURE_SKEW",
    "IMPORTABLE_STATES",
    "MAPPING_KEYS",
    "NO_DEFAULT",
    "PARALLEL_FROM",
    "PARSED",
    "REQUIRED",
    "STALE_AFTER",
    "TIMES",
    "WORDS",
    "ImportMapping",
    "Outcome",
    "Problem",
    "Progress",
    "SourceFile",
    "_Table",
    "_claim",
    "_predict_all",
    "check_columns",
    "errors_csv",
    "import_file",
    "load_mapping",
    "open_source",
    "queue_again",
    "queue_import",
    "read_mapping",
    "run_job",
    "run_pending_imports",
]
