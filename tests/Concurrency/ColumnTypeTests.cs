// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests;

public enum Mood
{
    Happy,
    Sad,
    VeryHappy,
}

public enum Partial
{
    Happy,
    Grumpy,
}

public sealed record Address(string City, int Zip);

public sealed class TypedRow<TValue>
{
    public long Id { get; set; }

    public string K { get; set; } = string.Empty;

    public TValue V { get; set; } = default!;
}

public sealed class KeyedRow<TKey>
{
    public long Id { get; set; }

    public TKey K { get; set; } = default!;

    public string Name { get; set; } = string.Empty;
}

// Every CLR <-> PostgreSQL pairing the SDK promises, both directions: the value written is stored as the column's type
// (checked through PostgreSQL's own text output), and read back as the property type, for the inserted row (RETURNING)
// and the existing row (re-select). Pairings that cannot work are refused by the mapping check, naming both types.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class ColumnTypeTests(PostgresFixture db)
{
    private static readonly DateTimeOffset Instant = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2));

    public static TheoryData<string> PairingNames => [.. Pairings.Keys];

    private static Dictionary<string, Pairing> Pairings { get; } = new Pairing[]
    {
        new Pairing<string>("text", "héllo wörld", "héllo wörld"),
        new Pairing<string>("varchar(20)", "short", "short"),
        new Pairing<string>("char(8)", "ab", "ab", read: "ab      "),
        new Pairing<string>("citext", "Foo@X.com", "Foo@X.com"),
        new Pairing<string>("iw_mood", "sad", "sad"),
        new Pairing<Mood>("iw_mood", Mood.VeryHappy, "very_happy"),
        new Pairing<Mood>("text", Mood.Sad, "Sad"),
        new Pairing<Mood>("integer", Mood.Sad, "1"),
        new Pairing<string>("jsonb", """{"a": [1, 2]}""", """{"a": [1, 2]}"""),
        new Pairing<string>("json", """{ "a" : 1 }""", """{ "a" : 1 }"""),
        new Pairing<JsonDocument>("jsonb", JsonDocument.Parse("""{"a":1}"""), """{"a": 1}""", equal: (a, b) => JsonElement.DeepEquals(a.RootElement, b.RootElement)),
        new Pairing<JsonElement>("jsonb", JsonDocument.Parse("[1,true]").RootElement, "[1, true]", equal: JsonElement.DeepEquals),
        new Pairing<JsonNode>("jsonb", JsonNode.Parse("""{"n":{"m":2}}""")!, """{"n": {"m": 2}}""", equal: JsonNode.DeepEquals),
        new Pairing<JsonObject>("json", (JsonObject)JsonNode.Parse("""{"x":"y"}""")!, """{"x":"y"}""", equal: JsonNode.DeepEquals),
        new Pairing<JsonDocument>("json", JsonDocument.Parse("""{"a":1}"""), """{"a":1}""", equal: (a, b) => JsonElement.DeepEquals(a.RootElement, b.RootElement)),
        new Pairing<JsonElement>("json", JsonDocument.Parse("[1,true]").RootElement, "[1,true]", equal: JsonElement.DeepEquals),
        new Pairing<Address>("json", new Address("Oslo", 150), """{"City":"Oslo","Zip":150}"""),
        new Pairing<Address>("jsonb", new Address("Oslo", 150), """{"Zip": 150, "City": "Oslo"}"""),
        new Pairing<Address>("iw_json_domain", new Address("Rome", 100), """{"Zip": 100, "City": "Rome"}"""),
        new Pairing<List<Address>>("jsonb", [new Address("A", 1)], """[{"Zip": 1, "City": "A"}]""", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<string[]>("text[]", ["a", "b c", ""], """{a,"b c",""}""", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<List<string>>("text[]", ["x", "y"], "{x,y}", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<List<string>>("citext[]", ["Ab", "cD"], "{Ab,cD}", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<int[]>("integer[]", [1, 2, 3], "{1,2,3}", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<List<long>>("bigint[]", [5L, 6L], "{5,6}", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<DateOnly[]>("date[]", [new DateOnly(2026, 1, 2)], "{2026-01-02}", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<Mood[]>("iw_mood[]", [Mood.Happy, Mood.VeryHappy], "{happy,very_happy}", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<Guid>("uuid", Guid.Parse("0b6a3c1e-8f0e-4c5a-9d55-6f1a2b3c4d5e"), "0b6a3c1e-8f0e-4c5a-9d55-6f1a2b3c4d5e"),
        new Pairing<decimal>("numeric", 12.345m, "12.345"),
        new Pairing<decimal>("numeric(10,2)", 12.5m, "12.50"),
        new Pairing<bool>("boolean", true, "true"),
        new Pairing<short>("smallint", (short)-7, "-7"),
        new Pairing<int>("smallint", 300, "300"),
        new Pairing<long>("integer", 2_000_000_000L, "2000000000"),
        new Pairing<long>("bigint", long.MaxValue, "9223372036854775807"),
        new Pairing<int>("bigint", int.MinValue, "-2147483648"),
        new Pairing<float>("real", 1.5f, "1.5"),
        new Pairing<double>("double precision", 2.25, "2.25"),
        new Pairing<DateTimeOffset>("timestamptz", Instant, "2026-03-04 03:06:07.89", read: Instant.ToUniversalTime(), storedAs: "(v AT TIME ZONE 'UTC')::text"),
        new Pairing<DateTime>("timestamptz", Instant.UtcDateTime, "2026-03-04 03:06:07.89", storedAs: "(v AT TIME ZONE 'UTC')::text"),
        new Pairing<DateTime>("timestamp", new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Unspecified), "2026-03-04 05:06:07"),
        new Pairing<DateOnly>("date", new DateOnly(2026, 2, 28), "2026-02-28"),
        new Pairing<DateTime>("date", new DateTime(2026, 2, 28), "2026-02-28"),
        new Pairing<TimeOnly>("time", new TimeOnly(13, 14, 15), "13:14:15"),
        new Pairing<TimeSpan>("time", new TimeSpan(1, 2, 3), "01:02:03"),
        new Pairing<TimeSpan>("interval", TimeSpan.FromMinutes(90), "01:30:00"),
        new Pairing<byte[]>("bytea", [0, 1, 254], "\\x0001fe", equal: (a, b) => a.SequenceEqual(b)),
        new Pairing<IPAddress>("inet", IPAddress.Parse("10.1.2.3"), "10.1.2.3/32"),
        new Pairing<string>("iw_text_domain", "x@y", "x@y"),
        new Pairing<int>("iw_int_domain", 42, "42"),
        new Pairing<int?>("integer", null, null),
        new Pairing<Mood?>("iw_mood", null, null),
        new Pairing<DateOnly?>("date", new DateOnly(2020, 1, 1), "2020-01-01"),
        new Pairing<Guid?>("uuid", null, null),
        new Pairing<string?>("jsonb", null, null),
        new Pairing<Address?>("jsonb", null, null),
    }.ToDictionary(p => p.Name);

    public static TheoryData<string, string> Refusals => new()
    {
        { "bigint", "Decimal" },
        { "text", "JsonDocument" },
        { "timestamp", "DateTimeOffset" },
        { "iw_mood", "Partial" },
        { "iw_mood[]", "List<Mood>" },
        { "numeric", "Double" },
        { "uuid", "Int32" },
    };

    [Theory]
    [MemberData(nameof(PairingNames))]
    public async Task InsertOrGet_Pairing_StoresColumnTypeAndReadsPropertyType(string name)
    {
        await CreateTypesAsync();
        await Pairings[name].RunAsync(db);
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Start_PairingThatCannotWork_RefusedNamingPropertyColumnAndTypes(string columnType, string clrType)
    {
        await CreateTypesAsync();
        var table = Names.Table("refused");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, k text NOT NULL UNIQUE, v {columnType})");
        var builder = Host.CreateApplicationBuilder();
        var map = builder.Services.AddIdempotentWrites(o => o.ConnectionString = db.ConnectionString);
        _ = clrType switch
        {
            "Int32" => map.MapTable<TypedRow<int>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            "Decimal" => map.MapTable<TypedRow<decimal>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            "JsonDocument" => map.MapTable<TypedRow<JsonDocument>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            "DateTimeOffset" => map.MapTable<TypedRow<DateTimeOffset>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            "Partial" => map.MapTable<TypedRow<Partial>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            "List<Mood>" => map.MapTable<TypedRow<List<Mood>>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            "Double" => map.MapTable<TypedRow<double>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)),
            _ => throw new ArgumentOutOfRangeException(nameof(clrType)),
        };
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<TableMappingException>(() => host.StartAsync());

        Assert.Contains($".V ({clrType})", error.Message, StringComparison.Ordinal);
        Assert.Contains("column \"v\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(columnType.Replace("iw_", string.Empty, StringComparison.Ordinal), error.Message.Replace("iw_", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InsertOrGet_CharKeyWithTrailingSpace_ExistingLikePostgres()
    {
        var writer = await KeyTableAsync<string>("char(8)");
        var first = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "ab", Name = "first" });
        var second = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "ab ", Name = "second" });

        Assert.Equal(WriteOutcome.Inserted, first.Outcome);
        Assert.Equal(WriteOutcome.Existing, second.Outcome);
        Assert.Equal(first.Row.Id, second.Row.Id);
        Assert.Equal("first", second.Row.Name);
        Assert.Equal("ab      ", second.Row.K);
    }

    [Fact]
    public async Task InsertOrGet_CitextKey_ComparesCaseInsensitively()
    {
        var writer = await KeyTableAsync<string>("citext");
        var first = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "Foo@X.com", Name = "first" });
        var second = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "foo@x.COM", Name = "second" });

        Assert.Equal(WriteOutcome.Existing, second.Outcome);
        Assert.Equal(first.Row.Id, second.Row.Id);
        Assert.Equal("Foo@X.com", second.Row.K);
    }

    [Fact]
    public async Task InsertOrGet_DomainOverCitextKey_ComparesCaseInsensitively()
    {
        await CreateTypesAsync();
        var writer = await KeyTableAsync<string>("iw_email");
        var first = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "Ann@X.org", Name = "first" });
        var second = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "ANN@x.org", Name = "second" });

        Assert.Equal(WriteOutcome.Existing, second.Outcome);
        Assert.Equal(first.Row.Id, second.Row.Id);
    }

    [Fact]
    public async Task InsertOrGet_NondeterministicCollationKey_ComparesWithColumnCollation()
    {
        await db.ExecuteAsync("CREATE COLLATION IF NOT EXISTS iw_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
        var writer = await KeyTableAsync<string>("text COLLATE iw_ci");
        var first = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "Crème brûlée", Name = "first" });
        var second = await writer.Writer.InsertOrGetAsync(new KeyedRow<string> { K = "CRÈME BRÛLÉE", Name = "second" });

        Assert.Equal(WriteOutcome.Existing, second.Outcome);
        Assert.Equal(first.Row.Id, second.Row.Id);
    }

    [Fact]
    public async Task InsertOrGet_EnumKeyFromClrEnum_Existing()
    {
        await CreateTypesAsync();
        var writer = await KeyTableAsync<Mood>("iw_mood");
        var first = await writer.Writer.InsertOrGetAsync(new KeyedRow<Mood> { K = Mood.VeryHappy, Name = "first" });
        var second = await writer.Writer.InsertOrGetAsync(new KeyedRow<Mood> { K = Mood.VeryHappy, Name = "second" });

        Assert.Equal(WriteOutcome.Existing, second.Outcome);
        Assert.Equal(first.Row.Id, second.Row.Id);
    }

    public static TheoryData<string> KeyTypes =>
    [
        "text", "varchar(40)", "char(8)", "citext", "iw_email", "iw_mood", "uuid", "integer", "bigint", "numeric", "date", "timestamptz",
        "text COLLATE \"C\"", "jsonb",
    ];

    // The re-select must use the arbiter index for every key type: a parameter typed as text against char(n) or citext
    // makes PostgreSQL compare (k)::text = $1 and scan the whole table. enable_seqscan=off leaves a Seq Scan only when
    // no index can answer the condition.
    [Theory]
    [MemberData(nameof(KeyTypes))]
    public async Task Reselect_EveryKeyType_UsesArbiterIndex(string keyType)
    {
        await CreateTypesAsync();
        var table = Names.Table("explain");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, k {keyType} NOT NULL CONSTRAINT {table}_k UNIQUE, name text NOT NULL)");
        var plan = keyType switch
        {
            "iw_mood" => await ExplainReselectAsync(table, new KeyedRow<Mood> { K = Mood.Sad }),
            "uuid" => await ExplainReselectAsync(table, new KeyedRow<Guid> { K = Guid.NewGuid() }),
            "integer" => await ExplainReselectAsync(table, new KeyedRow<int> { K = 5 }),
            "bigint" => await ExplainReselectAsync(table, new KeyedRow<long> { K = 5 }),
            "numeric" => await ExplainReselectAsync(table, new KeyedRow<decimal> { K = 5.5m }),
            "date" => await ExplainReselectAsync(table, new KeyedRow<DateOnly> { K = new DateOnly(2026, 1, 1) }),
            "timestamptz" => await ExplainReselectAsync(table, new KeyedRow<DateTimeOffset> { K = Instant }),
            "jsonb" => await ExplainReselectAsync(table, new KeyedRow<Address> { K = new Address("X", 1) }),
            _ => await ExplainReselectAsync(table, new KeyedRow<string> { K = "ab" }),
        };

        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
        Assert.Contains($"{table}_k", plan, StringComparison.Ordinal);
    }

    private async Task<string> ExplainReselectAsync<TKey>(string table, KeyedRow<TKey> row)
    {
        await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<KeyedRow<TKey>>(table, t => t.ConflictOn(r => r.K!).Generated(r => r.Id)));
        var internalWriter = (IdempotentWriter)writer.Writer;
        using var command = await internalWriter.ReselectCommandAsync(row, CancellationToken.None);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var off = new NpgsqlCommand("SET LOCAL enable_seqscan = off", connection, transaction))
        {
            await off.ExecuteNonQueryAsync();
        }

        command.CommandText = "EXPLAIN " + command.CommandText;
        command.Connection = connection;
        command.Transaction = transaction;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join("\n", lines);
    }

    private async Task<TestWriter> KeyTableAsync<TKey>(string keyType)
    {
        await db.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS citext");
        var table = Names.Table("keyed");
        await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, k {keyType} NOT NULL UNIQUE, name text NOT NULL)");
        return TestWriter.Create(db.ConnectionString, b => b.MapTable<KeyedRow<TKey>>(table, t => t.ConflictOn(r => r.K!).Generated(r => r.Id)));
    }

    private Task CreateTypesAsync() => db.ExecuteAsync("""
        CREATE EXTENSION IF NOT EXISTS citext;
        DO $$ BEGIN
            CREATE TYPE iw_mood AS ENUM ('happy', 'sad', 'very_happy');
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN
            CREATE DOMAIN iw_text_domain AS text CHECK (VALUE LIKE '%@%');
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN
            CREATE DOMAIN iw_int_domain AS integer CHECK (VALUE > 0);
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN
            CREATE DOMAIN iw_email AS citext CHECK (VALUE LIKE '%@%');
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN
            CREATE DOMAIN iw_json_domain AS jsonb CHECK (jsonb_typeof(VALUE) = 'object');
        EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        """);

    private abstract class Pairing
    {
        public abstract string Name { get; }

        public abstract Task RunAsync(PostgresFixture db);
    }

    private sealed class Pairing<T>(string columnType, T value, string? stored, object? read = null, Func<T, T, bool>? equal = null, string storedAs = "v::text") : Pairing
    {
        private readonly T _expected = read is null ? value : (T)read;

        public override string Name => $"{typeof(T).Name}{(Nullable.GetUnderlyingType(typeof(T)) is { } u ? "<" + u.Name + ">" : string.Empty)}{(typeof(T).IsGenericType && Nullable.GetUnderlyingType(typeof(T)) is null ? "<" + typeof(T).GetGenericArguments()[0].Name + ">" : string.Empty)} <-> {columnType}{(value is null ? " (null)" : string.Empty)}";

        public override async Task RunAsync(PostgresFixture db)
        {
            var table = Names.Table("pairing");
            await db.ExecuteAsync($"CREATE TABLE {table} (id bigserial PRIMARY KEY, k text NOT NULL UNIQUE, v {columnType})");
            await using var writer = TestWriter.Create(db.ConnectionString, b => b.MapTable<TypedRow<T>>(table, t => t.ConflictOn(r => r.K).Generated(r => r.Id)));

            var inserted = await writer.Writer.InsertOrGetAsync(new TypedRow<T> { K = "a", V = value });
            var existing = await writer.Writer.InsertOrGetAsync(new TypedRow<T> { K = "a", V = value });
            var upserted = await writer.Writer.UpsertAsync(new TypedRow<T> { K = "a", V = value });

            Assert.Equal(WriteOutcome.Inserted, inserted.Outcome);
            Assert.Equal(WriteOutcome.Existing, existing.Outcome);
            Assert.Equal(WriteOutcome.Unchanged, upserted.Outcome);
            Assert.Equal(inserted.Row.Id, existing.Row.Id);
            // The bulk path (binary COPY into a staging table) stores and reads the same values.
            var bulk = await writer.Writer.InsertManyAsync(
                [new TypedRow<T> { K = "a", V = value }, new TypedRow<T> { K = "b", V = value }],
                new BulkWriteOptions { ReturnRows = true });

            Assert.Equal(1L, bulk.Inserted);
            foreach (var key in new[] { "a", "b" })
            {
                var text = await db.ScalarAsync<object>($"SELECT {storedAs} FROM {table} WHERE k = '{key}'");
                Assert.Equal(stored, text is DBNull ? null : (string)text);
            }

            foreach (var row in new[] { inserted.Row, existing.Row, upserted.Row, Assert.Single(bulk.WrittenRows) })
            {
                if (_expected is null)
                {
                    Assert.Null(row.V);
                }
                else
                {
                    Assert.NotNull(row.V);
                    Assert.True(equal?.Invoke(_expected, row.V) ?? Equals(_expected, row.V), $"read back {Describe(row.V)}, expected {Describe(_expected)}");
                }
            }
        }

        private static string Describe(object? value) => value switch
        {
            null => "null",
            System.Collections.IEnumerable items and not string => "[" + string.Join(", ", items.Cast<object?>()) + "]",
            JsonDocument document => document.RootElement.GetRawText(),
            _ => value.ToString() ?? string.Empty,
        };
    }
}
