//! Writing records into the history: one transaction per ingest or import, so a failure
//! half-way stores nothing, and the envelope of every run it touched recomputed before it
//! commits.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use serde::Serialize;

use super::rows::{IngestStats, axes_key};
use super::schema::database_error;
use crate::envelope::RunEnvelope;
use crate::errors::{DataError, Error};
use crate::record::{
    CaseRecord, Completion, EndRecord, OutcomeRecord, Record, Recorded, RerunRecord, RunRecord,
    SCHEMA_VERSION, SampleRecord,
};
use crate::verdict::SampleVerdict;

/// A record borrowed from a [`RunData`](crate::record::RunData) or just parsed: it
/// serializes to the same line as [`Record`], without cloning the record into a `Box` first.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordRef<'a> {
    Run(&'a RunRecord),
    Sample(&'a SampleRecord),
    Case(&'a CaseRecord),
    Rerun(&'a RerunRecord),
    Outcome(&'a OutcomeRecord),
    End(&'a EndRecord),
}

impl<'a> From<&'a Record> for RecordRef<'a> {
    fn from(record: &'a Record) -> Self {
        match record {
            Record::Run(r) => RecordRef::Run(r),
            Record::Sample(s) => RecordRef::Sample(s),
            Record::Case(c) => RecordRef::Case(c),
            Record::Rerun(r) => RecordRef::Rerun(r),
            Record::Outcome(o) => RecordRef::Outcome(o),
            Record::End(e) => RecordRef::End(e),
        }
    }
}

impl RecordRef<'_> {
    pub fn schema(self) -> u32 {
        match self {
            RecordRef::Run(r) => r.schema,
            RecordRef::Sample(s) => s.schema,
            RecordRef::Case(c) => c.schema,
            RecordRef::Rerun(r) => r.schema,
            RecordRef::Outcome(o) => o.schema,
            RecordRef::End(e) => e.schema,
        }
    }

    fn run_id(&self) -> &str {
        match self {
            RecordRef::Run(r) => &r.run_id,
            RecordRef::Sample(s) => &s.run_id,
            RecordRef::Case(c) => &c.run_id,
            RecordRef::Rerun(r) => &r.rerun_id,
            RecordRef::Outcome(o) => &o.run_id,
            RecordRef::End(e) => &e.run_id,
        }
    }
}

/// An open write transaction on the history. Dropping it without [`Ingest::commit`] rolls
/// everything back.
pub struct Ingest<'s> {
    tx: Transaction<'s>,
    path: &'s Path,
    /// Runs with a record in this transaction, whose envelope must be recomputed.
    touched: BTreeSet<String>,
    stats: IngestStats,
    /// The JSON of the record being written, reused from record to record.
    line: Vec<u8>,
}

impl<'s> Ingest<'s> {
    /// `BEGIN IMMEDIATE`: takes the write lock now (waiting up to the busy timeout for
    /// another writer), so that a concurrent ingest never fails half-way on a lock upgrade.
    pub fn begin(conn: &'s mut Connection, path: &'s Path) -> Result<Ingest<'s>, Error> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database_error(path, e))?;
        Ok(Ingest {
            tx,
            path,
            touched: BTreeSet::new(),
            stats: IngestStats::default(),
            line: Vec::with_capacity(4096),
        })
    }

    /// Stores one record, replacing the one with the same key.
    pub fn record(&mut self, record: RecordRef<'_>) -> Result<(), Error> {
        if record.schema() != SCHEMA_VERSION {
            return Err(DataError::unplaced(format!(
                "a record of run {} has schema {}, but this evalgate reads schema \
                 {SCHEMA_VERSION}; use the evalgate version that wrote it",
                record.run_id(),
                record.schema()
            ))
            .into());
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, &record)
            .map_err(|e| Error::Internal(format!("a record does not serialize: {e}")))?;
        let json = std::str::from_utf8(&self.line)
            .map_err(|e| Error::Internal(format!("serde_json wrote invalid UTF-8: {e}")))?;
        let written = match record {
            RecordRef::Run(r) => write_run(&self.tx, r, json),
            RecordRef::Sample(r) => write_sample(&self.tx, r, json),
            RecordRef::Case(r) => write_case(&self.tx, r, json),
            RecordRef::Rerun(r) => write_rerun(&self.tx, r, json),
            RecordRef::Outcome(o) => write_outcome(&self.tx, o, json),
            RecordRef::End(e) => write_end(&self.tx, e, json),
        };
        written.map_err(|e| database_error(self.path, e))?;
        let counter = match record {
            RecordRef::Run(_) => &mut self.stats.runs,
            RecordRef::Sample(_) => &mut self.stats.samples,
            RecordRef::Case(_) => &mut self.stats.cases,
            RecordRef::Rerun(_) => &mut self.stats.reruns,
            RecordRef::Outcome(_) => &mut self.stats.outcomes,
            RecordRef::End(_) => &mut self.stats.ends,
        };
        *counter += 1;
        // A rerun is not a run of the suite: it gets no `runs` row, so it is never a
        // baseline and its samples never enter verdict history. An outcome is about a run
        // that has its row already.
        if matches!(record, RecordRef::Rerun(_) | RecordRef::Outcome(_)) {
            return Ok(());
        }
        if !self.touched.contains(record.run_id()) {
            self.touched.insert(record.run_id().to_string());
        }
        Ok(())
    }

    /// Recomputes the run rows of the runs touched and commits.
    pub fn commit(self) -> Result<IngestStats, Error> {
        for run_id in &self.touched {
            self.update_run(run_id)?;
        }
        self.tx.commit().map_err(|e| database_error(self.path, e))?;
        Ok(self.stats)
    }

    /// The `runs` row of `run_id` from everything stored for it, not only this ingest's
    /// records: nextest processes and CI shards of one run arrive one ingest at a time.
    fn update_run(&self, run_id: &str) -> Result<(), Error> {
        let sql = |e| database_error(self.path, e);
        let mut runs: Vec<RunRecord> = Vec::new();
        {
            let mut stmt = self
                .tx
                .prepare_cached(
                    "SELECT record FROM run_records WHERE run_id = ?1
                     ORDER BY started_s, started_ns, pid",
                )
                .map_err(sql)?;
            let mut rows = stmt.query([run_id]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let json: String = row.get(0).map_err(sql)?;
                runs.push(serde_json::from_str(&json).map_err(|e| self.damaged(run_id, e))?);
            }
        }
        let mut reported: Vec<SampleRecord> = Vec::new();
        {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT model, envelope FROM sample_records WHERE run_id = ?1")
                .map_err(sql)?;
            let mut rows = stmt.query([run_id]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let model: Option<String> = row.get(0).map_err(sql)?;
                let envelope: Option<String> = row.get(1).map_err(sql)?;
                let envelope = match envelope {
                    Some(json) => {
                        serde_json::from_str(&json).map_err(|e| self.damaged(run_id, e))?
                    }
                    None => BTreeMap::new(),
                };
                reported.push(versions_reported(model, envelope));
            }
        }
        let envelope = RunEnvelope::of_run(&runs, &reported);
        let (started, suite) = match runs.first() {
            Some(first) => (split(first.started_at), first.suite.as_str()),
            // Records of a run whose run line was lost: it started with its first record.
            None => (
                self.tx
                    .query_row(
                        "SELECT started_s, started_ns FROM sample_records WHERE run_id = ?1
                         UNION ALL
                         SELECT started_s, started_ns FROM case_records WHERE run_id = ?1
                         ORDER BY 1, 2 LIMIT 1",
                        [run_id],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(sql)?,
                "",
            ),
        };
        // Every process and shard of one run measured one checkout; the first that could
        // tell says which.
        let branch = runs.iter().find_map(|r| r.branch.as_deref());
        let commit = runs.iter().find_map(|r| r.commit.as_deref());
        let suite_tier = runs.iter().find_map(|r| r.suite_tier.as_deref());
        let axes = runs
            .iter()
            .find(|r| !r.axes.is_empty())
            .map(|r| axes_key(&r.axes));
        let envelope_json = serde_json::to_string(&envelope.envelope)
            .map_err(|e| Error::Internal(format!("an envelope does not serialize: {e}")))?;
        let partial = self.partial(run_id, &runs)?;
        self.tx
            .prepare_cached(
                "INSERT INTO runs (run_id, started_s, started_ns, suite, envelope_id, envelope,
                   branch, commit_id, suite_tier, axes, partial)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (run_id) DO UPDATE SET started_s = excluded.started_s,
                   started_ns = excluded.started_ns, suite = excluded.suite,
                   envelope_id = excluded.envelope_id, envelope = excluded.envelope,
                   branch = excluded.branch, commit_id = excluded.commit_id,
                   suite_tier = excluded.suite_tier, axes = excluded.axes,
                   partial = excluded.partial",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    run_id,
                    started.0,
                    started.1,
                    suite,
                    envelope.id,
                    envelope_json,
                    branch,
                    commit,
                    suite_tier,
                    axes,
                    partial
                ])
            })
            .map_err(sql)?;
        Ok(())
    }

    /// Whether run `run_id` (processes `runs`) did not finish, from everything stored for
    /// it: its own records, or the outcome of a report that knew more (the suite's cases,
    /// under nextest).
    fn partial(&self, run_id: &str, runs: &[RunRecord]) -> Result<bool, Error> {
        let sql = |e| database_error(self.path, e);
        let said: bool = self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM run_outcomes WHERE run_id = ?1
                                  AND json_extract(record, '$.incomplete'))",
            )
            .and_then(|mut stmt| stmt.query_row([run_id], |row| row.get(0)))
            .map_err(sql)?;
        if said {
            return Ok(true);
        }
        let ends: Vec<EndRecord> = self
            .rows_of(
                run_id,
                "SELECT record FROM run_ends WHERE run_id = ?1",
                |row| row.get::<_, String>(0),
            )?
            .iter()
            .map(|json| serde_json::from_str(json).map_err(|e| self.damaged(run_id, e)))
            .collect::<Result<_, _>>()?;
        let cases = self.rows_of(
            run_id,
            "SELECT case_id, json_extract(record, '$.pid'), started_s, started_ns
               FROM case_records WHERE run_id = ?1",
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<u32>>(1)?,
                    (row.get(2)?, row.get(3)?),
                ))
            },
        )?;
        let mut recorded = Vec::with_capacity(cases.len());
        for (case, pid, (s, ns)) in &cases {
            recorded.push(Recorded {
                case,
                pid: *pid,
                started_at: jiff::Timestamp::new(*s, *ns)
                    .map_err(|e| Error::Internal(format!("a stored start time: {e}")))?,
            });
        }
        let begun = self.rows_of(
            run_id,
            "SELECT DISTINCT case_id FROM sample_records WHERE run_id = ?1",
            |row| row.get::<_, String>(0),
        )?;
        let begun = begun.iter().map(String::as_str).collect();
        Ok(!Completion::from_parts(runs, &ends, &recorded, &begun, None).is_complete())
    }

    /// The rows `query` selects for `run_id`, each read by `read`.
    fn rows_of<T>(
        &self,
        run_id: &str,
        query: &str,
        read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, Error> {
        let sql = |e| database_error(self.path, e);
        let mut stmt = self.tx.prepare_cached(query).map_err(sql)?;
        let rows = stmt.query_map([run_id], read).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    fn damaged(&self, run_id: &str, e: serde_json::Error) -> Error {
        let message = format!(
            "a stored record of run {run_id} is not valid JSON ({e}); the file was changed by \
             something other than evalgate — restore it from an export, or move it away"
        );
        DataError::new(self.path, message).caused_by(e).into()
    }
}

/// A timestamp as (seconds, nanoseconds) since the epoch, both with the same sign, so that
/// the pair sorts as the time does.
fn split(at: jiff::Timestamp) -> (i64, i32) {
    (at.as_second(), at.subsec_nanosecond())
}

/// A sample carrying only the versions it reported: all [`RunEnvelope::of_run`] reads of a
/// sample. The envelope is recomputed from the two small columns that hold them rather than
/// by parsing every stored sample of the run (a test checks the result is the same).
fn versions_reported(model: Option<String>, envelope: BTreeMap<String, String>) -> SampleRecord {
    SampleRecord {
        schema: SCHEMA_VERSION,
        run_id: String::new(),
        case: String::new(),
        file: String::new(),
        sample: 0,
        verdict: SampleVerdict::Pass,
        checks: Vec::new(),
        output: String::new(),
        output_bytes: 0,
        output_truncated: false,
        decisions: Vec::new(),
        latency_ms: 0.0,
        usage: None,
        tier: None,
        model,
        finish_reason: None,
        refusal: None,
        envelope,
        attempts: 0,
        retries: Vec::new(),
        error: None,
        warnings: Vec::new(),
        started_at: jiff::Timestamp::UNIX_EPOCH,
        finished_at: jiff::Timestamp::UNIX_EPOCH,
        customer: None,
        forced_tier: None,
        condition: None,
        ttft_ms: None,
        memory: Vec::new(),
    }
}

/// Writes a run record (its JSON text `json`), replacing the one with its key.
fn write_run(tx: &Transaction<'_>, r: &RunRecord, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO run_records (run_id, pid, started_s, started_ns, suite, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (run_id, pid, started_s, started_ns) DO UPDATE SET
           suite = excluded.suite, record = excluded.record",
    )
    .and_then(|mut stmt| {
        let (s, ns) = split(r.started_at);
        stmt.execute(params![r.run_id, r.pid, s, ns, r.suite, json])
    })
    .map(|_| ())
}

/// Writes a sample record (its JSON text `json`), replacing the one with its key.
fn write_sample(tx: &Transaction<'_>, r: &SampleRecord, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO sample_records (run_id, case_id, sample, started_s, started_ns,
           verdict, model, envelope, record, memory)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (run_id, case_id, sample) DO UPDATE SET
           started_s = excluded.started_s, started_ns = excluded.started_ns,
           verdict = excluded.verdict, model = excluded.model,
           envelope = excluded.envelope, record = excluded.record,
           memory = excluded.memory",
    )
    .and_then(|mut stmt| {
        let (s, ns) = split(r.started_at);
        let envelope = (!r.envelope.is_empty())
            .then(|| serde_json::to_string(&r.envelope).expect("a map of strings"));
        let verdict = match r.verdict {
            SampleVerdict::Pass => "pass",
            SampleVerdict::Fail => "fail",
            SampleVerdict::Error => "error",
        };
        let memory = r.concerns_memory().then_some(1);
        stmt.execute(params![
            r.run_id, r.case, r.sample, s, ns, verdict, r.model, envelope, json, memory
        ])
    })
    .map(|_| ())
}

/// Writes a case record (its JSON text `json`), replacing the one with its key.
fn write_case(tx: &Transaction<'_>, r: &CaseRecord, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO case_records (run_id, case_id, started_s, started_ns, verdict,
           record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (run_id, case_id) DO UPDATE SET started_s = excluded.started_s,
           started_ns = excluded.started_ns, verdict = excluded.verdict,
           record = excluded.record",
    )
    .and_then(|mut stmt| {
        let (s, ns) = split(r.started_at);
        stmt.execute(params![r.run_id, r.case, s, ns, r.verdict.as_str(), json])
    })
    .map(|_| ())
}

/// Writes a rerun record (its JSON text `json`), replacing the one with its key.
fn write_rerun(tx: &Transaction<'_>, r: &RerunRecord, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO reruns (rerun_id, suite, case_id, started_s, started_ns, branch,
           record, commit_id, envelope_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (rerun_id) DO UPDATE SET suite = excluded.suite,
           case_id = excluded.case_id, started_s = excluded.started_s,
           started_ns = excluded.started_ns, branch = excluded.branch,
           record = excluded.record, commit_id = excluded.commit_id,
           envelope_id = excluded.envelope_id",
    )
    .and_then(|mut stmt| {
        let (s, ns) = split(r.started_at);
        stmt.execute(params![
            r.rerun_id,
            r.suite,
            r.case,
            s,
            ns,
            r.branch,
            json,
            r.commit,
            r.envelope_id
        ])
    })
    .map(|_| ())
}

/// Writes an outcome record (its JSON text `json`), replacing the one with its key.
fn write_outcome(tx: &Transaction<'_>, o: &OutcomeRecord, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO run_outcomes (run_id, red, record) VALUES (?1, ?2, ?3)
         ON CONFLICT (run_id) DO UPDATE SET red = excluded.red,
           record = excluded.record",
    )
    .and_then(|mut stmt| stmt.execute(params![o.run_id, o.red, json]))
    // A report that found the run incomplete (from more than its records say:
    // the suite's cases) marks it partial for good.
    .and_then(|_| {
        if !o.incomplete {
            return Ok(0);
        }
        tx.prepare_cached("UPDATE runs SET partial = 1 WHERE run_id = ?1")
            .and_then(|mut stmt| stmt.execute([&o.run_id]))
    })
    .map(|_| ())
}

/// Writes an end record (its JSON text `json`), replacing the one with its key.
fn write_end(tx: &Transaction<'_>, e: &EndRecord, json: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO run_ends (run_id, pid, started_s, started_ns, record)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (run_id, pid, started_s, started_ns) DO UPDATE SET
           record = excluded.record",
    )
    .and_then(|mut stmt| {
        let (s, ns) = split(e.started_at);
        stmt.execute(params![e.run_id, e.pid, s, ns, json])
    })
    .map(|_| ())
}
