// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;
using static IdempotentWrites.ConcurrencyTests.Sequences.SequenceAsserts;

namespace IdempotentWrites.ConcurrencyTests.Sequences;

// A role that cannot read one table or update one sequence: those are reported and skipped, everything else is repaired.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class PrivilegeTests(PostgresFixture db)
{
    [Fact]
    public async Task UnreadableTableAndNonUpdatableSequence_ReportedAndSkipped_OthersRepaired()
    {
        var role = Names.Table("iw_reader");
        var password = Guid.NewGuid().ToString("N");
        await using var schema = await TestSchema.CreateAsync(db);
        await db.ExecuteAsync($"""
            CREATE ROLE "{role}" LOGIN PASSWORD '{password}';
            CREATE TABLE {schema.Q("open_t")} (id serial PRIMARY KEY);
            CREATE TABLE {schema.Q("secret_t")} (id serial PRIMARY KEY);
            CREATE TABLE {schema.Q("frozen_t")} (id serial PRIMARY KEY);
            INSERT INTO {schema.Q("open_t")} SELECT generate_series(1, 10);
            INSERT INTO {schema.Q("secret_t")} SELECT generate_series(1, 20);
            INSERT INTO {schema.Q("frozen_t")} SELECT generate_series(1, 30);
            GRANT USAGE ON SCHEMA "{schema.Name}" TO "{role}";
            GRANT SELECT, INSERT, UPDATE ON {schema.Q("open_t")}, {schema.Q("frozen_t")} TO "{role}";
            GRANT INSERT ON {schema.Q("secret_t")} TO "{role}";
            GRANT SELECT, USAGE, UPDATE ON SEQUENCE {schema.Q("open_t_id_seq")}, {schema.Q("secret_t_id_seq")} TO "{role}";
            GRANT SELECT, USAGE ON SEQUENCE {schema.Q("frozen_t_id_seq")} TO "{role}";
            """);
        var connectionString = db.ConnectionStringWith(b =>
        {
            b.Username = role;
            b.Password = password;
        });
        try
        {
            await using (var asRole = NpgsqlDataSource.Create(connectionString))
            {
                var doctor = schema.Doctor(asRole);
                var check = await doctor.CheckAsync();
                var secret = Finding(check, schema.Name, "secret_t_id_seq");
                Assert.Equal(SequenceStatus.Skipped, secret.Status);
                Assert.Equal($"the role cannot read table {schema.Name}.secret_t (needs SELECT on column id and USAGE on schema {schema.Name})", secret.Reason);
                Assert.Equal(SequenceStatus.Drifted, Finding(check, schema.Name, "frozen_t_id_seq").Status);

                var fix = await doctor.FixAsync();
                Assert.True(fix.HasUnrepairedDrift);
                var byName = fix.Repairs.ToDictionary(r => r.Name);
                Assert.Equal(SequenceRepairOutcome.Repaired, byName["open_t_id_seq"].Outcome);
                Assert.Equal(SequenceRepairOutcome.Skipped, byName["secret_t_id_seq"].Outcome);
                Assert.Equal(SequenceRepairOutcome.Skipped, byName["frozen_t_id_seq"].Outcome);
                Assert.Equal($"the role cannot update sequence {schema.Name}.frozen_t_id_seq (setval needs UPDATE on it)", byName["frozen_t_id_seq"].Reason);

                // The CLI, as that role: reports the skips (exit 1: drift may remain), never the password.
                var cli = await Cli.RunAsync("sequences", "fix", "--schema", schema.Name, "--connection", connectionString);
                Assert.Equal(1, cli.ExitCode);
                Assert.Contains($"skipped    {schema.Name}.secret_t_id_seq ({schema.Name}.secret_t.id): the role cannot read table", cli.Output, StringComparison.Ordinal);
                Assert.DoesNotContain(password, cli.Output + cli.Error, StringComparison.Ordinal);
            }

            Assert.Equal(11, await NextDefaultInsertAsync(db.DataSource, schema.Q("open_t")));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, (await DefaultInsertFailsAsync(db.DataSource, schema.Q("secret_t"))).SqlState);
            Assert.Equal(PostgresErrorCodes.UniqueViolation, (await DefaultInsertFailsAsync(db.DataSource, schema.Q("frozen_t"))).SqlState);
        }
        finally
        {
            await db.ExecuteAsync($"DROP SCHEMA \"{schema.Name}\" CASCADE; DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";");
        }
    }
}
