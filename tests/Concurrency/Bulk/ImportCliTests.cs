// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using CliRunner = IdempotentWrites.ConcurrencyTests.Sequences.Cli;

namespace IdempotentWrites.ConcurrencyTests.Bulk;

// `iw import` end to end against the real server, in-process (the same entry point as the installed tool).
[Collection(PostgresCollection.Name)]
[Trait("Category", "Bulk")]
public sealed class ImportCliTests(PostgresFixture db) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("iw-import-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<string> CreateContactsAsync()
    {
        var table = Names.Table("import_contacts");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, name text, note text, score int NOT NULL DEFAULT 0)");
        await db.ExecuteAsync($"INSERT INTO {table} (email, name) SELECT 'old' || g || '@x', 'old' FROM generate_series(1, 250) g");
        return table;
    }

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    // Header + 2,500 data rows (ids 1001…3500; every 10th row's email already stored: 250; rows 26, 76, … repeat the email of
    // the row before: 50; the other 2,200 new), with quoted fields, embedded commas, quotes and newlines, NULLs and empty strings.
    // Returns the file and each row's line.
    private static (string Csv, List<long> Lines) Contacts(int? malformedRow = null)
    {
        var sb = new StringBuilder("id,email,name,note,score\n");
        var lines = new List<long>();
        long line = 2;
        for (var i = 0; i < 2_500; i++)
        {
            lines.Add(line);
            var email = i % 10 == 0 ? $"old{(i / 10) + 1}@x" : i % 25 == 1 ? $"c{i - 1}@x" : $"c{i}@x";
            if (malformedRow == i)
            {
                sb.Append(1001 + i).Append(',').Append(email).Append(",\"never closed,x,1\n");
            }
            else if (i % 7 == 0)
            {
                sb.Append(1001 + i).Append(',').Append(email).Append(",\"Doe, Jane \"\"JD\"\"\",\"two\nlines\",").Append(i % 100).Append('\n');
                line++;
            }
            else
            {
                // name NULL (unquoted empty), note the empty string (quoted empty)
                sb.Append(1001 + i).Append(',').Append(email).Append(",,\"\",").Append(i % 100).Append('\n');
            }

            line++;
        }

        return (sb.ToString(), lines);
    }

    [Fact]
    public async Task Import_QuotedCommasNewlinesNullsAndOneMalformedLine_LineReportedChunkUntouchedRerunCompletes()
    {
        var table = await CreateContactsAsync();
        var (bad, lines) = Contacts(malformedRow: 1_800);
        var badFile = WriteFile("contacts-bad.csv", bad);

        var failed = await CliRunner.RunAsync("import", badFile, "--table", table, "--conflict-on", "email", "--chunk-size", "1000", "--connection", db.ConnectionString);

        Assert.Equal(2, failed.ExitCode);
        // The unclosed quote swallows the following lines up to the next quote; the error names where the field opened.
        Assert.Matches($@"iw: error: contacts-bad\.csv: line \d+: unexpected character .* \(the quoted field opened on line {lines[1_800]};", failed.Error);
        Assert.Contains("the first 1,000 data rows are imported", failed.Error, StringComparison.Ordinal);

        // Exactly the first chunk: its 100 existing emails skipped, 20 repeats skipped, the rest inserted.
        Assert.Equal(250L + 880, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE id > 2000"));

        var (good, _) = Contacts();
        var run = await CliRunner.RunAsync("import", WriteFile("contacts.csv", good), "--table", table, "--conflict-on", "email", "--chunk-size", "1000", "--connection", db.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Error);
        Assert.Contains("2,500 data rows in 3 chunks", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"inserted\s+1,320\n", run.Output);
        // Keys stored before this run (the 250 old ones and the first run's 880 plus their 20 repeats) existed; 30 repeat keys of this run.
        Assert.Matches(@"already existed\s+1,150\s+\(line 2, ", run.Output);
        Assert.Matches(@"duplicates in file\s+30\s+\(line ", run.Output);
        Assert.Contains("sequences moved past the imported ids: 1", run.Output, StringComparison.Ordinal);

        Assert.Equal(250L + 2_200, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
        Assert.Equal("Doe, Jane \"JD\"|two\nlines|7", await db.ScalarAsync<string>($"SELECT name || '|' || note || '|' || score FROM {table} WHERE id = 1008"));
        Assert.Equal("<null>|<empty>", await db.ScalarAsync<string>($"SELECT coalesce(name, '<null>') || '|' || CASE WHEN note = '' THEN '<empty>' END FROM {table} WHERE id = 1003"));
        Assert.Equal(3_501L, await db.ScalarAsync<long>($"INSERT INTO {table} (email) VALUES ('next@x') RETURNING id"));
    }

    [Fact]
    public async Task Import_DryRun_CountsWithoutWriting()
    {
        var table = await CreateContactsAsync();
        var (csv, _) = Contacts();

        var run = await CliRunner.RunAsync("import", WriteFile("c.csv", csv), "--table", table, "--conflict-on", "email", "--dry-run", "--chunk-size", "700", "--connection", db.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("dry run, nothing written:", run.Output, StringComparison.Ordinal);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(run.Output, @"would insert\s+2,200\n"), run.Output);
        Assert.Matches(@"already exist\s+250\s", run.Output);
        Assert.Matches(@"duplicates in file\s+50\s", run.Output);
        Assert.Equal(250L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task Import_Upsert_UpdatesExistingLastRowOfAKeyWins()
    {
        var table = await CreateContactsAsync();
        var csv = "email,name,score\nold1@x,first,1\nold2@x,old,0\nnew@x,n,5\nold1@x,second,2\n";

        // A dry run names the lines that repeat a key, not which of them the upsert skips (it applies the last).
        var preview = await CliRunner.RunAsync(
            "import", WriteFile("p.csv", "email,name,score\nfresh@x,a,1\nfresh@x,b,2\n"), "--table", table, "--conflict-on", "email", "--upsert",
            "--dry-run", "--connection", db.ConnectionString);
        Assert.Equal(0, preview.ExitCode);
        Assert.Matches(@"would insert\s+1\n.*\n\s+duplicates in file\s+1\s+\(repeated on line 3\)", preview.Output);

        var run = await CliRunner.RunAsync("import", WriteFile("u.csv", csv), "--table", table, "--conflict-on", "email", "--upsert", "--connection", db.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"inserted\s+1\n\s+updated\s+1\n\s+unchanged\s+1\n\s+duplicates in file\s+1\s+\(line 2\)", run.Output);
        Assert.Equal("second|2", await db.ScalarAsync<string>($"SELECT name || '|' || score FROM {table} WHERE email = 'old1@x'"));
    }

    [Fact]
    public async Task Import_ValueOfTheWrongType_FileLineNamedNothingOfTheChunkWritten()
    {
        var table = await CreateContactsAsync();
        var csv = "email,name,score\na@x,\"multi\nline\",1\nb@x,b,not-a-number\nc@x,c,3\n";

        var run = await CliRunner.RunAsync("import", WriteFile("t.csv", csv), "--table", table, "--conflict-on", "email", "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("t.csv: line 4: invalid input syntax for type integer: \"not-a-number\" (column score)", run.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was written", run.Error, StringComparison.Ordinal);
        Assert.Equal(250L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task Import_SingleTransactionFailsInTheLastChunk_NothingWritten()
    {
        var table = await CreateContactsAsync();
        var csv = "email,name,score\nd@x,d,1\ne@x,e,2\nf@x,f,3\ng@x,g,not-a-number\n";

        var run = await CliRunner.RunAsync(
            "import", WriteFile("t.csv", csv), "--table", table, "--conflict-on", "email", "--chunk-size", "2", "--single-transaction",
            "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("t.csv: line 5: invalid input syntax for type integer", run.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was written", run.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE email IN ('d@x', 'e@x', 'f@x')"));
    }

    [Theory]
    [InlineData("email,nope\nx@x,1\n", "the CSV header names column \"nope\"")]
    [InlineData("name\nx\n", "--conflict-on column \"email\" is not in the CSV header")]
    [InlineData("email,name\nx@x\n", "line 2: 1 field(s), but the header has 2")]
    [InlineData("email,name\nx@x,a\"b\n", "line 2: a quote inside an unquoted field")]
    public async Task Import_BadFileOrArguments_OneClearErrorExit2(string csv, string expected)
    {
        var table = await CreateContactsAsync();

        var run = await CliRunner.RunAsync("import", WriteFile("bad.csv", csv), "--table", table, "--conflict-on", "email", "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
        Assert.Equal(250L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task Import_ConflictOnColumnWithoutUniqueIndex_SaysWhatIsWrongAndWhatToDo()
    {
        var table = await CreateContactsAsync();

        var run = await CliRunner.RunAsync("import", WriteFile("n.csv", "email,name\na@x,a\n"), "--table", table, "--conflict-on", "name", "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(
            $"iw: error: --conflict-on (name): {table} has no unique index or constraint on exactly these columns, so existing rows cannot be recognised. Its unique keys: (id), (email); pass one of them, or create one: CREATE UNIQUE INDEX ON \"{table}\" (\"name\").",
            run.Error.TrimEnd());
        Assert.DoesNotContain("42P10", run.Error, StringComparison.Ordinal);
        Assert.Equal(250L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task Import_ConflictOnDeferrableConstraint_SaysToMakeItNotDeferrable()
    {
        var table = Names.Table("import_deferrable");
        await db.ExecuteAsync($"CREATE TABLE {table} (code text CONSTRAINT {table}_code UNIQUE DEFERRABLE, name text)");

        var run = await CliRunner.RunAsync("import", WriteFile("d.csv", "code,name\na,b\n"), "--table", table, "--conflict-on", "code", "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"iw: error: --conflict-on (code): the unique constraint of {table} on these columns is DEFERRABLE, and ON CONFLICT cannot use a deferrable constraint. Make it NOT DEFERRABLE", run.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task Import_NullKey_FileLineNamedNothingWritten()
    {
        var table = await CreateContactsAsync();

        var run = await CliRunner.RunAsync("import", WriteFile("k.csv", "email,name\na@x,\"multi\nline\"\n,b\n"), "--table", table, "--conflict-on", "email", "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("iw: error: k.csv: line 4: the key column \"email\" is empty (NULL); every row needs a value in the --conflict-on columns", run.Error, StringComparison.Ordinal);
        Assert.Equal(250L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task Import_UnknownTable_Exit2NamingTheTables()
    {
        var schema = Names.Table("import_schema");
        await db.ExecuteAsync($"CREATE SCHEMA {schema}; CREATE TABLE {schema}.contacts (email text PRIMARY KEY); CREATE TABLE {schema}.orders (id int PRIMARY KEY)");

        var run = await CliRunner.RunAsync("import", WriteFile("u.csv", "email\na@x\n"), "--table", "contact", "--schema", schema, "--conflict-on", "email", "--connection", db.ConnectionString);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(
            $"iw: error: table contact does not exist in schema {schema} (names are case-sensitive; use --schema or schema.table for another schema). Tables in schema {schema}: contacts, orders.",
            run.Error.TrimEnd());
    }
}
