// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Postgres;

// The statements of the Idempotency-Key store table, generated once per table name. Every value is a parameter; every time
// is the database's now(). The table's layout lives here only: IdempotencyStoreSchema (core: create, purge) and
// IdempotentWrites.AspNetCore's PostgresIdempotencyStore (linked: claim, complete, release) read the same file.
internal sealed class StoreSql
{
    public StoreSql(string? schema, string table)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        Table = Sql.QualifiedName(schema, table);
        var name = table.Length > 40 ? table[..40] : table;
        CreateScript = $"""
            CREATE TABLE IF NOT EXISTS {Table} (
                scope text NOT NULL,
                idempotency_key text NOT NULL,
                fingerprint bytea NOT NULL,
                fencing_token bigint GENERATED ALWAYS AS IDENTITY,
                created_at timestamptz NOT NULL DEFAULT now(),
                locked_until timestamptz,
                expires_at timestamptz NOT NULL,
                completed_at timestamptz,
                status_code integer,
                header_names text[],
                header_values text[],
                body bytea,
                body_omitted boolean NOT NULL DEFAULT false,
                CONSTRAINT {Sql.Quote(name + "_pkey")} PRIMARY KEY (scope, idempotency_key)
            );
            CREATE INDEX IF NOT EXISTS {Sql.Quote(name + "_expires_at_idx")} ON {Table} (expires_at);
            """;

        // $1 scope, $2 key: the key's row (Claim's second branch has the same columns, after its first).
        Select = $"""
            SELECT fingerprint, fencing_token, completed_at IS NOT NULL, expires_at <= now(),
                   GREATEST(EXTRACT(EPOCH FROM (locked_until - now())), 0)::float8,
                   status_code, header_names, header_values, body, body_omitted
            FROM {Table}
            WHERE scope = $1 AND idempotency_key = $2
            """;

        // The claim in one statement: the key's row when it exists (a replay reads it without attempting an insert), else the
        // insert. Its first column says which: true with the new fencing token, false with Select's columns after it. No row
        // at all means a concurrent claim committed the key after this statement's snapshot (its INSERT found the conflict):
        // Select, sent next, reads that row with a fresh snapshot.
        // $1 scope, $2 key, $3 fingerprint, $4 lease, $5 retention.
        Claim = $"""
            WITH existing AS (
            {Select}
            ), claimed AS (
                INSERT INTO {Table} (scope, idempotency_key, fingerprint, locked_until, expires_at)
                SELECT $1, $2, $3, now() + $4, now() + $5
                WHERE NOT EXISTS (SELECT FROM existing)
                ON CONFLICT (scope, idempotency_key) DO NOTHING
                RETURNING fencing_token
            )
            SELECT true, NULL::bytea, fencing_token, false, false, NULL::float8, NULL::integer, NULL::text[], NULL::text[],
                   NULL::bytea, false
            FROM claimed
            UNION ALL
            SELECT false, existing.* FROM existing
            """;

        // Compare-and-swap on the observed fencing token ($6): of two concurrent takeovers, one updates the row and the
        // other finds a new token and matches nothing. The conditions are re-checked on the locked row.
        Takeover = $"""
            UPDATE {Table}
            SET fingerprint = $3, fencing_token = DEFAULT, created_at = now(), locked_until = now() + $4, expires_at = now() + $5,
                completed_at = NULL, status_code = NULL, header_names = NULL, header_values = NULL, body = NULL, body_omitted = false
            WHERE scope = $1 AND idempotency_key = $2 AND fencing_token = $6
              AND (expires_at <= now() OR (completed_at IS NULL AND locked_until <= now() AND fingerprint = $3))
            RETURNING fencing_token
            """;

        // $1 scope, $2 key, $3 fencing token, $4 retention, $5 status, $6 header names, $7 header values, $8 body, $9 omitted.
        // clock_timestamp(), not now(): in transactional mode now() is when the handler's transaction began, and retention
        // counts from when the response is stored.
        Complete = $"""
            UPDATE {Table}
            SET completed_at = clock_timestamp(), locked_until = NULL, expires_at = clock_timestamp() + $4,
                status_code = $5, header_names = $6, header_values = $7, body = $8, body_omitted = $9
            WHERE scope = $1 AND idempotency_key = $2 AND fencing_token = $3 AND completed_at IS NULL
            """;
        Release = $"""
            DELETE FROM {Table}
            WHERE scope = $1 AND idempotency_key = $2 AND fencing_token = $3 AND completed_at IS NULL
            """;

        // SKIP LOCKED lets several instances purge at once; the outer condition is re-checked on the locked row, so a key
        // taken over (new expires_at) since the inner SELECT survives.
        Purge = $"""
            DELETE FROM {Table}
            WHERE (scope, idempotency_key) IN (
                SELECT scope, idempotency_key FROM {Table}
                WHERE expires_at <= now()
                ORDER BY expires_at
                LIMIT $1
                FOR UPDATE SKIP LOCKED)
              AND expires_at <= now()
            """;
    }

    public string Table { get; }

    public string CreateScript { get; }

    public string Select { get; }

    public string Claim { get; }

    public string Takeover { get; }

    public string Complete { get; }

    public string Release { get; }

    public string Purge { get; }
}
