// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore.Internal;
using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Bulk;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Polly;

namespace IdempotentWrites.ConcurrencyTests;

// Typed errors where they arise outside the plain conflict path (issue #11, item 6): cardinality violations by cause,
// GENERATED ALWAYS columns named, expression-index columns reported, deferred violations raised by a bulk chunk's COMMIT.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class TypedErrorTests(PostgresFixture db)
{
    [Theory]
    [InlineData("C", false)]
    [InlineData("de_DE.UTF-8", false)]
    [InlineData("de_DE.UTF-8", true)]
    public async Task SingleRowWrite_TriggerSubqueryReturnsTwoRows_CardinalityViolationSaysSubqueryNotRepeatedKey(string messages, bool upsert)
    {
        if (messages != "C")
        {
            await db.SkipUnlessServerTranslatesAsync(messages);
        }

        var table = await CreateTriggerSubqueryTableAsync("card_trigger");
        var connection = db.ConnectionStringWith(b => b.Options = $"-c lc_messages={messages}");
        await using var writer = TestWriter.Create(connection, b => b.MapTable<Tagged>(table, t => t.ConflictOn(r => r.Code)));

        var error = await Assert.ThrowsAsync<CardinalityViolationException>(() => upsert
            ? writer.Writer.UpsertAsync(new Tagged { Code = "a", Region = "x" })
            : writer.Writer.InsertOrGetAsync(new Tagged { Code = "a", Region = "x" }));

        Assert.Equal(CardinalityViolationCause.SubqueryReturnedMoreThanOneRow, error.Cause);
        Assert.Equal(table, error.TableName);
        Assert.Equal("21000", error.SqlState);
        Assert.False(error.IsTransient);
        Assert.Contains("subquery", error.Message, StringComparison.Ordinal);
        Assert.Contains("trigger", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("conflict key", error.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<PostgresException>(error.InnerException);
        if (messages != "C")
        {
            // Proof the server answered in German: the cause above was not read from the message text.
            Assert.Contains("Unteranfrage", inner.MessageText, StringComparison.Ordinal);
        }

        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task SingleRowWrite_TriggerUpsertRepeatsKey_CardinalityViolationSaysRowAffectedTwice()
    {
        var table = Names.Table("card_trigger_upsert");
        await db.ExecuteAsync($"""
            CREATE TABLE {table}_audit (code text PRIMARY KEY, n int NOT NULL);
            CREATE TABLE {table} (code text PRIMARY KEY, region text NOT NULL);
            CREATE FUNCTION {table}_fn() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {table}_audit VALUES (NEW.code, 1), (NEW.code, 2) ON CONFLICT (code) DO UPDATE SET n = EXCLUDED.n;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {table}_trg AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_fn();
            """);
        var connection = db.ConnectionStringWith(b => b.Options = "-c lc_messages=de_DE.UTF-8");
        await using var writer = TestWriter.Create(connection, b => b.MapTable<Tagged>(table, t => t.ConflictOn(r => r.Code)));

        var error = await Assert.ThrowsAsync<CardinalityViolationException>(() => writer.Writer.InsertOrGetAsync(new Tagged { Code = "a", Region = "x" }));

        Assert.Equal(CardinalityViolationCause.RowAffectedTwice, error.Cause);
        Assert.Equal(table, error.TableName);
        Assert.Contains("trigger", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("subquery", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BulkUpsert_TriggerSubqueryReturnsTwoRows_CardinalityViolationSaysSubquery()
    {
        var table = await CreateTriggerSubqueryTableAsync("card_bulk");
        var connection = db.ConnectionStringWith(b => b.Options = "-c lc_messages=de_DE.UTF-8");
        await using var writer = TestWriter.Create(connection, b => b.MapTable<Tagged>(table, t => t.ConflictOn(r => r.Code)));

        var error = await Assert.ThrowsAsync<BulkWriteException>(
            () => writer.Writer.UpsertManyAsync([new Tagged { Code = "a", Region = "x" }, new Tagged { Code = "b", Region = "y" }]));

        var cardinality = Assert.IsType<CardinalityViolationException>(error.InnerException);
        Assert.Equal(CardinalityViolationCause.SubqueryReturnedMoreThanOneRow, cardinality.Cause);
        Assert.Equal(table, cardinality.TableName);
        Assert.DoesNotContain("conflict key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("C")]
    [InlineData("de_DE.UTF-8")]
    public async Task InsertOrGet_ColumnBecameGeneratedAlwaysAfterMappingResolved_ExceptionNamesColumnAndTable(string messages)
    {
        var table = Names.Table("gen_always");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, region text NOT NULL)");
        var connection = db.ConnectionStringWith(b => b.Options = $"-c lc_messages={messages}");
        await using var writer = TestWriter.Create(connection, b => b.MapTable<Numbered>(table, t => t.ConflictOn(r => r.Code)));
        await writer.Writer.InsertOrGetAsync(new Numbered { Id = 1, Code = "a", Region = "x" });
        await db.ExecuteAsync($"ALTER TABLE {table} ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY");

        var error = await Assert.ThrowsAsync<GeneratedAlwaysViolationException>(() => writer.Writer.InsertOrGetAsync(new Numbered { Id = 2, Code = "b", Region = "x" }));

        Assert.Equal("id", error.ColumnName);
        Assert.Equal(table, error.TableName);
        Assert.Equal("428C9", error.SqlState);
        Assert.Contains("\"id\"", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(unknown)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Generated(", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InsertMany_ExplicitValueIntoGeneratedStoredColumn_ExceptionNamesColumnAndTable()
    {
        // PostgreSQL 13 reports this error as 42601, 14 and later as 428C9: both are translated.
        var table = Names.Table("gen_stored");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigint PRIMARY KEY, code text NOT NULL, region text NOT NULL)");
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<Numbered>(table, t => t.ConflictOn(r => r.Id)));
        await writer.Writer.InsertOrGetAsync(new Numbered { Id = 1, Code = "a", Region = "x" });
        await db.ExecuteAsync($"ALTER TABLE {table} DROP COLUMN region, ADD COLUMN region text GENERATED ALWAYS AS (upper(code)) STORED");

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => writer.Writer.InsertManyAsync([new Numbered { Id = 2, Code = "b", Region = "x" }]));

        var generated = Assert.IsType<GeneratedAlwaysViolationException>(error.InnerException);
        Assert.Equal("region", generated.ColumnName);
        Assert.Equal(table, generated.TableName);
        Assert.Contains("\"region\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Insert_PartialIndexOverColumnAndExpression_ColumnsAreKeyAndExpressionColumnsNotPredicateOrInclude()
    {
        var table = Names.Table("expr_mixed");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, handle text NOT NULL UNIQUE, tenant_id int NOT NULL,
                                  email text NOT NULL, name text NOT NULL, deleted boolean NOT NULL DEFAULT false);
            CREATE UNIQUE INDEX {table}_key ON {table} (tenant_id, lower(email)) INCLUDE (name) WHERE NOT deleted;
            INSERT INTO {table} (handle, tenant_id, email, name) VALUES ('ann', 1, 'Ann@Example.com', 'ann');
            """);
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<TenantUser>(table, t => t.ConflictOn(u => u.Handle).Generated(u => u.Id)));

        var error = await Assert.ThrowsAsync<UniqueViolationException>(
            () => writer.Writer.InsertOrGetAsync(new TenantUser { Handle = "ann2", TenantId = 1, Email = "ANN@example.com", Name = "x" }));

        Assert.Equal($"{table}_key", error.ConstraintName);
        Assert.Equal(["tenant_id", "email"], error.Columns);
        Assert.Equal(["lower(email)"], error.Expressions);
        Assert.False(error.IsGeneratedKey);
        Assert.DoesNotContain("Ann", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ConflictProblem_ExpressionIndexViolation_FieldsAreColumnsReadByExpression_TypedAndRaw()
    {
        var table = Names.Table("expr_http");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, name text NOT NULL,
                                  created_at timestamptz NOT NULL DEFAULT now());
            CREATE UNIQUE INDEX {table}_lower_email ON {table} (lower(email));
            INSERT INTO {table} (email, name) VALUES ('Ann@Example.com', 'ann');
            """);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIdempotentWrites(o => o.ConnectionString = db.ConnectionString)
            .MapTable<User>(table, t => t.ConflictOnExpressions("lower(email)").Generated(u => u.Id, u => u.CreatedAt))
            .AddConflictProblemDetails();
        await using var provider = services.BuildServiceProvider();
        var mapper = provider.GetRequiredService<ConflictProblemMapper>();

        var typed = await Assert.ThrowsAsync<UniqueViolationException>(
            () => provider.GetRequiredService<IIdempotentWriter>().InsertAsync(new User { Email = "ANN@example.com", Name = "x" }));
        var raw = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync($"INSERT INTO {table} (email, name) VALUES ('ann@EXAMPLE.com', 'y')"));
        var fromTyped = await mapper.TryMapAsync(typed, null, TestContext.Current.CancellationToken);
        var fromRaw = await mapper.TryMapAsync(new InvalidOperationException("DbUpdateException", raw), null, TestContext.Current.CancellationToken);

        Assert.Equal(["email"], typed.Columns);
        Assert.Equal(["lower(email)"], typed.Expressions);
        Assert.Equal(["email"], fromTyped!.Fields);
        Assert.Equal(["email"], fromRaw!.Fields);
        Assert.Equal($"{table}_lower_email", fromRaw.ConstraintName);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task BulkWrite_DeferredViolationRaisedByChunkCommit_TypedException(bool upsert, bool foreignKey)
    {
        var table = Names.Table("bulk_deferred");
        await db.ExecuteAsync($"""
            CREATE TABLE {table}_regions (region text PRIMARY KEY);
            INSERT INTO {table}_regions VALUES ('x');
            CREATE TABLE {table} (id bigint PRIMARY KEY, code text NOT NULL,
                                  region text NOT NULL CONSTRAINT {table}_region_fkey REFERENCES {table}_regions DEFERRABLE INITIALLY DEFERRED,
                                  CONSTRAINT {table}_code_key UNIQUE (code) DEFERRABLE INITIALLY DEFERRED);
            INSERT INTO {table} VALUES (1, 'taken', 'x');
            """);
        var connection = db.ConnectionStringWith(b => b.Options = "-c lc_messages=de_DE.UTF-8");
        await using var writer = TestWriter.Create(connection, b => b.MapTable<Numbered>(table, t => t.ConflictOn(r => r.Id)));
        Numbered[] rows = foreignKey
            ? [new Numbered { Id = 2, Code = "free", Region = "x" }, new Numbered { Id = 3, Code = "other", Region = "nowhere" }]
            : [new Numbered { Id = 2, Code = "free", Region = "x" }, new Numbered { Id = 3, Code = "taken", Region = "x" }];

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => upsert ? writer.Writer.UpsertManyAsync(rows) : writer.Writer.InsertManyAsync(rows));

        if (foreignKey)
        {
            var violation = Assert.IsType<ForeignKeyViolationException>(error.InnerException);
            Assert.Equal($"{table}_region_fkey", violation.ConstraintName);
            Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, error.SqlState);
        }
        else
        {
            var violation = Assert.IsType<UniqueViolationException>(error.InnerException);
            Assert.Equal($"{table}_code_key", violation.ConstraintName);
            Assert.Equal(["code"], violation.Columns);
            Assert.Equal(table, violation.TableName);
            Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
        }

        Assert.Equal(0, error.Report.Chunks);
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task BulkEngine_CatalogLookupForChunkErrorFails_ChunkErrorStillTypedAndReportKept()
    {
        var table = Names.Table("bulk_lookup_fails");
        await db.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint PRIMARY KEY, code text NOT NULL CONSTRAINT {table}_code_key UNIQUE DEFERRABLE INITIALLY DEFERRED);
            INSERT INTO {table} VALUES (1, 'taken');
            """);
        var target = new BulkTable
        {
            Schema = null,
            Table = table,
            Columns = [new BulkColumn("id", "bigint"), new BulkColumn("code", "text")],
            Keys = ["\"id\""],
            ArbiterClause = "(\"id\")",
        };
        var engine = new BulkEngine<(long Id, string Code)>
        {
            DataSource = db.DataSource,
            Pipeline = ResiliencePipeline.Empty,
            Table = target,
            Mode = BulkMode.Insert,
            Options = new BulkWriteOptions { SynchronizeSequences = false },
            Logger = NullLogger.Instance,
            StageAsync = async (connection, chunk, first, token) =>
            {
                await using var importer = await connection.BeginBinaryImportAsync(BulkSql.CopyBinary(target), token);
                for (var i = 0; i < chunk.Count; i++)
                {
                    await importer.StartRowAsync(token);
                    await importer.WriteAsync(first + i, NpgsqlTypes.NpgsqlDbType.Bigint, token);
                    await importer.WriteAsync(chunk[i].Id, NpgsqlTypes.NpgsqlDbType.Bigint, token);
                    await importer.WriteAsync(chunk[i].Code, NpgsqlTypes.NpgsqlDbType.Text, token);
                }

                await importer.CompleteAsync(token);
            },
            TranslateAsync = (_, _) => throw new NpgsqlException("The catalog lookup's connection failed."),
        };

        var error = await Assert.ThrowsAsync<BulkWriteException>(() => engine.RunAsync(Rows<(long Id, string Code)>([(2L, "taken")]), TestContext.Current.CancellationToken));

        var violation = Assert.IsType<UniqueViolationException>(error.InnerException);
        Assert.Equal($"{table}_code_key", violation.ConstraintName);
        Assert.Empty(violation.Columns);
        Assert.Equal(0, error.Report.Chunks);
    }

    [Fact]
    public async Task TranslateCommitAsync_DeferredUniqueViolationAtCommit_TypedWithCatalogColumns()
    {
        var table = Names.Table("commit_deferred");
        await db.ExecuteAsync($"CREATE TABLE {table} (a bigint, b text, CONSTRAINT {table}_key UNIQUE (a, b) DEFERRABLE INITIALLY DEFERRED)");
        var connection = await db.DataSource.OpenConnectionAsync();
        await using var scope = connection;
        var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {table} VALUES (1, 'x'), (1, 'x')", connection, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var commit = await Assert.ThrowsAsync<PostgresException>(() => transaction.CommitAsync());
        var translated = await new ErrorTranslator(NullLogger.Instance).TranslateCommitAsync(commit, db.DataSource, TestContext.Current.CancellationToken);

        var violation = Assert.IsType<UniqueViolationException>(translated);
        Assert.Equal($"{table}_key", violation.ConstraintName);
        Assert.Equal(["a", "b"], violation.Columns);
        Assert.Same(commit, violation.InnerException);
    }

    private static async IAsyncEnumerable<T> Rows<T>(IEnumerable<T> rows)
    {
        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }

    private async Task<string> CreateTriggerSubqueryTableAsync(string prefix)
    {
        var table = Names.Table(prefix);
        await db.ExecuteAsync($"""
            CREATE TABLE {table}_regions (region text NOT NULL);
            INSERT INTO {table}_regions VALUES ('eu'), ('us');
            CREATE TABLE {table} (code text PRIMARY KEY, region text NOT NULL);
            CREATE FUNCTION {table}_fn() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.region := (SELECT region FROM {table}_regions);
                RETURN NEW;
            END $$;
            CREATE TRIGGER {table}_trg BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_fn();
            """);
        return table;
    }

    public sealed class Tagged
    {
        public string Code { get; set; } = string.Empty;

        public string Region { get; set; } = string.Empty;
    }

    public sealed class Numbered
    {
        public long Id { get; set; }

        public string Code { get; set; } = string.Empty;

        public string Region { get; set; } = string.Empty;
    }

    public sealed class TenantUser
    {
        public long Id { get; set; }

        public string Handle { get; set; } = string.Empty;

        public int TenantId { get; set; }

        public string Email { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;
    }
}
