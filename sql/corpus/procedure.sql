-- Keeps `${embeddings}` in step with `${source_table}`, embedded by ${model}: run by the scheduled
-- query, or by hand with CALL. Each decision below is one statement of sql/corpus/; a batch's
-- changes commit together, so a run killed at any point leaves no duplicate and no lost row.
CREATE OR REPLACE PROCEDURE `${procedure}`()
BEGIN
  DECLARE run_id STRING DEFAULT GENERATE_UUID();
  DECLARE started_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP();
  DECLARE outcome STRING DEFAULT 'done';
  DECLARE source_probe INT64;
  DECLARE batch_count INT64 DEFAULT 0;
  DECLARE slot_width INT64 DEFAULT ${slots};
  DECLARE low INT64 DEFAULT 0;
  DECLARE high INT64 DEFAULT 0;
  DECLARE batches INT64 DEFAULT 0;
  DECLARE sent INT64 DEFAULT 0;
  DECLARE embedded INT64 DEFAULT 0;
  DECLARE failed INT64 DEFAULT 0;
  DECLARE deleted INT64 DEFAULT 0;
  DECLARE other_versions BOOL DEFAULT FALSE;

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
    ${delete_departed_embeddings};
    SET deleted = @@row_count;
    ${delete_departed_failures};
    SET deleted = deleted + @@row_count;

    CREATE TEMP TABLE _todo CLUSTER BY slot AS
${todo};
    SET batch_count = CAST(CEIL((SELECT COUNT(*) FROM _todo) / ${batch_size}) AS INT64);
    SET other_versions = (
${other_versions});
    IF batch_count > 0 THEN
      SET slot_width = CAST(CEIL(${slots} / batch_count) AS INT64);
    END IF;

    WHILE batch_count > 0 AND low < ${slots} DO
      IF TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), started_at, MINUTE) >= ${time_budget_minutes} THEN
        SET outcome = 'time budget spent: the next run goes on';
        BREAK;
      END IF;
      SET high = low + slot_width;
      CREATE OR REPLACE TEMP TABLE _batch AS
      ${batch};
      IF (SELECT COUNT(*) FROM _batch) > 0 THEN
        CREATE OR REPLACE TEMP TABLE _embedded AS
${embed};
        BEGIN
          BEGIN TRANSACTION;
          ${lease_renew};
          IF @@row_count = 0 THEN
            RAISE USING MESSAGE = 'this refresh lost its lease: a newer run or procedure took over';
          END IF;
          ${clear_embeddings};
          ${clear_failures};
          ${insert_embedded};
          SET embedded = embedded + @@row_count;
          ${insert_failed};
          SET failed = failed + @@row_count;
          IF other_versions THEN
            ${drop_other_dims};
          END IF;
          COMMIT TRANSACTION;
        EXCEPTION WHEN ERROR THEN
          ROLLBACK TRANSACTION;
          RAISE USING MESSAGE = @@error.message;
        END;
        SET sent = sent + (SELECT COUNT(*) FROM (${batch_text}));
        SET batches = batches + 1;
      END IF;
      SET low = high;
    END WHILE;
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
