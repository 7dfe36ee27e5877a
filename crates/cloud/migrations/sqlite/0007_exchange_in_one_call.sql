-- An exchange's writes in one call: on PostgreSQL a function (../postgres/0007). SQLite has no
-- stored functions and needs none: its exchanges are written by one connection in the server's own
-- process (src/store/sqlite_writer.rs), which commits waiting exchanges together. The schema is
-- unchanged; this keeps the two folders numbered alike.
SELECT 1;
