// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;

namespace IdempotentWrites.ConcurrencyTests.Sequences;

// How long `check` takes on a database with 1,000 sequence-fed tables. Prints the figure; asserts only the result.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class CheckScaleTests(PostgresFixture db)
{
    [Fact]
    public async Task Check_ThousandTables_FindsEveryDriftAndReportsTheTime()
    {
        await using var database = await TestDatabase.CreateAsync(db, "iw_scale");
        await database.ExecuteAsync("""
            DO $$
            BEGIN
                FOR i IN 1..1000 LOOP
                    EXECUTE format('CREATE TABLE %I (id serial PRIMARY KEY, payload text)', 't' || i);
                    EXECUTE format('INSERT INTO %I (payload) SELECT %L FROM generate_series(1, 5)', 't' || i, 'x');
                    IF i % 10 = 0 THEN
                        EXECUTE format('INSERT INTO %I (id, payload) VALUES (100, %L)', 't' || i, 'restored');
                    END IF;
                END LOOP;
            END $$;
            """);
        var doctor = new SequenceDoctor(database.DataSource);
        await doctor.CheckAsync(); // warm up: connection, type loading

        var library = Stopwatch.StartNew();
        var report = await doctor.CheckAsync();
        library.Stop();
        var tool = Stopwatch.StartNew();
        var run = await Cli.RunAsync("sequences", "check", "--connection", database.ConnectionString);
        tool.Stop();

        Assert.Equal(1000, report.Findings.Count);
        Assert.Equal(100, report.Drifted.Count);
        Assert.All(report.Drifted, f => Assert.Equal(101, f.RequiredNextValue));
        Assert.Equal(1, run.ExitCode);
        var figure = $"check on 1,000 tables: SequenceDoctor.CheckAsync {library.Elapsed.TotalMilliseconds:0} ms, `iw sequences check` in-process {tool.Elapsed.TotalMilliseconds:0} ms";
        TestContext.Current.SendDiagnosticMessage(figure);
        TestContext.Current.TestOutputHelper?.WriteLine(figure);
    }
}
