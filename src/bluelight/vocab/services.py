"""Write use cases of the code lists."""

from __future__ import annotations

import csv
import io

from sqlalchemy import delete

from bluelight.audit import Who
from bluelight.db import Database
from bluelight.kernel import new_id, utcnow
from bluelight.vocab.catalogue import code_list
from bluelight.vocab.errors import VocabError, VocabErrorCode
from bluelight.vocab.models import ForceCodeMapping
from bluelight.vocab.rules import MAX_MAPPING_ROWS, check_mapping_rows
from bluelight.vocab.schemas import MappingRejectionRead, MappingReport

MAX_MAPPING_BYTES = 2 * 1024 * 1024


def _read_csv(csv_text: str) -> list[tuple[int, list[str]]]:
    if len(csv_text.encode()) > MAX_MAPPING_BYTES:
        raise VocabError(
            VocabErrorCode.MAPPING_INVALID, f"a mapping file is at most {MAX_MAPPING_BYTES} bytes"
        )
    reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff")))
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue
            rows.append((reader.line_num, fields))
            if len(rows) > MAX_MAPPING_ROWS + 1:
                raise VocabError(
                    VocabErrorCode.MAPPING_INVALID,
                    f"a mapping file has at most {MAX_MAPPING_ROWS} lines",
                )
    except csv.Error as exc:
        raise VocabError(
            VocabErrorCode.MAPPING_INVALID, f"the file is not readable CSV: {exc}"
        ) from exc
    if rows and [f.strip().lower() for f in rows[0][1]][:1] == ["local_code"]:
        rows = rows[1:]
    return rows


def import_mapping(
    db: Database, *, force_code: str, list_name: str, csv_text: str, actor: Who
) -> MappingReport:
    """Load a force's legacy list for ``list_name``, replacing the one loaded before.

    The file is CSV with the columns local code, local label, national code (an optional
    header line starting ``local_code`` is skipped). Lines that cannot be loaded are returned
    in the report, never silently dropped.

    Raises:
        VocabError: UNKNOWN_LIST, or MAPPING_INVALID when the file is unreadable or too big.
    """
    target = code_list(list_name)
    accepted, rejected = check_mapping_rows(_read_csv(csv_text), target)
    now = utcnow()
    with db.write() as session:
        session.execute(
            delete(ForceCodeMapping).where(
                ForceCodeMapping.force_code == force_code,
                ForceCodeMapping.list_name == list_name,
            )
        )
        session.add_all(
            ForceCodeMapping(
                id=new_id(),
                force_code=force_code,
                list_name=list_name,
                local_code=row.local_code,
                local_label=row.local_label,
                national_code=row.national_code,
                loaded_at=now,
                loaded_by=actor.username,
            )
            for row in accepted
        )
    return MappingReport(
        force_code=force_code,
        list_name=list_name,
        loaded=len(accepted),
        rejected=[
            MappingRejectionRead(r.line, r.local_code, r.national_code, r.reason) for r in rejected
        ],
    )
