"""The keys of one corpus (`corpora.NAME.KEY`): defaults, bounds and documentation, defined once."""

from __future__ import annotations

from bqml_text_embeddings import schedule, validate
from bqml_text_embeddings.config.field import Field, section
from bqml_text_embeddings.config.rules import (
    DEFAULT_BATCH_SIZES,
    DEFAULT_DELETE_PERCENT,
    INDEX_TYPES,
    MAX_ATTEMPTS,
    MAX_BATCH_SIZE,
    MAX_DELETE_PERCENT,
    MAX_TIME_BUDGET_MINUTES,
    NO_INDEX,
)

CORPUS = section(
    "corpora.NAME",
    "",  # documented key by key (docs/configuration.md's table under "Embed your own table")
    Field(
        "table",
        doc="the source, as `project.dataset.table`. **It must be in the stack's `location`**: BigQuery queries only within "
        "one location. `pulumi up` checks it before the first fill, and a refresh that cannot read it fails saying so, with "
        "the fix (copy the table, or change `location`)",
        required=True,
        fix="give the table to embed as project.dataset.table (in the stack's location)",
    ),
    Field(
        "key",
        doc="the column(s) that identify a row, of any type BigQuery can group by (STRING, BYTES, INT64, NUMERIC, BIGNUMERIC, "
        "BOOL, DATE, DATETIME, TIME, TIMESTAMP, INTERVAL; not FLOAT64, ARRAY, STRUCT, JSON or GEOGRAPHY: `pulumi up` refuses "
        "those, naming `corpora.NAME.key`). One column becomes `doc_id` as `FORMAT('%t', key)` (a number or a string as it "
        "reads; BYTES escaped); several become a JSON object (`{\"site\":\"eu\",\"id\":7}`), so two keys never collide. Rows "
        "with a NULL key are left out. BigQuery enforces no primary key: of several rows with one key, one with text wins over "
        "a blank one, then the newest by `newestBy`, then the smallest text fingerprint, the same row every run; the view "
        "`CORPUS_repeated_keys` lists every repeated key with its count",
        required=True,
        fix="give a list of the column(s) that identify a row, e.g. [ticket_id]",
    ),
    Field(
        "text",
        doc="the column to embed (STRING). A row with no text is kept as failed (`no text to embed`) and never sent to the model",
        required=True,
        fix="give the name of the STRING column to embed",
    ),
    Field(
        "models",
        doc="which of the stack's `models` embed it: one embeddings table each",
        required=True,
        fix="give a non-empty list of the stack's models to embed it with, e.g. [nnlm]",
    ),
    Field(
        "schedule",
        doc="when BigQuery's scheduler runs the refresh, in its custom-schedule syntax (App Engine cron's grammar): "
        "`every N hours\\|minutes [from HH:MM to HH:MM \\| synchronized]`, `every day\\|DAYS HH:MM`, "
        "`1st,3rd DAYS of month\\|quarter\\|MONTHS HH:MM`, `N,M of MONTHS HH:MM`, e.g. `every 24 hours`, `every day 03:00`, "
        "`every mon,thu 09:00`, `first sunday of quarter 00:00`; hours 00-23, minutes 00-59, days `mon`/`monday` … "
        "`sun`/`sunday`, months `jan`/`january` …, ordinals `1st`-`5th`/`first`-`fifth` (no `last`, no `weekday`), at most "
        f"every {schedule.MIN_INTERVAL_MINUTES} minutes; or `none`. Checked before anything is declared "
        "(`bqml_text_embeddings/schedule.py`)",
        required=True,
        fix=validate.SCHEDULE_FIX,
    ),
    Field(
        "batchSize",
        None,  # each model's own (DEFAULT_BATCH_SIZES)
        "the most rows a refresh sends to the model per statement (a cap: batches are key ranges of exactly this many rows, "
        f"the last one fewer): {DEFAULT_BATCH_SIZES['nnlm']:,} for `nnlm`/`swivel` (BigQuery compute only), "
        f"{DEFAULT_BATCH_SIZES['textembedding']:,} for `bert` and `textembedding`, where the batch bounds a job's requests "
        "against Vertex AI's quota",
        low=1,
        high=MAX_BATCH_SIZE,
        fix=f"give rows per batch from 1 to {MAX_BATCH_SIZE:,}, or leave it out for each model's default",
        shown="per model",
    ),
    Field(
        "maxAttempts",
        3,
        "runs that may try a row that fails retryably (a transient error, a row the model did not answer) before it counts "
        "as failed. A quota rejection is not the row's fault (rows past a quota are not billed): a row's first 10 use no "
        "attempt, later ones do, so a rejection that never clears ends as a failure with its reason. Lowering it takes effect "
        "at the next run: rows already past it count as failed",
        low=1,
        high=MAX_ATTEMPTS,
    ),
    Field(
        "timeBudgetMinutes",
        180,
        f"a refresh starts no batch after this; the next run goes on (1-{MAX_TIME_BUDGET_MINUTES}: BigQuery stops a "
        "statement after 6 hours)",
        low=1,
        high=MAX_TIME_BUDGET_MINUTES,
        fix=f"give minutes from 1 to {MAX_TIME_BUDGET_MINUTES} (BigQuery stops a statement after 6 hours)",
    ),
    Field(
        "index",
        INDEX_TYPES[0],
        f"the vector index on `embedding` (cosine): `{'`, `'.join(INDEX_TYPES)}` or `{NO_INDEX}`",
        choices=(*INDEX_TYPES, NO_INDEX),
    ),
    Field("notifyEmail", False, "BigQuery's failure email for the scheduled query"),
    Field(
        "notifyTopic",
        None,
        "`projects/P/topics/T`: a Pub/Sub message after every run (grant the BigQuery Data Transfer service agent "
        "`roles/pubsub.publisher` on it)",
    ),
    Field(
        "newestBy",
        None,  # else any row with text
        "a column (TIMESTAMP, DATETIME, DATE or a number) whose greatest value marks the newest of several rows with one "
        "key, e.g. `updated_at`: an edit of that row is then what gets embedded",
        fix="give the name of a column whose greatest value marks the newest row (e.g. updated_at)",
    ),
    Field(
        "maxDeletePercent",
        DEFAULT_DELETE_PERCENT,
        "a run that would delete more than this share of the corpus (rows whose key left the source) deletes nothing and "
        "fails, so the schedule's notification fires: an empty or partial source (a truncate-and-reload, a failed load, a "
        "row-level security change) must not wipe the embeddings. If the rows are truly gone, run the procedure once with "
        f"`CALL refresh_CORPUS_MODEL({MAX_DELETE_PERCENT})`; `{MAX_DELETE_PERCENT}` turns the guard off",
        low=0,
        high=MAX_DELETE_PERCENT,
        fix=f"give a whole percent from 0 to {MAX_DELETE_PERCENT} "
        "(a run that would delete more of the corpus deletes nothing and fails; 100 turns the guard off)",
    ),
)
DEFAULT_CORPUS = CORPUS.default
CORPUS_REQUIRED = CORPUS.required_keys
