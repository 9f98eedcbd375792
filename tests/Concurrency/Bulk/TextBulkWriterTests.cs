// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Bulk;

// TextBulkWriter, the public untyped bulk API (rows of text fields, parsed by the server per column type), on a real server.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Bulk")]
public sealed class TextBulkWriterTests(PostgresFixture db)
{
    private static readonly string[] Columns = ["id", "email", "name", "score", "born", "tags", "doc"];

    private async Task<string> CreatePeopleAsync(int existing)
    {
        var table = Names.Table("text_people");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email text NOT NULL UNIQUE,
                name text,
                score int NOT NULL DEFAULT 0,
                born date,
                tags text[],
                doc jsonb,
                upper_email text GENERATED ALWAYS AS (upper(email)) STORED)
            """);
        await db.ExecuteAsync($"INSERT INTO {table} (email, name) SELECT 'p' || g || '@x', 'old' FROM generate_series(1, {existing}) g");
        return table;
    }

    private int _reads;

    private TextBulkWriter Writer() => new(db.DataSource);

    private static TextBulkTarget Target(string table, params string[] columns) => new(null, table, columns.Length == 0 ? Columns : columns, ["email"]);

    // Row i: id 100000 + i, email p{i}@x (so rows 1..existing are stored already), every field a text form the server parses.
    private static string?[] Person(long i, string name = "new") =>
    [
        (100_000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture),
        $"p{i}@x",
        i % 5 == 0 ? null : name,
        (i % 100).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "2001-02-03",
        "{a,\"b c\"}",
        $$"""{"n": {{i}}, "q": "say \"hi\", ok"}""",
    ];

    private static async IAsyncEnumerable<T> Stream<T>(IEnumerable<T> rows)
    {
        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }

    [Fact]
    public async Task InsertMany_ExistingAndRepeatedKeys_ExactCountsTypesParsedSequenceMoved()
    {
        var table = await CreatePeopleAsync(existing: 1_000);

        // 5,000 distinct keys (1..5,000: the first 1,000 stored already) and 500 rows repeating keys 4,001..4,500.
        var input = new List<string?[]>();
        for (long i = 1; i <= 5_000; i++)
        {
            input.Add(Person(i));
        }

        for (long i = 4_001; i <= 4_500; i++)
        {
            input.Add(Person(i, name: "repeat"));
        }

        var report = await Writer().InsertManyAsync(Target(table), Stream(input), new BulkWriteOptions { ChunkSize = 1_200, MaxReportedRows = 5 });

        Assert.Equal(5_500, report.RowsRead);
        Assert.Equal(4_000, report.Inserted);
        Assert.Equal(1_000, report.Existing);
        Assert.Equal(500, report.DuplicatesInInput);
        Assert.Equal(0, report.Updated + report.Unchanged);
        Assert.Equal(5, report.Chunks);
        Assert.Equal(table, report.Table);
        Assert.Equal(1, report.SequencesSynchronized);
        Assert.Same(input[0], report.ExistingRows[0]);
        Assert.Equal(5, report.ExistingRows.Count);
        Assert.Same(input[5_000], report.DuplicateRows[0]);

        Assert.Equal(5_000L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE name = 'repeat'"));
        Assert.Equal(
            "104321|P4321@X|new|21|2001-02-03|b c|4321|say \"hi\", ok",
            await db.ScalarAsync<string>($"SELECT concat_ws('|', id, upper_email, name, score, born, tags[2], doc->>'n', doc->>'q') FROM {table} WHERE email = 'p4321@x'"));
        Assert.Equal(800L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE name IS NULL AND id > 100000"));

        // The identity sequence was moved past the explicit ids: a default insert gets the next one.
        Assert.Equal(105_001L, await db.ScalarAsync<long>($"INSERT INTO {table} (email) VALUES ('next@x') RETURNING id"));

        // Running the same import again writes nothing: every key was stored before this run, so each of its rows existed.
        var again = await Writer().InsertManyAsync(Target(table), Stream(input), new BulkWriteOptions { ChunkSize = 1_200 });

        Assert.Equal((0L, 5_500L, 0L), (again.Inserted, again.Existing, again.DuplicatesInInput));
        Assert.Equal(5_001L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_TriggerChangesAStoredKey_RowInsertedUnderItsNewKey()
    {
        // p7@x is stored; a BEFORE INSERT trigger renames it to moved-p7@x. Looking the keys up before the write would find
        // p7@x and skip the row: the writer must not (it reads the table's triggers), so the insert meets the new key.
        var table = await CreatePeopleAsync(existing: 0);
        await db.ExecuteAsync($"""
            INSERT INTO {table} (email, name) VALUES ('p7@x', 'old');
            CREATE FUNCTION {table}_move() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.email = 'p7@x' THEN NEW.email := 'moved-p7@x'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER {table}_move BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_move();
            """);

        var report = await Writer().InsertManyAsync(
            Target(table, "email", "name"),
            Stream(Enumerable.Range(1, 20).Select(i => new[] { $"p{i}@x", "new" })),
            new BulkWriteOptions { ChunkSize = 5 });

        Assert.Equal((20L, 20L, 0L), (report.RowsRead, report.Inserted, report.Existing));
        Assert.Equal(("old", "new"), (
            await db.ScalarAsync<string>($"SELECT name FROM {table} WHERE email = 'p7@x'"),
            await db.ScalarAsync<string>($"SELECT name FROM {table} WHERE email = 'moved-p7@x'")));
    }

    [Fact]
    public async Task InsertMany_PartitionedTable_NoLookupExactCounts()
    {
        // Each partition numbers its ctids on its own, so the lookup's check of the rows it found does not apply: no chunk of
        // a partitioned table looks up (the text path reads relkind), and none is written twice.
        var table = Names.Table("text_parted");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (email text NOT NULL PRIMARY KEY, name text) PARTITION BY HASH (email);
            CREATE TABLE {table}_0 PARTITION OF {table} FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE {table}_1 PARTITION OF {table} FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            INSERT INTO {table} SELECT 'p' || g || '@x', 'old' FROM generate_series(1, 30, 3) g;
            """);
        var logs = new ListLoggerProvider();

        var report = await new TextBulkWriter(db.DataSource, logs.CreateLogger("test")).InsertManyAsync(
            new TextBulkTarget(null, table, ["email", "name"], ["email"]),
            Stream(Enumerable.Range(1, 30).Select(i => new[] { $"p{i}@x", "new" })),
            new BulkWriteOptions { ChunkSize = 10 });

        Assert.Equal((30L, 20L, 10L), (report.RowsRead, report.Inserted, report.Existing));
        Assert.Equal(["classified", "classified", "classified"], logs.Values(IdempotentWritesEventId.BulkChunkCommitted, "Write"));
        Assert.Empty(logs.EventIds(IdempotentWritesEventId.BulkChunkRewritten));
        Assert.Equal((10L, 20L), (
            await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE name = 'old'"),
            await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE name = 'new'")));
    }

    [Fact]
    public async Task UpsertMany_LastRowOfAKeyWins_UpdatedUnchangedCounted()
    {
        var table = await CreatePeopleAsync(existing: 3);
        await db.ExecuteAsync($"UPDATE {table} SET score = 7 WHERE email = 'p3@x'");
        string?[][] rows =
        [
            ["p1@x", "first", "1"],
            ["p2@x", "old", "0"],
            ["p9@x", "new", "5"],
            ["p1@x", "second", "2"],
            ["p3@x", "old", "7"],
        ];

        var report = await Writer().UpsertManyAsync(Target(table, "email", "name", "score"), Stream(rows));

        Assert.Equal((1L, 1L, 2L, 1L, 0L), (report.Inserted, report.Updated, report.Unchanged, report.DuplicatesInInput, report.Existing));
        Assert.Equal("second|2", await db.ScalarAsync<string>($"SELECT name || '|' || score FROM {table} WHERE email = 'p1@x'"));
        Assert.Equal(4L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task PreviewConflicts_CountsWithoutWriting()
    {
        var table = await CreatePeopleAsync(existing: 100);
        var input = Enumerable.Range(1, 400).Select(i => Person(i)).Append(Person(300)).ToList();

        var report = await Writer().PreviewConflictsAsync(Target(table), Stream(input), new BulkWriteOptions { ChunkSize = 150 });

        Assert.True(report.IsPreview);
        Assert.Equal((401L, 300L, 100L, 1L), (report.RowsRead, report.Inserted, report.Existing, report.DuplicatesInInput));
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_FieldTheColumnTypeRefuses_BulkValueExceptionNamesRowAndColumn_EarlierChunksKept()
    {
        var table = await CreatePeopleAsync(existing: 0);
        var input = Enumerable.Range(1, 250).Select(i => new Line(i + 1, Person(i))).ToList();
        input[180] = new Line(182, [.. Person(181)[..3], "not-a-number", .. Person(181)[4..]]);

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => Writer().InsertManyAsync(Target(table), Stream(input), new BulkWriteOptions { ChunkSize = 100 }));

        var value = Assert.IsType<BulkValueException>(error.InnerException);
        Assert.Equal(180, value.Position);
        Assert.Equal("score", value.ColumnName);
        Assert.Equal(182, Assert.IsType<Line>(value.Row).Number);
        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, value.SqlState);
        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, error.SqlState);
        Assert.Contains("invalid input syntax for type integer", Assert.IsType<PostgresException>(value.InnerException).MessageText, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-number", value.Message, StringComparison.Ordinal);
        Assert.Equal(100, error.FirstFailedRow);
        Assert.Equal((1, 100L, 100L), (error.Report.Chunks, error.Report.RowsRead, error.Report.Inserted));
        Assert.Equal(100L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task InsertMany_LineBreaksInQuotedFieldsBeforeTheRefusedValue_TheRightRowNamed(bool csvRecords, bool refusedRowLast)
    {
        // The server's "line N" counts physical lines: quoted line breaks shift it (LF, or CR within the first row of a
        // COPY), and the refused row is itself on two lines. The row named must be the refused one, whichever row type.
        var table = await CreatePeopleAsync(existing: 0);
        string?[][] fields =
        [
            ["p0@x", "first\nrow", "1"],
            ["p1@x", "two\nlines\nhere", "2"],
            ["p2@x", "crlf\r\ninside", "3"],
            ["p3@x", "refused", "x\ny"],
            ["p4@x", "after", "4"],
        ];
        var rows = fields[..(refusedRowLast ? 4 : 5)]
            .Select(f => csvRecords ? new CsvLine(f) : (IReadOnlyList<string?>)new Line(0, f))
            .ToList();

        var error = await Assert.ThrowsAsync<BulkWriteException>(
            () => Writer().InsertManyAsync(Target(table, "email", "name", "score"), Stream(rows), new BulkWriteOptions { ChunkSize = 10 }));

        var value = Assert.IsType<BulkValueException>(error.InnerException);
        Assert.Equal((3L, "score"), (value.Position, value.ColumnName));
        Assert.Same(rows[3], value.Row);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_RowWithTheWrongNumberOfFields_StopsBeforeItsChunk()
    {
        var table = await CreatePeopleAsync(existing: 0);
        var input = Enumerable.Range(1, 30).Select(i => Person(i)).ToList();
        input[25] = input[25][..6];

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => Writer().InsertManyAsync(Target(table), Stream(input), new BulkWriteOptions { ChunkSize = 10 }));

        Assert.Equal("Input row 25 has 6 field(s); the target has 7 column(s). (Parameter 'rows')", error.InnerException!.Message);
        Assert.Equal((2, 20L), (error.Report.Chunks, error.Report.RowsRead));
        Assert.Equal(20L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task InsertMany_UniqueViolationOnAnotherConstraint_TypedCauseNoRowOfTheChunkWritten()
    {
        var table = await CreatePeopleAsync(existing: 0);
        await db.ExecuteAsync($"CREATE UNIQUE INDEX {table}_name_key ON {table} (name)");
        string?[][] rows = [["a@x", "same"], ["b@x", "same"]];

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => Writer().InsertManyAsync(Target(table, "email", "name"), Stream(rows)));

        var unique = Assert.IsType<UniqueViolationException>(error.InnerException);
        Assert.Equal($"{table}_name_key", unique.ConstraintName);
        Assert.Equal(["name"], unique.Columns);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Theory]
    [InlineData("email,nope", "email", "TextBulkTarget.Columns names column \"nope\", which {table} does not have (columns: id, email, name, score, born, tags, doc, upper_email)")]
    [InlineData("email,upper_email", "email", "TextBulkTarget.Columns names column \"upper_email\", which is a generated column of {table}: it cannot be written")]
    [InlineData("email,name,email", "email", "TextBulkTarget.Columns names column \"email\" twice")]
    [InlineData("name", "email", "TextBulkTarget.KeyColumns column \"email\" is not in TextBulkTarget.Columns (name)")]
    [InlineData("email,name", "name", "TextBulkTarget.KeyColumns (name): {table} has no unique index or constraint on exactly these columns, so existing rows cannot be recognised. Its unique keys: (id), (email); pass one of them, or create one: CREATE UNIQUE INDEX ON \"{table}\" (\"name\").")]
    public async Task AnyMethod_TargetDoesNotFitTheTable_ArgumentExceptionBeforeAnyRowIsRead(string columns, string key, string expected)
    {
        var table = await CreatePeopleAsync(existing: 0);
        var target = new TextBulkTarget(null, table, columns.Split(','), [key]);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Writer().InsertManyAsync(target, Unread()));

        Assert.Equal(expected.Replace("{table}", table, StringComparison.Ordinal), error.Message);
        Assert.Equal(0, _reads);
    }

    [Fact]
    public async Task AnyMethod_UnknownTable_ListsTheTablesOfTheSchema()
    {
        var schema = Names.Table("text_schema");
        await db.ExecuteAsync($"CREATE SCHEMA {schema}; CREATE TABLE {schema}.contacts (email text PRIMARY KEY)");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Writer().UpsertManyAsync(new TextBulkTarget(schema, "contact", ["email"], ["email"]), Unread()));

        Assert.Equal(
            $"table contact does not exist in schema {schema} (names are case-sensitive; set TextBulkTarget.SchemaName for a table in another schema). Tables in schema {schema}: contacts.",
            error.Message);
    }

    [Fact]
    public async Task AnyMethod_ReturnRows_Refused()
    {
        var table = await CreatePeopleAsync(existing: 0);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Writer().InsertManyAsync(Target(table), Unread(), new BulkWriteOptions { ReturnRows = true }));

        Assert.Equal("options", error.ParamName);
    }

    [Fact]
    public async Task InsertMany_CsvRecords_TextSentAsItIs_FieldsNeverRead()
    {
        var table = await CreatePeopleAsync(existing: 10);
        var input = Enumerable.Range(1, 300).Select(i => new CsvLine(Person(i))).ToList();

        var report = await Writer().InsertManyAsync(Target(table), Stream(input), new BulkWriteOptions { ChunkSize = 100, MaxReportedRows = 3 });

        Assert.Equal((300L, 290L, 10L, 3), (report.RowsRead, report.Inserted, report.Existing, report.Chunks));
        Assert.Same(input[0], report.ExistingRows[0]);
        Assert.Equal(0, input.Sum(line => line.FieldReads));
        Assert.Equal(
            "100121|P121@X|new|21|2001-02-03|b c|121|say \"hi\", ok",
            await db.ScalarAsync<string>($"SELECT concat_ws('|', id, upper_email, name, score, born, tags[2], doc->>'n', doc->>'q') FROM {table} WHERE email = 'p121@x'"));
        Assert.Equal(58L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE name IS NULL AND id > 100000"));
    }

    // Rows that count how often they are read.
    private async IAsyncEnumerable<string?[]> Unread()
    {
        _reads++;
        await Task.CompletedTask;
        yield break;
    }

    // A row type of the caller's that carries more than the fields (here a file line number), handed back by reports and errors.
    private sealed class Line(long number, string?[] fields) : IReadOnlyList<string?>
    {
        public long Number { get; } = number;

        public int Count => fields.Length;

        public string? this[int index] => fields[index];

        public IEnumerator<string?> GetEnumerator() => ((IEnumerable<string?>)fields).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => fields.GetEnumerator();
    }

    // A line of a CSV file: its text goes to COPY as it is; the fields count their reads.
    private sealed class CsvLine(string?[] fields) : ICsvRecord
    {
        public int FieldReads { get; private set; }

        public ReadOnlyMemory<char> CsvText { get; } = string.Join(',', fields.Select(f => f is null ? string.Empty : "\"" + f.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"")).AsMemory();

        public int Count => fields.Length;

        public string? this[int index]
        {
            get
            {
                FieldReads++;
                return fields[index];
            }
        }

        public IEnumerator<string?> GetEnumerator()
        {
            FieldReads++;
            return ((IEnumerable<string?>)fields).GetEnumerator();
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
