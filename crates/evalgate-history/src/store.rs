//! The store itself: opening a history file safely, ingesting a run's records, and the
//! questions asked of history (which runs, which verdicts under which envelope).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Deserialize;
use serde::de::IntoDeserializer;

use super::ingest::{Ingest, RecordRef};
use super::rows::{Attempt, CaseVerdictRow, IngestStats, RunRow};
use super::schema::{self, database_error};

mod pool;
use crate::errors::{DataError, Error};
use crate::record::{CaseRecord, RerunRecord, RunData, SampleRecord};
use crate::verdict::Verdict;

/// How long a writer waits for another process's transaction before giving up. Ingests are
/// one transaction each, so this only has to outlast the largest ingest.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The run history: every ingested record, in one SQLite file.
#[derive(Debug)]
pub struct HistoryStore {
    conn: Connection,
    path: PathBuf,
}

impl HistoryStore {
    /// Opens or creates the store at `path` (creating parent folders), applying migrations.
    /// A file that is not an evalgate history, or is from a newer evalgate, is refused and
    /// left as it was.
    pub fn open(path: &Path) -> Result<HistoryStore, Error> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
        }
        // Not `Connection::open`: its flags include SQLITE_OPEN_URI, which would read a path
        // starting with `file:` as a URI with options.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|e| database_error(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| database_error(path, e))?;
        schema::prepare(&mut conn, path, BUSY_TIMEOUT)?;
        Ok(HistoryStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ingests the records of a run (all kinds), in one transaction. Idempotent: a record
    /// already stored under the same key (run records by run id and pid, samples by run id,
    /// case and sample index, cases by run id and case) is replaced. The envelope of every
    /// run touched is recomputed from all its stored records.
    pub fn ingest(&mut self, data: &RunData) -> Result<IngestStats, Error> {
        let mut ingest = self.begin()?;
        let records = (data.runs.iter().map(RecordRef::Run))
            .chain(data.samples.iter().map(RecordRef::Sample))
            .chain(data.cases.iter().map(RecordRef::Case))
            .chain(data.reruns.iter().map(RecordRef::Rerun))
            .chain(data.outcomes.iter().map(RecordRef::Outcome))
            .chain(data.ends.iter().map(RecordRef::End));
        for record in records {
            ingest.record(record)?;
        }
        ingest.commit()
    }

    /// Starts a write transaction; nothing is stored unless it is committed.
    pub(super) fn begin(&mut self) -> Result<Ingest<'_>, Error> {
        Ingest::begin(&mut self.conn, &self.path)
    }

    pub(super) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Every case verdict in history with the envelope of its run, oldest run first (by run
    /// start, then run id), cases of a run by id: for saturation and non-discrimination
    /// detection.
    pub fn case_verdicts(&self) -> Result<Vec<CaseVerdictRow>, Error> {
        self.verdicts(None)
    }

    /// [`HistoryStore::case_verdicts`] of the runs of one suite only: another suite sharing
    /// the store is not its history.
    pub fn case_verdicts_of(&self, suite: &str) -> Result<Vec<CaseVerdictRow>, Error> {
        self.verdicts(Some(suite))
    }

    fn verdicts(&self, suite: Option<&str>) -> Result<Vec<CaseVerdictRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.case_id, c.run_id, r.started_s, r.started_ns, r.envelope_id, c.verdict
                 FROM case_records c JOIN runs r ON r.run_id = c.run_id
                 WHERE (?1 IS NULL OR r.suite = ?1) AND r.partial = 0
                 ORDER BY r.started_s, r.started_ns, r.run_id, c.case_id",
            )
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query([suite])
            .map_err(|e| database_error(&self.path, e))?;
        let mut verdicts = Vec::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let read = || -> rusqlite::Result<_> {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    (row.get(2)?, row.get(3)?),
                    row.get(4)?,
                    row.get::<_, String>(5)?,
                ))
            };
            let (case, run_id, started, envelope_id, verdict) =
                read().map_err(|e| database_error(&self.path, e))?;
            verdicts.push(CaseVerdictRow {
                started_at: self.timestamp(started)?,
                verdict: Verdict::deserialize(verdict.as_str().into_deserializer()).map_err(
                    |e: serde::de::value::Error| self.unreadable(&format!("case {case}"), e),
                )?,
                case,
                run_id,
                envelope_id,
            });
        }
        Ok(verdicts)
    }

    /// When each case of `suite` first ran: the earliest start of its case records, in any
    /// run of the suite (one that did not finish too: the case existed).
    pub fn first_runs_of(&self, suite: &str) -> Result<BTreeMap<String, jiff::Timestamp>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.case_id, MIN(c.started_s)
                 FROM case_records c JOIN runs r ON r.run_id = c.run_id
                 WHERE r.suite = ?1 GROUP BY c.case_id",
            )
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query([suite])
            .map_err(|e| database_error(&self.path, e))?;
        let mut first = BTreeMap::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let (case, seconds): (String, i64) =
                (|| Ok((row.get(0)?, row.get(1)?)))().map_err(|e| database_error(&self.path, e))?;
            first.insert(case, self.timestamp((seconds, 0))?);
        }
        Ok(first)
    }

    /// Every run known, newest first (ties by run id, descending).
    pub fn runs(&self) -> Result<Vec<RunRow>, Error> {
        self.select_runs("ORDER BY started_s DESC, started_ns DESC, run_id DESC", [])
    }

    /// For each of `cases`, the latest run of `suite` started before `before` (not one of
    /// `excluding`, nor a rerun: a run of commit `rerun_of.0` under envelope `rerun_of.1`;
    /// of `branch` when given) in which that case reported memory or probed recall: each
    /// such run, newest first, with the samples of the cases it is the latest for. Cases no
    /// such run holds are left out.
    pub fn memory_references(
        &self,
        suite: &str,
        cases: &[&str],
        before: jiff::Timestamp,
        excluding: &[&str],
        branch: Option<&str>,
        rerun_of: Option<(&str, &str)>,
    ) -> Result<Vec<(RunRow, Vec<SampleRecord>)>, Error> {
        let json = |ids: &[&str]| {
            serde_json::to_string(ids)
                .map_err(|e| Error::Internal(format!("ids do not serialize: {e}")))
        };
        let (wanted, excluded) = (json(cases)?, json(excluding)?);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.case_id, s.run_id FROM sample_records s
                   JOIN runs r ON r.run_id = s.run_id
                 WHERE r.suite = ?1 AND r.partial = 0
                   AND s.case_id IN (SELECT value FROM json_each(?2))
                   AND r.run_id NOT IN (SELECT value FROM json_each(?3))
                   AND (r.started_s < ?4 OR (r.started_s = ?4 AND r.started_ns < ?5))
                   AND (?6 IS NULL OR r.branch = ?6)
                   AND NOT (?7 IS NOT NULL AND r.commit_id = ?7 AND r.envelope_id = ?8)
                   AND s.memory = 1
                 GROUP BY s.case_id, s.run_id
                 ORDER BY s.case_id, r.started_s DESC, r.started_ns DESC, s.run_id DESC",
            )
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query(rusqlite::params![
                suite,
                wanted,
                excluded,
                before.as_second(),
                before.subsec_nanosecond(),
                branch,
                rerun_of.map(|(commit, _)| commit),
                rerun_of.map(|(_, envelope)| envelope)
            ])
            .map_err(|e| database_error(&self.path, e))?;
        // Rows come newest first within each case: the first row of a case is its reference.
        let mut latest: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut last_case: Option<String> = None;
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let (case, run): (String, String) =
                (|| Ok((row.get(0)?, row.get(1)?)))().map_err(|e| database_error(&self.path, e))?;
            if last_case.as_deref() != Some(case.as_str()) {
                latest.entry(run).or_default().push(case.clone());
                last_case = Some(case);
            }
        }
        let mut references = Vec::with_capacity(latest.len());
        for (run_id, cases) in latest {
            let Some(run) = self.run(&run_id)? else {
                continue;
            };
            let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
            let samples = self.records_of(
                "SELECT case_id, record FROM sample_records
                 WHERE run_id = ?1 AND case_id IN (SELECT value FROM json_each(?2))
                 ORDER BY case_id, sample",
                &run_id,
                rusqlite::params![run_id, json(&cases)?],
            )?;
            references.push((run, samples));
        }
        references
            .sort_by(|a, b| (b.0.started_at, &b.0.run_id).cmp(&(a.0.started_at, &a.0.run_id)));
        Ok(references)
    }

    /// The runs of `suite` at `commit` under `envelope_id` and `axes` (not of a suite tier)
    /// started before `before`, other than `excluding`, oldest first: the earlier attempts of
    /// a run.
    pub fn attempts(
        &self,
        suite: &str,
        commit: &str,
        envelope_id: &str,
        axes: Option<&str>,
        excluding: &[&str],
        before: jiff::Timestamp,
    ) -> Result<Vec<Attempt>, Error> {
        let excluded = serde_json::to_string(excluding)
            .map_err(|e| Error::Internal(format!("run ids do not serialize: {e}")))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.run_id, r.started_s, r.started_ns, o.red
                   FROM runs r LEFT JOIN run_outcomes o ON o.run_id = r.run_id
                  WHERE r.suite = ?1 AND r.commit_id = ?2 AND r.envelope_id = ?3
                    AND r.axes IS ?4 AND r.suite_tier IS NULL
                    AND r.run_id NOT IN (SELECT value FROM json_each(?5))
                    AND (r.started_s < ?6 OR (r.started_s = ?6 AND r.started_ns < ?7))
                  ORDER BY r.started_s, r.started_ns, r.run_id",
            )
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query(rusqlite::params![
                suite,
                commit,
                envelope_id,
                axes,
                excluded,
                before.as_second(),
                before.subsec_nanosecond()
            ])
            .map_err(|e| database_error(&self.path, e))?;
        let mut attempts = Vec::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let read = || -> rusqlite::Result<(String, (i64, i32), Option<bool>)> {
                Ok((row.get(0)?, (row.get(1)?, row.get(2)?), row.get(3)?))
            };
            let (run_id, started, red) = read().map_err(|e| database_error(&self.path, e))?;
            attempts.push(Attempt {
                run_id,
                started_at: self.timestamp(started)?,
                red,
            });
        }
        Ok(attempts)
    }

    /// Each case's passes and failures in each of `runs`: `(run, case, passes, failures)`.
    pub fn case_counts(&self, runs: &[&str]) -> Result<Vec<(String, String, u32, u32)>, Error> {
        let ids = serde_json::to_string(runs)
            .map_err(|e| Error::Internal(format!("run ids do not serialize: {e}")))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, case_id, json_extract(record, '$.passes'),
                        json_extract(record, '$.failures')
                   FROM case_records WHERE run_id IN (SELECT value FROM json_each(?1))
                  ORDER BY run_id, case_id",
            )
            .map_err(|e| database_error(&self.path, e))?;
        let rows = stmt
            .query_map([ids], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .map_err(|e| database_error(&self.path, e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| database_error(&self.path, e))
    }

    /// The reruns of `suite`'s cases at `commit` under `envelope_id`, oldest first.
    pub fn reruns_at(
        &self,
        suite: &str,
        commit: &str,
        envelope_id: &str,
    ) -> Result<Vec<RerunRecord>, Error> {
        self.reruns_where(
            "WHERE suite = ?1 AND commit_id = ?2 AND envelope_id = ?3
             ORDER BY started_s, started_ns, rerun_id",
            rusqlite::params![suite, commit, envelope_id],
        )
    }

    /// The envelope axes run `run_id` forced on the agent, if history holds the run.
    pub fn run_axes(&self, run_id: &str) -> Result<Option<BTreeMap<String, String>>, Error> {
        let axes: Option<Option<String>> = self
            .conn
            .query_row("SELECT axes FROM runs WHERE run_id = ?1", [run_id], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| database_error(&self.path, e))?;
        axes.map(|axes| match axes {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| self.unreadable(&format!("the axes of run {run_id}"), e)),
            None => Ok(BTreeMap::new()),
        })
        .transpose()
    }

    /// The run `run_id`, if history holds it.
    pub fn run(&self, run_id: &str) -> Result<Option<RunRow>, Error> {
        Ok(self
            .select_runs("WHERE run_id = ?1", [run_id])?
            .into_iter()
            .next())
    }

    /// The case records stored for `run_id` (one per case), by case id.
    pub fn case_records_of_run(&self, run_id: &str) -> Result<Vec<CaseRecord>, Error> {
        self.records_of_run(
            "SELECT case_id, record FROM case_records WHERE run_id = ?1 ORDER BY case_id",
            run_id,
        )
    }

    /// The sample records stored for `run_id`, by case and sample index.
    pub fn sample_records_of_run(&self, run_id: &str) -> Result<Vec<SampleRecord>, Error> {
        self.records_of_run(
            "SELECT case_id, record FROM sample_records WHERE run_id = ?1
             ORDER BY case_id, sample",
            run_id,
        )
    }

    /// The records `sql` selects for `run_id`, as (case id, record JSON) rows.
    fn records_of_run<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        run_id: &str,
    ) -> Result<Vec<T>, Error> {
        self.records_of(sql, run_id, [run_id])
    }

    /// The records `sql` selects with `params` from run `run_id`, as (case id, record JSON)
    /// rows.
    fn records_of<T: serde::de::DeserializeOwned, P: rusqlite::Params>(
        &self,
        sql: &str,
        run_id: &str,
        params: P,
    ) -> Result<Vec<T>, Error> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query(params)
            .map_err(|e| database_error(&self.path, e))?;
        let mut records = Vec::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let (case, json): (String, String) =
                (|| Ok((row.get(0)?, row.get(1)?)))().map_err(|e| database_error(&self.path, e))?;
            records.push(serde_json::from_str(&json).map_err(|e| {
                self.unreadable(&format!("a record of case {case} of run {run_id}"), e)
            })?);
        }
        Ok(records)
    }

    /// The reruns of `suite`'s cases started in `[since, until]`, on `branch` when given
    /// (reruns that could not tell their branch are listed whatever it is), newest first.
    pub fn reruns_of(
        &self,
        suite: &str,
        since: jiff::Timestamp,
        until: jiff::Timestamp,
        branch: Option<&str>,
    ) -> Result<Vec<RerunRecord>, Error> {
        self.reruns_where(
            "WHERE suite = ?1 AND started_s >= ?2 AND started_s <= ?3
               AND (?4 IS NULL OR branch IS NULL OR branch = ?4)
             ORDER BY started_s DESC, started_ns DESC, rerun_id DESC",
            rusqlite::params![suite, since.as_second(), until.as_second(), branch],
        )
    }

    /// The rerun records `tail` (a WHERE and ORDER BY clause) selects with `params`.
    fn reruns_where<P: rusqlite::Params>(
        &self,
        tail: &str,
        params: P,
    ) -> Result<Vec<RerunRecord>, Error> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT rerun_id, record FROM reruns {tail}"))
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query(params)
            .map_err(|e| database_error(&self.path, e))?;
        let mut reruns = Vec::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let (id, json): (String, String) =
                (|| Ok((row.get(0)?, row.get(1)?)))().map_err(|e| database_error(&self.path, e))?;
            reruns.push(
                serde_json::from_str(&json)
                    .map_err(|e| self.unreadable(&format!("rerun {id}"), e))?,
            );
        }
        Ok(reruns)
    }

    fn select_runs<P: rusqlite::Params>(
        &self,
        tail: &str,
        params: P,
    ) -> Result<Vec<RunRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT run_id, started_s, started_ns, suite, envelope_id, envelope, branch,
                   commit_id, partial FROM runs {tail}"
            ))
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query(params)
            .map_err(|e| database_error(&self.path, e))?;
        let mut runs = Vec::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let read = || -> rusqlite::Result<_> {
                Ok((
                    row.get::<_, String>(0)?,
                    (row.get(1)?, row.get(2)?),
                    row.get(3)?,
                    row.get(4)?,
                    row.get::<_, String>(5)?,
                    row.get(6)?,
                    row.get(7)?,
                    row.get(8)?,
                ))
            };
            let (run_id, started, suite, envelope_id, envelope, branch, commit, partial) =
                read().map_err(|e| database_error(&self.path, e))?;
            runs.push(RunRow {
                started_at: self.timestamp(started)?,
                envelope: serde_json::from_str(&envelope)
                    .map_err(|e| self.unreadable(&format!("the envelope of run {run_id}"), e))?,
                run_id,
                suite,
                envelope_id,
                branch,
                commit,
                partial,
            });
        }
        Ok(runs)
    }

    fn timestamp(&self, (seconds, nanos): (i64, i32)) -> Result<jiff::Timestamp, Error> {
        jiff::Timestamp::new(seconds, nanos).map_err(|e| self.unreadable("a run start time", e))
    }

    /// A value the store itself wrote cannot be read back: the file was edited or damaged.
    fn unreadable(&self, what: &str, e: impl std::fmt::Display) -> Error {
        DataError::new(
            &self.path,
            format!(
                "cannot read {what} from the run history ({e}); the file was changed by \
                 something other than evalgate — restore it from an export, or move it away"
            ),
        )
        .into()
    }
}
