// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.RegularExpressions;
using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using IdempotentWrites.Internal.Writing;

namespace IdempotentWrites.UnitTests.Internal;

public class SqlGeneratorTests
{
    private const string UserReturning = "\"id\", \"email\", \"name\", \"created_at\", \"deleted_at\"";
    private static readonly string UserInsert = "INSERT INTO \"users\" (\"email\", \"name\", \"created_at\", \"deleted_at\") VALUES ($1" + T("text") + ", $2" + T("varchar") + ", $3" + T("timestamptz") + ", $4" + T("timestamptz") + ")";

    private static Dictionary<string, string> UserTypes { get; } = new(StringComparer.Ordinal)
    {
        ["id"] = "int8",
        ["email"] = "text",
        ["name"] = "varchar",
        ["created_at"] = "timestamptz",
        ["deleted_at"] = "timestamptz",
    };

    private static Dictionary<string, string> OrderTypes { get; } = new(StringComparer.Ordinal)
    {
        ["id"] = "int8",
        ["tenant_id"] = "uuid",
        ["number"] = "text",
        ["amount"] = "numeric",
    };

    [Fact]
    public void Generate_SingleColumnTarget_InsertOrGetSql()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email)), UserTypes);

        Assert.Equal(
            UserInsert + " ON CONFLICT (\"email\") DO NOTHING RETURNING " + UserReturning,
            plan.InsertOrGetSql);
    }

    [Fact]
    public void Generate_SingleColumnTarget_ReselectByKeyColumn()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email)), UserTypes);

        Assert.Equal("SELECT " + UserReturning + " FROM \"users\" WHERE \"email\" = $1" + T("text"), plan.ReselectSql);
        Assert.Equal([0], plan.ReselectParameters);
    }

    [Fact]
    public void Generate_SingleColumnTarget_InsertSqlHasNoConflictClause()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email)), UserTypes);

        Assert.Equal(UserInsert + " RETURNING " + UserReturning, plan.InsertSql);
    }

    [Fact]
    public void Generate_SingleColumnTarget_UpsertSqlUpdatesNonKeyColumnsWithGuard()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email)), UserTypes);

        Assert.Equal(
            "INSERT INTO \"users\" AS iw_target (\"email\", \"name\", \"created_at\", \"deleted_at\") VALUES ($1" + T("text") + ", $2" + T("varchar") + ", $3" + T("timestamptz") + ", $4" + T("timestamptz") + ") " +
            "ON CONFLICT (\"email\") " +
            "DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"created_at\" = EXCLUDED.\"created_at\", \"deleted_at\" = EXCLUDED.\"deleted_at\" " +
            "WHERE ROW(iw_target.\"name\", iw_target.\"created_at\", iw_target.\"deleted_at\") " +
            "IS DISTINCT FROM ROW(EXCLUDED.\"name\", EXCLUDED.\"created_at\", EXCLUDED.\"deleted_at\") " +
            "RETURNING " + UserReturning + ", (iw_target.xmax = 0) AS iw_inserted",
            plan.UpsertSql);
    }

    [Fact]
    public void Generate_RoleCannotReadXmax_UpdateByKeyWithGuardInsteadOfUpsert()
    {
        var mapping = UserMapping(b => b.ConflictOn(u => u.Email));
        var facts = new TableFacts("app", CanReadSystemColumns: false, [], [], [], RowSecurity: false, []);
        IReadOnlyList<KeyElement> keys = [.. mapping.Conflict.Columns.Select(KeyElement.ForColumn)];

        var plan = SqlGenerator.Generate(mapping, keys, null, Codecs(mapping, UserTypes), nullsNotDistinct: false, [], facts);

        Assert.Null(plan.UpsertSql);
        Assert.Equal(
            "UPDATE \"users\" AS iw_target SET \"name\" = $2" + T("varchar") + ", \"created_at\" = $3" + T("timestamptz") + ", \"deleted_at\" = $4" + T("timestamptz") + " " +
            "WHERE \"email\" = $1" + T("text") + " " +
            "AND ROW(iw_target.\"name\", iw_target.\"created_at\", iw_target.\"deleted_at\") " +
            "IS DISTINCT FROM ROW($2" + T("varchar") + ", $3" + T("timestamptz") + ", $4" + T("timestamptz") + ") " +
            "RETURNING " + UserReturning,
            plan.UpdateSql);
        Assert.Equal(["name", "created_at", "deleted_at"], plan.UpdateColumns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Generate_SingleColumnTarget_KeyColumnMustBeNonNull()
    {
        var mapping = UserMapping(b => b.ConflictOn(u => u.Email));

        var plan = Generate(mapping, UserTypes);

        var key = Assert.Single(plan.NonNullableKeyColumns);
        Assert.Equal("email", key.ColumnName);
        Assert.Same(mapping, plan.Mapping);
    }

    [Fact]
    public void Generate_ArbiterIndexes_AreCarriedIntoThePlan()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email)), UserTypes, arbiterIndexes: ["users_email_key"]);

        Assert.Equal(["users_email_key"], plan.ArbiterIndexes);
    }

    [Fact]
    public void Generate_CompositeTarget_ArbiterAndReselectInKeyOrder()
    {
        var plan = Generate(OrderMapping(b => b.ConflictOn(o => new { o.TenantId, o.Number })), OrderTypes);

        Assert.Equal(
            "INSERT INTO \"orders\" (\"tenant_id\", \"number\", \"amount\") VALUES ($1" + T("uuid") + ", $2" + T("text") + ", $3" + T("numeric") + ") " +
            "ON CONFLICT (\"tenant_id\", \"number\") DO NOTHING RETURNING \"id\", \"tenant_id\", \"number\", \"amount\"",
            plan.InsertOrGetSql);
        Assert.Equal(
            "SELECT \"id\", \"tenant_id\", \"number\", \"amount\" FROM \"orders\" WHERE \"tenant_id\" = $1" + T("uuid") + " AND \"number\" = $2" + T("text"),
            plan.ReselectSql);
        Assert.Equal([0, 1], plan.ReselectParameters);
        Assert.Equal(["tenant_id", "number"], plan.NonNullableKeyColumns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Generate_CompositeTargetInOtherOrder_ReselectParametersMapToInsertColumns()
    {
        var plan = Generate(OrderMapping(b => b.ConflictOn(o => new { o.Number, o.TenantId })), OrderTypes);

        Assert.Equal(
            "SELECT \"id\", \"tenant_id\", \"number\", \"amount\" FROM \"orders\" WHERE \"number\" = $1" + T("text") + " AND \"tenant_id\" = $2" + T("uuid"),
            plan.ReselectSql);

        // $1 is insert column 1 (number), $2 is insert column 0 (tenant_id).
        Assert.Equal([1, 0], plan.ReselectParameters);
        Assert.Contains("ON CONFLICT (\"number\", \"tenant_id\") DO NOTHING", plan.InsertOrGetSql, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_CompositeTarget_UpsertUpdatesOnlyNonKeyColumns()
    {
        var plan = Generate(OrderMapping(b => b.ConflictOn(o => new { o.TenantId, o.Number })), OrderTypes);

        Assert.Equal(
            "INSERT INTO \"orders\" AS iw_target (\"tenant_id\", \"number\", \"amount\") VALUES ($1" + T("uuid") + ", $2" + T("text") + ", $3" + T("numeric") + ") " +
            "ON CONFLICT (\"tenant_id\", \"number\") " +
            "DO UPDATE SET \"amount\" = EXCLUDED.\"amount\" " +
            "WHERE ROW(iw_target.\"amount\") IS DISTINCT FROM ROW(EXCLUDED.\"amount\") " +
            "RETURNING \"id\", \"tenant_id\", \"number\", \"amount\", (iw_target.xmax = 0) AS iw_inserted",
            plan.UpsertSql);
    }

    [Fact]
    public void Generate_ExpressionTarget_ArbiterUsesExpressionText()
    {
        var plan = Generate(UserMapping(b => b.ConflictOnExpressions("lower(email)")), UserTypes);

        Assert.Equal(
            UserInsert + " ON CONFLICT (lower(email)) DO NOTHING RETURNING " + UserReturning,
            plan.InsertOrGetSql);
    }

    [Fact]
    public void Generate_ExpressionTarget_ReselectEvaluatesExpressionOverTypedInputRow()
    {
        var plan = Generate(UserMapping(b => b.ConflictOnExpressions("lower(email)")), UserTypes);

        Assert.Equal(
            "SELECT " + UserReturning + " FROM \"users\" WHERE (lower(email)) = (SELECT lower(email) FROM " +
            "(SELECT $1" + T("text") + " AS \"email\", $2" + T("varchar") + " AS \"name\", " +
            "$3" + T("timestamptz") + " AS \"created_at\", $4" + T("timestamptz") + " AS \"deleted_at\") AS iw_input)",
            plan.ReselectSql);
        Assert.Equal([0, 1, 2, 3], plan.ReselectParameters);
    }

    [Fact]
    public void Generate_ExpressionTarget_NoNonNullableKeyColumnsAndEveryInsertColumnUpdated()
    {
        var plan = Generate(UserMapping(b => b.ConflictOnExpressions("lower(email)")), UserTypes);

        Assert.Empty(plan.NonNullableKeyColumns);
        Assert.Contains(
            "DO UPDATE SET \"email\" = EXCLUDED.\"email\", \"name\" = EXCLUDED.\"name\", \"created_at\" = EXCLUDED.\"created_at\", \"deleted_at\" = EXCLUDED.\"deleted_at\" WHERE",
            plan.UpsertSql,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_ColumnAndExpressionTarget_SharesInputRowParameters()
    {
        var plan = Generate(OrderMapping(b => b.ConflictOnExpressions("tenant_id", "upper(number)")), OrderTypes);

        // Expression elements are used verbatim, even when they name a plain column.
        Assert.Equal(
            "SELECT \"id\", \"tenant_id\", \"number\", \"amount\" FROM \"orders\" WHERE " +
            "(tenant_id) = (SELECT tenant_id FROM (SELECT $1" + T("uuid") + " AS \"tenant_id\", $2" + T("text") + " AS \"number\", $3" + T("numeric") + " AS \"amount\") AS iw_input) AND " +
            "(upper(number)) = (SELECT upper(number) FROM (SELECT $1" + T("uuid") + " AS \"tenant_id\", $2" + T("text") + " AS \"number\", $3" + T("numeric") + " AS \"amount\") AS iw_input)",
            plan.ReselectSql);
        Assert.Equal([0, 1, 2], plan.ReselectParameters);
    }

    [Fact]
    public void Generate_ConstraintTarget_OnConstraintAndReselectByCatalogKey()
    {
        var mapping = UserMapping(b => b.ConflictOnConstraint("users_email_key"));
        var email = mapping.Columns.Single(c => c.ColumnName == "email");

        var plan = SqlGenerator.Generate(mapping, [KeyElement.ForColumn(email)], predicate: null, Codecs(mapping, UserTypes), nullsNotDistinct: false, ["users_email_key"]);

        Assert.Equal(
            UserInsert + " ON CONFLICT ON CONSTRAINT \"users_email_key\" DO NOTHING RETURNING " + UserReturning,
            plan.InsertOrGetSql);
        Assert.Equal("SELECT " + UserReturning + " FROM \"users\" WHERE \"email\" = $1" + T("text"), plan.ReselectSql);
        Assert.StartsWith(
            "INSERT INTO \"users\" AS iw_target (\"email\", \"name\", \"created_at\", \"deleted_at\") VALUES ($1" + T("text") + ", $2" + T("varchar") + ", $3" + T("timestamptz") + ", $4" + T("timestamptz") + ") ON CONFLICT ON CONSTRAINT \"users_email_key\" DO UPDATE SET \"name\" = EXCLUDED.\"name\",",
            plan.UpsertSql,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_PartialIndexTarget_PredicateInConflictClauseAndReselect()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email).Where("deleted_at IS NULL")), UserTypes);

        Assert.Equal(
            UserInsert + " ON CONFLICT (\"email\") WHERE deleted_at IS NULL DO NOTHING RETURNING " + UserReturning,
            plan.InsertOrGetSql);
        Assert.Equal(
            "SELECT " + UserReturning + " FROM \"users\" WHERE \"email\" = $1" + T("text") + " AND (deleted_at IS NULL)",
            plan.ReselectSql);
        Assert.Contains("ON CONFLICT (\"email\") WHERE deleted_at IS NULL DO UPDATE SET ", plan.UpsertSql, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_SchemaQualifiedMixedCaseNames_AreQuotedLiterally()
    {
        var builder = new TableMappingBuilder<Invoice>("Billing", "Invoices")
            .ConflictOn(i => i.InvoiceNo)
            .HasColumnName(i => i.InvoiceNo, "InvoiceNo")
            .Generated(i => i.Id);
        var mapping = builder.Build();

        var plan = Generate(mapping, new Dictionary<string, string>(StringComparer.Ordinal));

        Assert.Equal(
            "INSERT INTO \"Billing\".\"Invoices\" (\"InvoiceNo\", \"total\") VALUES ($1" + T("text") + ", $2" + T("numeric") + ") ON CONFLICT (\"InvoiceNo\") DO NOTHING RETURNING \"id\", \"InvoiceNo\", \"total\"",
            plan.InsertOrGetSql);
        Assert.Equal(
            "SELECT \"id\", \"InvoiceNo\", \"total\" FROM \"Billing\".\"Invoices\" WHERE \"InvoiceNo\" = $1" + T("text"),
            plan.ReselectSql);
    }

    [Fact]
    public void Generate_IdentifierWithDoubleQuote_QuoteIsDoubled()
    {
        var mapping = new TableMappingBuilder<Tag>("my\"schema", "odd\"table")
            .ConflictOn(t => t.Name)
            .HasColumnName(t => t.Name, "na\"me")
            .Generated(t => t.Id)
            .Build();

        var plan = Generate(mapping, new Dictionary<string, string>(StringComparer.Ordinal));

        Assert.Equal(
            "INSERT INTO \"my\"\"schema\".\"odd\"\"table\" (\"na\"\"me\") VALUES ($1" + T("text") + ") ON CONFLICT (\"na\"\"me\") DO NOTHING RETURNING \"id\", \"na\"\"me\"",
            plan.InsertOrGetSql);
    }

    [Fact]
    public void Generate_GeneratedColumns_OnlyInReturning()
    {
        var mapping = UserMapping(b => b.ConflictOn(u => u.Email).Generated(u => u.CreatedAt));

        var plan = Generate(mapping, UserTypes);

        var insert = "INSERT INTO \"users\" (\"email\", \"name\", \"deleted_at\") VALUES ($1" + T("text") + ", $2" + T("varchar") + ", $3" + T("timestamptz") + ")";
        Assert.Equal(insert + " RETURNING " + UserReturning, plan.InsertSql);
        Assert.Equal(insert + " ON CONFLICT (\"email\") DO NOTHING RETURNING " + UserReturning, plan.InsertOrGetSql);
        Assert.Equal(
            "INSERT INTO \"users\" AS iw_target (\"email\", \"name\", \"deleted_at\") VALUES ($1" + T("text") + ", $2" + T("varchar") + ", $3" + T("timestamptz") + ") ON CONFLICT (\"email\") " +
            "DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"deleted_at\" = EXCLUDED.\"deleted_at\" " +
            "WHERE ROW(iw_target.\"name\", iw_target.\"deleted_at\") IS DISTINCT FROM ROW(EXCLUDED.\"name\", EXCLUDED.\"deleted_at\") " +
            "RETURNING " + UserReturning + ", (iw_target.xmax = 0) AS iw_inserted",
            plan.UpsertSql);
    }

    [Fact]
    public void Generate_UpdateOnConflict_LimitsSetList()
    {
        var plan = Generate(UserMapping(b => b.ConflictOn(u => u.Email).UpdateOnConflict(u => u.Name)), UserTypes);

        Assert.Equal(
            UserInsert.Replace("INSERT INTO \"users\"", "INSERT INTO \"users\" AS iw_target", StringComparison.Ordinal) +
            " ON CONFLICT (\"email\") DO UPDATE SET \"name\" = EXCLUDED.\"name\" " +
            "WHERE ROW(iw_target.\"name\") IS DISTINCT FROM ROW(EXCLUDED.\"name\") " +
            "RETURNING " + UserReturning + ", (iw_target.xmax = 0) AS iw_inserted",
            plan.UpsertSql);
    }

    [Fact]
    public void Build_UpdateOnConflictWithGeneratedColumn_TableMappingException()
    {
        var error = Assert.Throws<TableMappingException>(
            () => UserMapping(b => b.ConflictOn(u => u.Email).Generated(u => u.CreatedAt).UpdateOnConflict(u => u.Name, u => u.CreatedAt)));

        Assert.Equal(
            "Table mapping for users: UpdateOnConflict lists CreatedAt, which is marked Generated; the database fills generated columns, an upsert cannot overwrite them.",
            error.Message);
    }

    [Fact]
    public void Generate_NoUpdatableColumns_UpsertSqlIsNull()
    {
        var mapping = new TableMappingBuilder<Tag>(null, "tags").ConflictOn(t => t.Name).Generated(t => t.Id).Build();

        var plan = Generate(mapping, new Dictionary<string, string>(StringComparer.Ordinal));

        Assert.Null(plan.UpsertSql);
        Assert.Equal("INSERT INTO \"tags\" (\"name\") VALUES ($1" + T("text") + ") ON CONFLICT (\"name\") DO NOTHING RETURNING \"id\", \"name\"", plan.InsertOrGetSql);
    }

    [Fact]
    public void Generate_NullsNotDistinct_ReselectMatchesNulls()
    {
        var plan = Generate(OrderMapping(b => b.ConflictOn(o => new { o.TenantId, o.Number })), OrderTypes, nullsNotDistinct: true);

        Assert.Equal(
            "SELECT \"id\", \"tenant_id\", \"number\", \"amount\" FROM \"orders\" WHERE " +
            "(\"tenant_id\" = $1" + T("uuid") + " OR (\"tenant_id\" IS NULL AND $1" + T("uuid") + " IS NULL)) AND " +
            "(\"number\" = $2" + T("text") + " OR (\"number\" IS NULL AND $2" + T("text") + " IS NULL))",
            plan.ReselectSql);
        Assert.Equal([0, 1], plan.ReselectParameters);
        Assert.Empty(plan.NonNullableKeyColumns);
    }

    [Fact]
    public void Generate_AnyTarget_ValuesAreNeverInlined()
    {
        var plans = new[]
        {
            Generate(UserMapping(b => b.ConflictOn(u => u.Email)), UserTypes),
            Generate(UserMapping(b => b.ConflictOnExpressions("lower(email)")), UserTypes),
            Generate(UserMapping(b => b.ConflictOn(u => u.Email).Where("deleted_at IS NULL")), UserTypes, nullsNotDistinct: true),
        };

        foreach (var plan in plans)
        {
            foreach (var sql in new[] { plan.InsertOrGetSql, plan.ReselectSql, plan.UpsertSql!, plan.InsertSql })
            {
                Assert.DoesNotContain("'", sql, StringComparison.Ordinal);
                Assert.DoesNotContain("@", sql, StringComparison.Ordinal);
            }

            // Every insert statement binds exactly $1..$n, one per insert column.
            foreach (var sql in new[] { plan.InsertOrGetSql, plan.UpsertSql!, plan.InsertSql })
            {
                Assert.Equal([1, 2, 3, 4], Placeholders(sql));
            }

            Assert.Equal(Enumerable.Range(1, plan.ReselectParameters.Length), Placeholders(plan.ReselectSql));
        }
    }

    [Fact]
    public void ArbiterClause_Columns_ParenthesisedQuotedList()
    {
        var mapping = OrderMapping(b => b.ConflictOn(o => new { o.TenantId, o.Number }));

        Assert.Equal("(\"tenant_id\", \"number\")", SqlGenerator.ArbiterClause(mapping.Conflict));
    }

    [Fact]
    public void ArbiterClause_ExpressionsWithPredicate_PredicateAfterList()
    {
        var mapping = UserMapping(b => b.ConflictOnExpressions("lower(email)").Where("deleted_at IS NULL"));

        Assert.Equal("(lower(email)) WHERE deleted_at IS NULL", SqlGenerator.ArbiterClause(mapping.Conflict));
    }

    [Fact]
    public void ArbiterClause_Constraint_OnConstraintQuoted()
    {
        var mapping = UserMapping(b => b.ConflictOnConstraint("users_email_key"));

        Assert.Equal("ON CONSTRAINT \"users_email_key\"", SqlGenerator.ArbiterClause(mapping.Conflict));
    }

    [Fact]
    public void ArbiterClause_ConstraintWithQuoteAndCase_QuotedLiterally()
    {
        var mapping = UserMapping(b => b.ConflictOnConstraint("Users\"Email"));

        Assert.Equal("ON CONSTRAINT \"Users\"\"Email\"", SqlGenerator.ArbiterClause(mapping.Conflict));
    }

    private static WritePlan Generate(
        TableMapping mapping,
        IReadOnlyDictionary<string, string> columnTypes,
        bool nullsNotDistinct = false,
        IReadOnlyList<string>? arbiterIndexes = null)
    {
        // The same key list MappingResolver builds for column and expression targets.
        IReadOnlyList<KeyElement> keys =
        [
            .. mapping.Conflict.Columns.Select(KeyElement.ForColumn),
            .. mapping.Conflict.Expressions.Select(KeyElement.ForExpression),
        ];
        return SqlGenerator.Generate(mapping, keys, mapping.Conflict.Predicate, Codecs(mapping, columnTypes), nullsNotDistinct, arbiterIndexes ?? []);
    }

    // Built-in column types by their internal name, as TypeCatalog reads them.
    private static ColumnCodecs Codecs(TableMapping mapping, IReadOnlyDictionary<string, string> columnTypes)
        => new([.. mapping.Columns.Select(c =>
        {
            var type = new PgType(0, "pg_catalog", columnTypes.TryGetValue(c.ColumnName, out var name) ? name : c.Property.PropertyType == typeof(decimal) ? "numeric" : c.Property.PropertyType == typeof(long) ? "int8" : "text", 'b', 'X');
            return ColumnCodec.Create(c, new ColumnType(type.SqlName, type.TypeName, type, null, []), System.Text.Json.JsonSerializerOptions.Default, mapping.DisplayName);
        })]);

    private static string T(string type) => $"::\"pg_catalog\".\"{type}\"";

    private static int[] Placeholders(string sql)
        => [.. Regex.Matches(sql, @"\$(\d+)").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order()];

    private static TableMapping UserMapping(Action<TableMappingBuilder<User>> configure)
    {
        var builder = new TableMappingBuilder<User>(null, "users").Generated(u => u.Id);
        configure(builder);
        return builder.Build();
    }

    private static TableMapping OrderMapping(Action<TableMappingBuilder<Order>> configure)
    {
        var builder = new TableMappingBuilder<Order>(null, "orders").Generated(o => o.Id);
        configure(builder);
        return builder.Build();
    }

    private sealed class User
    {
        public long Id { get; set; }

        public string Email { get; set; } = string.Empty;

        public string? Name { get; set; }

        public DateTimeOffset CreatedAt { get; set; }

        public DateTimeOffset? DeletedAt { get; set; }
    }

    private sealed class Order
    {
        public long Id { get; set; }

        public Guid TenantId { get; set; }

        public string Number { get; set; } = string.Empty;

        public decimal Amount { get; set; }
    }

    private sealed class Invoice
    {
        public long Id { get; set; }

        public string InvoiceNo { get; set; } = string.Empty;

        public decimal Total { get; set; }
    }

    private sealed class Tag
    {
        public long Id { get; set; }

        public string Name { get; set; } = string.Empty;
    }
}
