//! The baseline pooled from the recent runs of a branch.

use serde::Deserialize;
use serde::de::IntoDeserializer;

use super::super::rows::{PoolQuery, Pooled, PooledCase, RunRow};
use super::super::schema::database_error;
use super::HistoryStore;
use crate::errors::Error;
use crate::verdict::Verdict;

impl HistoryStore {
    /// A case-by-case baseline pooled from the recent runs of a branch: the latest run that
    /// may be a baseline sets the envelope (never pooled across a change of the branch's
    /// own envelope), then up to `window` runs under it, none started before `since`.
    pub fn pooled_baseline(&self, query: &PoolQuery) -> Result<Pooled, Error> {
        let excluded = serde_json::to_string(query.excluding)
            .map_err(|e| Error::Internal(format!("run ids do not serialize: {e}")))?;
        let eligible = "suite = ?1 AND branch = ?2 AND suite_tier IS NULL AND partial = 0
               AND run_id NOT IN (SELECT value FROM json_each(?3))
               AND (?4 IS NULL OR commit_id IS NULL OR commit_id != ?4)";
        let newest = "ORDER BY started_s DESC, started_ns DESC, run_id DESC";
        let params = rusqlite::params![
            query.suite,
            query.branch,
            excluded,
            query.commit,
            query.axes
        ];
        let latest = self.select_runs(
            &format!("WHERE {eligible} AND axes IS ?5 {newest} LIMIT 1"),
            params,
        )?;
        let Some(latest) = latest.into_iter().next() else {
            // `?5 IS ?5`: the same parameters, the axes matched by nothing.
            let other = self.select_runs(
                &format!("WHERE {eligible} AND ?5 IS ?5 {newest} LIMIT 1"),
                params,
            )?;
            return Ok(match other.into_iter().next() {
                Some(run) => Pooled::OtherAxes(run),
                None => Pooled::Nothing,
            });
        };
        if latest.started_at < query.since {
            return Ok(Pooled::Stale(latest));
        }
        let runs = self.select_runs(
            &format!(
                "WHERE {eligible} AND axes IS ?5 AND envelope_id = ?6
                   AND (started_s > ?7 OR (started_s = ?7 AND started_ns >= ?8))
                 {newest} LIMIT ?9"
            ),
            rusqlite::params![
                query.suite,
                query.branch,
                excluded,
                query.commit,
                query.axes,
                latest.envelope_id,
                query.since.as_second(),
                query.since.subsec_nanosecond(),
                query.window
            ],
        )?;
        let (cases, held) = self.pooled_cases(&runs, query.cases)?;
        Ok(Pooled::Found { runs, cases, held })
    }

    /// Per case of `cases` (every case when None), its samples pooled over `runs` and its
    /// verdict in the newest of them; and how many cases the runs hold.
    fn pooled_cases(
        &self,
        runs: &[RunRow],
        cases: Option<&[&str]>,
    ) -> Result<(Vec<PooledCase>, usize), Error> {
        let ids: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        let wanted = cases
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Internal(format!("case ids do not serialize: {e}")))?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.case_id, json_extract(c.record, '$.passes'),
                        json_extract(c.record, '$.failures'), c.verdict
                   FROM case_records c JOIN runs r ON r.run_id = c.run_id
                  WHERE c.run_id IN (SELECT value FROM json_each(?1))
                    AND (?2 IS NULL OR c.case_id IN (SELECT value FROM json_each(?2)))
                  ORDER BY c.case_id, r.started_s DESC, r.started_ns DESC, r.run_id DESC",
            )
            .map_err(|e| database_error(&self.path, e))?;
        let ids = serde_json::to_string(&ids)
            .map_err(|e| Error::Internal(format!("run ids do not serialize: {e}")))?;
        let held: i64 = self
            .conn
            .query_row(
                "SELECT count(DISTINCT case_id) FROM case_records
                  WHERE run_id IN (SELECT value FROM json_each(?1))",
                [&ids],
                |row| row.get(0),
            )
            .map_err(|e| database_error(&self.path, e))?;
        let mut rows = stmt
            .query(rusqlite::params![ids, wanted])
            .map_err(|e| database_error(&self.path, e))?;
        let mut cases: Vec<PooledCase> = Vec::new();
        while let Some(row) = rows.next().map_err(|e| database_error(&self.path, e))? {
            let read = || -> rusqlite::Result<(String, u32, u32, String)> {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            };
            let (case, passes, failures, verdict) =
                read().map_err(|e| database_error(&self.path, e))?;
            match cases.last_mut().filter(|c| c.case == case) {
                Some(pooled) => {
                    pooled.passes += passes;
                    pooled.answered += passes + failures;
                    pooled.runs += 1;
                }
                None => cases.push(PooledCase {
                    latest: Verdict::deserialize(verdict.as_str().into_deserializer()).map_err(
                        |e: serde::de::value::Error| {
                            self.unreadable(&format!("the verdict of case {case}"), e)
                        },
                    )?,
                    case,
                    passes,
                    answered: passes + failures,
                    runs: 1,
                }),
            }
        }
        Ok((cases, usize::try_from(held).unwrap_or(0)))
    }
}
