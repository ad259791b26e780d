//! The layout of the history database, how a file is recognised as one, and how an older
//! one is brought up to date. The file says what it is in its header: `application_id` is
//! evalgate's, `user_version` is the number of migrations applied. A file that is not ours,
//! or is newer than this build, is refused before anything writes to it.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use crate::errors::{DataError, Error};

/// `PRAGMA application_id` of an evalgate history ("EvGH"), so that another program's SQLite
/// file is never mistaken for one (and never migrated).
const APPLICATION_ID: i32 = 0x4576_4748;

/// One step of the schema. Steps are applied in order, each in its own transaction, and
/// never edited once released: a change is a new step.
struct Migration {
    /// What the step does, for the error when it fails.
    purpose: &'static str,
    sql: &'static str,
}

/// Every migration; the schema version of a history is how many of them it has applied.
const MIGRATIONS: &[Migration] = &[
    Migration {
        purpose: "create the record and run tables",
        // Records are kept whole (`record`, the JSON line) so an export gives back exactly what
        // was ingested; the other columns are the keys and what queries filter or sort on.
        // Times are seconds + nanoseconds so that they sort as numbers.
        sql: "
        CREATE TABLE run_records (
            run_id      TEXT    NOT NULL,
            pid         INTEGER NOT NULL,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            suite       TEXT    NOT NULL,
            record      TEXT    NOT NULL,
            PRIMARY KEY (run_id, pid)
        );
        CREATE TABLE sample_records (
            run_id      TEXT    NOT NULL,
            case_id     TEXT    NOT NULL,
            sample      INTEGER NOT NULL,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            verdict     TEXT    NOT NULL,
            -- What the agent reported (the run's envelope is recomputed from these two
            -- without reading every record): the model, and the other versions as a JSON
            -- object, NULL when it reported none.
            model       TEXT,
            envelope    TEXT,
            record      TEXT    NOT NULL,
            PRIMARY KEY (run_id, case_id, sample)
        );
        CREATE TABLE case_records (
            run_id      TEXT    NOT NULL,
            case_id     TEXT    NOT NULL,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            verdict     TEXT    NOT NULL,
            record      TEXT    NOT NULL,
            PRIMARY KEY (run_id, case_id)
        );
        CREATE INDEX case_records_by_case ON case_records (case_id);
        -- One row per run id, derived from its records at every ingest that touches it.
        CREATE TABLE runs (
            run_id      TEXT    NOT NULL PRIMARY KEY,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            suite       TEXT    NOT NULL,
            envelope_id TEXT    NOT NULL,
            envelope    TEXT    NOT NULL
        );
        CREATE INDEX runs_by_start ON runs (started_s, started_ns, run_id);
        CREATE INDEX runs_by_envelope ON runs (envelope_id);
    ",
    },
    Migration {
        purpose: "record the branch and commit each run measured",
        // NULL when the run could not tell (records from before this step carry neither).
        sql: "
        ALTER TABLE runs ADD COLUMN branch TEXT;
        ALTER TABLE runs ADD COLUMN commit_id TEXT;
        CREATE INDEX runs_by_branch ON runs (suite, branch, started_s, started_ns);
    ",
    },
    Migration {
        purpose: "keep `evalgate rerun` records",
        sql: "
        CREATE TABLE reruns (
            rerun_id    TEXT    NOT NULL PRIMARY KEY,
            suite       TEXT    NOT NULL,
            case_id     TEXT    NOT NULL,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            branch      TEXT,
            record      TEXT    NOT NULL
        );
        CREATE INDEX reruns_by_suite ON reruns (suite, started_s, started_ns);
    ",
    },
    Migration {
        purpose: "record the suite tier a run was limited to",
        // A run of a suite tier (EVALGATE_SUITE_TIER) is never a baseline: the cases it did
        // not run would compare as new, and a regression in one of them would pass.
        sql: "
        ALTER TABLE runs ADD COLUMN suite_tier TEXT;
    ",
    },
    Migration {
        purpose: "find the samples of a case that reported memory or probed recall",
        // 1 when the sample reported memory or ran a recall probe: a case's reference run
        // for memory divergence is found through the partial index, without reading records.
        sql: "
        ALTER TABLE sample_records ADD COLUMN memory INTEGER;
        UPDATE sample_records SET memory = 1
         WHERE json_array_length(record, '$.memory') > 0
            OR EXISTS (SELECT 1 FROM json_each(record, '$.checks') c
                       WHERE json_extract(c.value, '$.expectation') = 'recalled');
        CREATE INDEX sample_records_memory ON sample_records (case_id) WHERE memory = 1;
    ",
    },
    Migration {
        purpose: "pool baselines by forced envelope axes, and know the attempts of a commit",
        // `axes`: the envelope axes a run forced on the agent (JSON, NULL when none): a run
        // under other axes is another agent, never pooled into a baseline. `run_outcomes`:
        // whether each reported run ended red, so a green run after red attempts of the same
        // commit and envelope is seen. Reruns learn their commit and envelope for the same.
        sql: "
        ALTER TABLE runs ADD COLUMN axes TEXT;
        UPDATE runs SET axes = (
            SELECT json(json_extract(rr.record, '$.axes')) FROM run_records rr
             WHERE rr.run_id = runs.run_id
               AND json_extract(rr.record, '$.axes') IS NOT NULL
               AND json_extract(rr.record, '$.axes') != '{}'
             ORDER BY rr.started_s, rr.started_ns, rr.pid LIMIT 1);
        CREATE INDEX runs_by_commit ON runs (suite, commit_id, envelope_id);
        CREATE TABLE run_outcomes (
            run_id      TEXT    NOT NULL PRIMARY KEY,
            red         INTEGER NOT NULL,
            record      TEXT    NOT NULL
        );
        ALTER TABLE reruns ADD COLUMN commit_id TEXT;
        ALTER TABLE reruns ADD COLUMN envelope_id TEXT;
        UPDATE reruns SET commit_id = json_extract(record, '$.commit'),
                          envelope_id = json_extract(record, '$.envelope_id');
    ",
    },
    Migration {
        purpose: "know the runs that did not finish",
        // `run_ends`: each process's end marker. `partial`: the run was killed or
        // interrupted, or cases it planned have no result — never a baseline, decay or
        // memory reference. Runs recorded before plans and end markers cannot tell: 0.
        sql: "
        CREATE TABLE run_ends (
            run_id      TEXT    NOT NULL,
            pid         INTEGER NOT NULL,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            record      TEXT    NOT NULL,
            PRIMARY KEY (run_id, pid, started_s, started_ns)
        );
        ALTER TABLE runs ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;
        -- A process is its pid and its start: shards in identical containers share pids.
        CREATE TABLE run_records_by_process (
            run_id      TEXT    NOT NULL,
            pid         INTEGER NOT NULL,
            started_s   INTEGER NOT NULL,
            started_ns  INTEGER NOT NULL,
            suite       TEXT    NOT NULL,
            record      TEXT    NOT NULL,
            PRIMARY KEY (run_id, pid, started_s, started_ns)
        );
        INSERT INTO run_records_by_process
            SELECT run_id, pid, started_s, started_ns, suite, record FROM run_records;
        DROP TABLE run_records;
        ALTER TABLE run_records_by_process RENAME TO run_records;
    ",
    },
];

/// What the file at hand is, read from its header without writing to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// An empty database (a new file): ours to set up.
    Blank,
    /// An evalgate history at this schema version.
    History(u32),
}

/// Checks that the file is a history this build can use, switches it to WAL and applies the
/// missing migrations, waiting up to `patience` for other processes doing the same.
pub fn prepare(conn: &mut Connection, path: &Path, patience: Duration) -> Result<(), Error> {
    identify(conn, path, MIGRATIONS.len())?;
    // After the check: WAL is a persistent change to the file, so a foreign or newer file
    // must not get it. WAL lets readers go on while a writer ingests.
    use_wal(conn, path, patience)?;
    migrate(conn, path, MIGRATIONS)
}

/// Switches the file to WAL (a no-op once it is). Two processes switching a new file at the
/// same moment each hold a read lock the other's switch waits for; SQLite breaks that
/// deadlock by answering SQLITE_BUSY at once, without waiting the busy timeout, so the
/// switch is retried here for as long as that timeout.
fn use_wal(conn: &Connection, path: &Path, patience: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + patience;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(Error::Internal(format!(
                    "{}: sqlite kept journal mode {mode} instead of wal",
                    path.display()
                )));
            }
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(database_error(path, e)),
        }
    }
}

/// Applies the migrations the file lacks, one transaction each. Each step checks the
/// version again once it holds the write lock: another process may have migrated meanwhile.
fn migrate(conn: &mut Connection, path: &Path, migrations: &[Migration]) -> Result<(), Error> {
    // The usual case, an up-to-date file, takes no write lock.
    let known = migrations.len();
    if identify(conn, path, known)? == Found::History(known as u32) {
        return Ok(());
    }
    for (index, migration) in migrations.iter().enumerate() {
        let version = index as u32 + 1;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database_error(path, e))?;
        let current = match identify(&tx, path, known)? {
            Found::Blank => 0,
            Found::History(v) => v,
        };
        if current >= version {
            continue;
        }
        tx.execute_batch(migration.sql)
            .and_then(|()| tx.pragma_update(None, "application_id", APPLICATION_ID))
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|e| {
                Error::Internal(format!(
                    "{}: history migration {version} ({}) failed: {e}",
                    path.display(),
                    migration.purpose
                ))
            })?;
        tx.commit().map_err(|e| database_error(path, e))?;
    }
    Ok(())
}

/// Reads the header fields and refuses a file that is not a history, or has more than the
/// `known` migrations applied.
fn identify(conn: &Connection, path: &Path, known: usize) -> Result<Found, Error> {
    // One statement, so one snapshot: read apart, a migration committed in between by
    // another process would show its tables without its application id.
    let (application_id, version, objects): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id),
                    (SELECT user_version FROM pragma_user_version),
                    (SELECT count(*) FROM sqlite_schema)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(|e| database_error(path, e))?;
    if application_id == i64::from(APPLICATION_ID) {
        return match u32::try_from(version) {
            Ok(v) if v as usize <= known => Ok(Found::History(v)),
            _ => Err(DataError::new(
                path,
                format!(
                    "this run history has schema version {version}, newer than this evalgate \
                     knows (version {known}); use the newer evalgate that wrote it — the file \
                     was left untouched"
                ),
            )
            .into()),
        };
    }
    if application_id == 0 && version == 0 && objects == 0 {
        return Ok(Found::Blank);
    }
    Err(DataError::new(
        path,
        format!(
            "not an evalgate run history (a SQLite database with application id \
             {application_id:#x} and {objects} schema object(s)); point evalgate at another \
             history file or move this one away — it was left untouched"
        ),
    )
    .into())
}

/// What a SQLite failure on the history file means for the user: a damaged file is theirs to
/// deal with (exit 2), a locked, full or unreadable disk is an I/O error, the rest is ours.
pub fn database_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as Code;
    match e.sqlite_error_code() {
        Some(Code::NotADatabase | Code::DatabaseCorrupt) => {
            let message = format!(
                "cannot read the run history: {e}; the file is damaged or is not an evalgate \
                 history — move it away (a new history is created in its place) or restore it \
                 from an export"
            );
            DataError::new(path, message).caused_by(e).into()
        }
        Some(
            Code::CannotOpen
            | Code::PermissionDenied
            | Code::ReadOnly
            | Code::DiskFull
            | Code::SystemIoFailure
            | Code::DatabaseBusy
            | Code::DatabaseLocked
            | Code::NoLargeFileSupport,
        ) => Error::io(
            crate::errors::IoAction::Opening,
            path,
            std::io::Error::other(e),
        ),
        _ => Error::Internal(format!("run history {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_new_file_gets_our_id_the_latest_version_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let mut conn = Connection::open(&path).unwrap();
        prepare(&mut conn, &path, Duration::from_secs(5)).unwrap();
        let id: i32 = conn
            .pragma_query_value(None, "application_id", |row| row.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
        assert_eq!(version(&conn), MIGRATIONS.len() as i64);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(
            tables(&conn),
            [
                "case_records",
                "reruns",
                "run_ends",
                "run_outcomes",
                "run_records",
                "runs",
                "sample_records"
            ]
        );
        // Preparing again applies nothing twice (a second CREATE TABLE would fail).
        prepare(&mut conn, &path, Duration::from_secs(5)).unwrap();
        assert_eq!(version(&conn), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_first_version_history_gains_the_branch_columns_and_keeps_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path, &MIGRATIONS[..1]).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.execute(
            "INSERT INTO runs VALUES ('r1', 1, 0, 'shop', 'e1', '{}')",
            [],
        )
        .unwrap();
        prepare(&mut conn, &path, Duration::from_secs(5)).unwrap();
        assert_eq!(version(&conn), MIGRATIONS.len() as i64);
        let row: (String, Option<String>, Option<String>) = conn
            .query_row("SELECT run_id, branch, commit_id FROM runs", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .unwrap();
        assert_eq!(row, ("r1".to_string(), None, None));
    }

    #[test]
    fn migrations_apply_in_order_and_a_failed_one_leaves_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let mut conn = Connection::open(&path).unwrap();
        let steps = [
            Migration {
                purpose: "first",
                sql: "CREATE TABLE a (x);",
            },
            Migration {
                purpose: "second",
                sql: "CREATE TABLE b (x); ALTER TABLE a ADD COLUMN y;",
            },
            Migration {
                purpose: "broken",
                sql: "CREATE TABLE c (x); CREATE TABLE a (x);",
            },
        ];
        migrate(&mut conn, &path, &steps[..1]).unwrap();
        assert_eq!(version(&conn), 1);
        assert_eq!(tables(&conn), ["a"]);
        let e = migrate(&mut conn, &path, &steps).unwrap_err().to_string();
        assert!(e.contains("history migration 3 (broken) failed"), "{e}");
        // Step 2 committed on its own; step 3 left nothing, not even its first table.
        assert_eq!(version(&conn), 2);
        assert_eq!(tables(&conn), ["a", "b"]);
    }

    #[test]
    fn the_memory_migration_marks_the_samples_a_history_already_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, &path, &MIGRATIONS[..4]).unwrap();
        let insert = |sample: i64, record: &str| {
            conn.execute(
                "INSERT INTO sample_records (run_id, case_id, sample, started_s, started_ns,
                   verdict, record) VALUES ('r', 'c', ?1, 0, 0, 'pass', ?2)",
                rusqlite::params![sample, record],
            )
            .unwrap();
        };
        insert(
            0,
            r#"{"memory": [{"turn": 1, "retained": ["a"]}], "checks": []}"#,
        );
        insert(
            1,
            r#"{"checks": [{"expectation": "recalled", "passed": true}]}"#,
        );
        insert(
            2,
            r#"{"checks": [{"expectation": "contains", "passed": true}]}"#,
        );
        insert(3, r#"{"memory": [], "checks": []}"#);
        migrate(&mut conn, &path, MIGRATIONS).unwrap();
        let marked: Vec<i64> = conn
            .prepare("SELECT sample FROM sample_records WHERE memory = 1 ORDER BY sample")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(marked, [0, 1]);
    }
}
