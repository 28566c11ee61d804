/**
 * Pragmas for every SQLite connection we open (TypeORM's and the ingest writer's).
 * WAL lets readers run while the ingest writer commits; `synchronous = FULL` makes every
 * acknowledged webhook survive a power cut, and costs little because the writer commits in groups
 * (see ingest/ingestor.ts). `busy_timeout` lets the CLI and the server share the file; the ingest
 * writer replaces it with a short one and waits asynchronously instead (db/sql-writer.ts), because
 * better-sqlite3 waits synchronously, blocking the event loop.
 */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON'];

/** Memory-mapped reads, up to this many bytes of the file (address space, not memory: the OS page cache backs it). */
export const SQLITE_MMAP_BYTES = 1024 * 1024 * 1024;

/** TCP keepalive on PostgreSQL connections: a peer that vanished is noticed on idle connections too. */
export const PG_KEEPALIVE_DELAY_MS = 10_000;
