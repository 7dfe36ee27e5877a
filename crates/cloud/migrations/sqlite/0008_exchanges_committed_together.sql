-- Exchanges committed together: on PostgreSQL a function (../postgres/0008). SQLite's exchange
-- writer (src/store/sqlite_writer.rs) has always committed waiting exchanges together. The schema
-- is unchanged; this keeps the two folders numbered alike.
SELECT 1;
