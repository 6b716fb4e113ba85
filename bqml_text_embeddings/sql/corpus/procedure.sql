-- Keeps `${embeddings}` in step with `${source_table}`, embedded by ${model}: run by the scheduled
-- query, or by hand with CALL. Each decision below is one statement of sql/corpus/; a batch's
-- changes commit together, so a run killed at any point leaves no duplicate and no lost row.
-- max_delete_percent: NULL for corpora.${corpus}.maxDeletePercent (${max_delete_percent}); 100 once, after truly emptying the source.
CREATE OR REPLACE PROCEDURE `${procedure}`(max_delete_percent INT64)
BEGIN
  DECLARE run_id STRING DEFAULT GENERATE_UUID();
  DECLARE started_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP();
  DECLARE outcome STRING DEFAULT 'done';
  DECLARE delete_limit INT64 DEFAULT IFNULL(max_delete_percent, ${max_delete_percent});
  DECLARE source_probe INT64;
  DECLARE departing INT64 DEFAULT 0;
  DECLARE corpus_rows INT64 DEFAULT 0;
  DECLARE last_doc_id STRING;
  DECLARE model_dims INT64 DEFAULT ${dims};
  DECLARE other_versions BOOL DEFAULT FALSE;
  DECLARE batch_embedded INT64 DEFAULT 0;
  DECLARE batch_failed INT64 DEFAULT 0;
  DECLARE batches INT64 DEFAULT 0;
  DECLARE sent INT64 DEFAULT 0;
  DECLARE embedded INT64 DEFAULT 0;
  DECLARE failed INT64 DEFAULT 0;
  DECLARE deleted INT64 DEFAULT 0;

  -- A job reads only tables in its own location: say so, rather than a bare "not found".
  BEGIN
    SET source_probe = (SELECT COUNT(*) FROM (SELECT 1 FROM `${source_table}` LIMIT 1));
  EXCEPTION WHEN ERROR THEN
    RAISE USING MESSAGE = CONCAT(
      'refresh of ${corpus} with ${model} cannot read ${source_table} from location ${location}: ', @@error.message,
      '. BigQuery queries only within one location: the source table must be in ${location} (copy it there, or set the stack location to the table location).');
  END;

  ${lease_seed};
  ${lease_take};
  IF @@row_count = 0 THEN
    SET outcome = 'skipped: another refresh of this model holds the lease';
    ${log_run};
    RETURN;
  END IF;

  BEGIN
    ${retire_exhausted};

    -- Keys that left the source. An empty or partial source (a truncate-and-reload, a failed load, a
    -- row-level security change) looks like every key leaving: past the limit the run deletes nothing,
    -- fails (so the schedule's notification fires) and says how to accept the deletions.
    CREATE TEMP TABLE _departed AS
${departed};
    SET departing = (SELECT COUNT(*) FROM _departed);
    IF departing > 0 THEN
      SET corpus_rows = (
${corpus_rows});
      IF departing * 100 > delete_limit * corpus_rows THEN
        RAISE USING MESSAGE = FORMAT(
          'refused to delete %d of the %d rows kept for corpus ${corpus} by ${model} (more than %d%%): their keys left ${source_table}. If the table is only empty or partial for now, reload it and run again; if the rows are truly gone, CALL `${procedure}`(100) once.',
          departing, corpus_rows, delete_limit);
      END IF;
      ${delete_departed_embeddings};
      SET deleted = @@row_count;
      ${delete_departed_failures};
      SET deleted = deleted + @@row_count;
    END IF;

    CREATE TEMP TABLE _todo CLUSTER BY doc_id AS
${todo};
    SET other_versions = (
${other_versions});

    LOOP
      IF TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), started_at, MINUTE) >= ${time_budget_minutes} THEN
        SET outcome = 'time budget spent: the next run goes on';
        LEAVE;
      END IF;
      CREATE OR REPLACE TEMP TABLE _batch AS
${batch};
      IF (SELECT COUNT(*) FROM _batch) = 0 THEN
        LEAVE;
      END IF;
      SET last_doc_id = (SELECT MAX(doc_id) FROM _batch);
      -- Counted before the call: rows sent are billed even if the batch then rolls back.
      SET sent = sent + (SELECT COUNT(*) FROM (${batch_text}));
      CREATE OR REPLACE TEMP TABLE _answers AS
${embed};
      IF model_dims IS NULL THEN
        SET model_dims = (
${model_dims});
      END IF;
      CREATE OR REPLACE TEMP TABLE _embedded AS
${check_vectors};

      ${lease_renew};
      IF @@row_count = 0 THEN
        RAISE USING MESSAGE = 'this refresh lost its lease: a newer run or procedure took over';
      END IF;
      BEGIN
        BEGIN TRANSACTION;
        IF (${lease_held}) = 0 THEN
          RAISE USING MESSAGE = 'this refresh lost its lease: a newer run or procedure took over';
        END IF;
        ${clear_embeddings};
        ${clear_failures};
        ${insert_embedded};
        SET batch_embedded = @@row_count;
        ${insert_failed};
        SET batch_failed = @@row_count;
        IF other_versions THEN
          ${drop_other_dims};
        END IF;
        COMMIT TRANSACTION;
      EXCEPTION WHEN ERROR THEN
        ROLLBACK TRANSACTION;
        RAISE USING MESSAGE = @@error.message;
      END;
      SET embedded = embedded + batch_embedded;
      SET failed = failed + batch_failed;
      SET batches = batches + 1;
    END LOOP;
${index}
    ${log_run};
    ${lease_release};
  EXCEPTION WHEN ERROR THEN
    SET outcome = CONCAT('failed: ', @@error.message);
    ${log_run};
    ${lease_release};
    RAISE USING MESSAGE = @@error.message;
  END;
END;
