//! The two backends' migrations build the same schema: the same tables, the same columns with
//! the same meaning (SQLite's INTEGER is PostgreSQL's BIGINT, TEXT is TEXT, BLOB is BYTEA), the
//! same nullability and the same indexes. Both clouds are started for real, so this is the schema
//! the migrations leave, not what the files say. PostgreSQL is required when
//! `MINGPIAN_TEST_POSTGRES` is set (CI), as everywhere in the test kit.

use std::collections::BTreeMap;

use mingpian_testkit::{Backend, TestCloud};
use sqlx::{Connection as _, Row as _};

/// Table → column → (type, nullable).
type Schema = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// SQLite's declared types and PostgreSQL's as one vocabulary.
fn kind(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    match t.as_str() {
        "integer" | "bigint" | "int" | "int8" | "bigserial" | "serial" | "int4" | "smallint" => {
            "integer"
        }
        "text" | "character varying" | "varchar" => "text",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" | "float8" => "real",
        other => other,
    }
    .to_owned()
}

const INTERNAL: [&str; 2] = ["_sqlx_migrations", "sqlite_sequence"];

async fn sqlite_schema(url: &str) -> (Schema, Vec<String>) {
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open the SQLite file");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .expect("tables");
    let mut schema = Schema::new();
    for table in tables
        .into_iter()
        .filter(|t| !INTERNAL.contains(&t.as_str()))
    {
        let rows = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
            .bind(&table)
            .fetch_all(&mut conn)
            .await
            .expect("columns");
        let columns = rows
            .iter()
            .map(|r| {
                let name: String = r.get("name");
                let not_null: i64 = r.get("notnull");
                let pk: i64 = r.get("pk");
                // A primary key column is never NULL in practice, declared or not.
                (
                    name,
                    (
                        kind(r.get::<String, _>("type").as_str()),
                        not_null == 0 && pk == 0,
                    ),
                )
            })
            .collect();
        schema.insert(table, columns);
    }
    let indexes = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("indexes");
    (schema, indexes)
}

async fn postgres_schema(url: &str) -> (Schema, Vec<String>) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS d, is_nullable::text AS n \
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .expect("columns");
    let mut schema = Schema::new();
    for r in rows {
        let table: String = r.get("t");
        if INTERNAL.contains(&table.as_str()) {
            continue;
        }
        let nullable = r.get::<String, _>("n") == "YES";
        schema.entry(table).or_default().insert(
            r.get("c"),
            (kind(r.get::<String, _>("d").as_str()), nullable),
        );
    }
    // Unique and primary-key constraints make indexes of their own on PostgreSQL (SQLite's are
    // the skipped autoindexes): only the indexes the migrations name are compared.
    let indexes = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
           AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
    )
    .fetch_all(&mut conn)
    .await
    .expect("indexes");
    (schema, indexes)
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let sqlite = TestCloud::start(Backend::Sqlite, |_| {})
        .await
        .expect("SQLite starts");
    let Some(postgres) = TestCloud::start(Backend::Postgres, |_| {}).await else {
        return; // Not required here and not reachable: the test kit said SKIPPED.
    };
    let (lite, lite_indexes) = sqlite_schema(&sqlite.database_url()).await;
    let (pg, pg_indexes) = postgres_schema(&postgres.database_url()).await;
    assert!(
        lite.len() >= 8,
        "the SQLite schema was read: {:?}",
        lite.keys()
    );
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &lite {
        assert_eq!(
            Some(columns),
            pg.get(table),
            "table {table}: columns, types and nullability"
        );
    }
    assert!(!lite_indexes.is_empty(), "the SQLite indexes were read");
    assert_eq!(lite_indexes, pg_indexes, "the same named indexes");
    sqlite.stop().await;
    postgres.stop().await;
}
