// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace LoadDriver;

// Raw Npgsql with the SDK's exact SQL text and connection handling (a pooled connection opened per call, statements
// prepared per physical connection), and the hand-written patterns found in applications. Every pattern returns the id;
// with rows: true it also reads the whole row into a BenchUser, as the SDK returns it (every scenario that a target line
// compares with the SDK).
internal sealed class RawPatterns(NpgsqlDataSource dataSource, bool rows = false)
{
    public const string InsertOrGet = """INSERT INTO "bench_users" ("email", "name") VALUES ($1, $2) ON CONFLICT ("email") DO NOTHING RETURNING "id", "email", "name", "created_at" """;
    public const string Select = """SELECT "id", "email", "name", "created_at" FROM "bench_users" WHERE "email" = $1""";
    public const string PlainInsert = """INSERT INTO "bench_users" ("email", "name") VALUES ($1, $2) RETURNING "id", "email", "name", "created_at" """;
    public const string Upsert = """INSERT INTO "bench_users" AS iw_target ("email", "name") VALUES ($1, $2) ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name" WHERE ROW(iw_target."name") IS DISTINCT FROM ROW(EXCLUDED."name") RETURNING "id", "email", "name", "created_at", (iw_target.xmax = 0) AS iw_inserted""";

    // Insert-first: INSERT … ON CONFLICT DO NOTHING RETURNING and the re-select in one round trip (what the SDK sends).
    public async Task<long> InsertFirstAsync(string key)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await InsertFirstOnAsync(connection, key);
    }

    // Select-first, race-safe: the SELECT; on a miss, the insert-first batch (ON CONFLICT + re-select).
    public async Task<long> SelectFirstAsync(string key)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await SelectFirstOnAsync(connection, key, rows);
    }

    // Insert-only first: INSERT … ON CONFLICT DO NOTHING RETURNING alone; only when it returned nothing (the key exists),
    // the SELECT as a second round trip. One round trip for a new key, two for an existing one.
    public async Task<long> DoNothingThenSelectAsync(string key)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var insert = new NpgsqlCommand(InsertOrGet, connection) { Parameters = { new() { Value = key }, new() { Value = "x" } } })
        {
            await insert.PrepareAsync();
            await using var reader = await insert.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                return Read(reader, rows);
            }
        }

        await using var select = new NpgsqlCommand(Select, connection) { Parameters = { new() { Value = key } } };
        await select.PrepareAsync();
        await using var selected = await select.ExecuteReaderAsync();
        return await selected.ReadAsync() ? Read(selected, rows) : throw new InvalidOperationException("Row vanished.");
    }

    public static async Task<long> SelectFirstOnAsync(NpgsqlConnection connection, string key, bool rows = false)
    {
        await using (var select = new NpgsqlCommand(Select, connection) { Parameters = { new() { Value = key } } })
        {
            await select.PrepareAsync();
            await using var reader = await select.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                return Read(reader, rows);
            }
        }

        return await InsertFirstOnAsync(connection, key, rows);
    }

    public static async Task<long> InsertFirstOnAsync(NpgsqlConnection connection, string key, bool rows = false)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(InsertOrGet) { Parameters = { new() { Value = key }, new() { Value = "x" } } },
                new NpgsqlBatchCommand(Select) { Parameters = { new() { Value = key } } },
            },
        };
        await batch.PrepareAsync();
        await using var reader = await batch.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            return Read(reader, rows);
        }

        await reader.NextResultAsync();
        return await reader.ReadAsync() ? Read(reader, rows) : throw new InvalidOperationException("Row vanished.");
    }

    // The pattern from the wild: a plain INSERT, catch 23505, then SELECT (outside a transaction, so no savepoint).
    public async Task<long> Catch23505Async(string key)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        try
        {
            await using var insert = new NpgsqlCommand(PlainInsert, connection) { Parameters = { new() { Value = key }, new() { Value = "x" } } };
            await insert.PrepareAsync();
            return (long)(await insert.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await using var select = new NpgsqlCommand(Select, connection) { Parameters = { new() { Value = key } } };
            await select.PrepareAsync();
            return (long)(await select.ExecuteScalarAsync())!;
        }
    }

    // ON CONFLICT DO UPDATE … RETURNING (xmax = 0), re-selecting when the no-op guard returned nothing (as the SDK does).
    public async Task<long> UpsertAsync(string key, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var upsert = new NpgsqlCommand(Upsert, connection) { Parameters = { new() { Value = key }, new() { Value = name } } })
        {
            await upsert.PrepareAsync();
            await using var reader = await upsert.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                return Read(reader, rows);
            }
        }

        await using var select = new NpgsqlCommand(Select, connection) { Parameters = { new() { Value = key } } };
        await select.PrepareAsync();
        await using var selected = await select.ExecuteReaderAsync();
        return await selected.ReadAsync() ? Read(selected, rows) : throw new InvalidOperationException("Row vanished.");
    }

    // The id alone, or (rows) the whole row as the SDK materializes it, kept reachable so it is a real heap allocation (in
    // a thread-static: one static written by 32 callers would cost raw a contended cache line the SDK does not pay).
    private static long Read(NpgsqlDataReader reader, bool rows)
    {
        if (!rows)
        {
            return reader.GetInt64(0);
        }

        var user = new BenchUser
        {
            Id = reader.GetInt64(0),
            Email = reader.GetString(1),
            Name = reader.GetString(2),
            CreatedAt = reader.GetFieldValue<DateTimeOffset>(3),
        };
        t_lastRow = user;
        return user.Id;
    }

    [ThreadStatic]
    private static BenchUser? t_lastRow;
}
