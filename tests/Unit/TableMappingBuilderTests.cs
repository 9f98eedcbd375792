// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.UnitTests;

public class TableMappingBuilderTests
{
    [Fact]
    public void Build_PropertyNames_SnakeCaseByConvention()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.UserID).Build();

        Assert.Equal(["id", "user_id", "created_at", "http_status", "display_name"], mapping.Columns.Select(c => c.ColumnName));
        Assert.Equal(["Id", "UserID", "CreatedAt", "HTTPStatus", "DisplayName"], mapping.Columns.Select(c => c.Property.Name));
    }

    [Fact]
    public void Build_WriterConventionAsIs_PropertyNamesVerbatim()
    {
        var mapping = new TableMappingBuilder<Account>(null, "Accounts").ConflictOn(a => a.UserID).Build(ColumnNamingConvention.AsIs);

        Assert.Equal(["Id", "UserID", "CreatedAt", "HTTPStatus", "DisplayName"], mapping.Columns.Select(c => c.ColumnName));
        Assert.Equal("\"CreatedAt\"", mapping.Columns.Single(c => c.Property.Name == "CreatedAt").QuotedName);
        Assert.Equal(["UserID"], mapping.Conflict.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Build_WriterConventionSnakeCase_SameAsDefault()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.UserID).Build(ColumnNamingConvention.SnakeCase);

        Assert.Equal(["id", "user_id", "created_at", "http_status", "display_name"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Theory]
    [InlineData(ColumnNamingConvention.SnakeCase)]
    [InlineData(ColumnNamingConvention.AsIs)]
    public void ColumnNaming_AsIs_WinsOverWriterConvention(ColumnNamingConvention writer)
    {
        var mapping = new TableMappingBuilder<Account>(null, "Accounts")
            .ColumnNaming(ColumnNamingConvention.AsIs)
            .ConflictOn(a => a.UserID)
            .Build(writer);

        Assert.Equal(["Id", "UserID", "CreatedAt", "HTTPStatus", "DisplayName"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void ColumnNaming_SnakeCase_WinsOverWriterAsIs()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ColumnNaming(ColumnNamingConvention.SnakeCase)
            .ConflictOn(a => a.UserID)
            .Build(ColumnNamingConvention.AsIs);

        Assert.Equal(["id", "user_id", "created_at", "http_status", "display_name"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void ColumnNaming_HasColumnName_WinsOverConvention()
    {
        var mapping = new TableMappingBuilder<Account>(null, "Accounts")
            .ColumnNaming(ColumnNamingConvention.AsIs)
            .HasColumnName(a => a.HTTPStatus, "http_status")
            .ConflictOn(a => a.UserID)
            .Build(ColumnNamingConvention.SnakeCase);

        Assert.Equal(["Id", "UserID", "CreatedAt", "http_status", "DisplayName"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void ColumnNaming_CalledTwice_LastWins()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ColumnNaming(ColumnNamingConvention.AsIs)
            .ColumnNaming(ColumnNamingConvention.SnakeCase)
            .ConflictOn(a => a.UserID)
            .Build(ColumnNamingConvention.AsIs);

        Assert.Equal("user_id", mapping.Columns.Single(c => c.Property.Name == "UserID").ColumnName);
    }

    [Fact]
    public void ColumnNaming_UndefinedValue_ThrowsArgumentOutOfRange()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => builder.ColumnNaming((ColumnNamingConvention)7));

        Assert.Equal("convention", ex.ParamName);
        Assert.Equal((ColumnNamingConvention)7, ex.ActualValue);
    }

    [Fact]
    public void Build_AsIsNamesCollideOnlyUnderSnakeCase_Mapped()
    {
        var mapping = new TableMappingBuilder<Legacy>(null, "Legacy").ConflictOn(l => l.UserId).Build(ColumnNamingConvention.AsIs);

        Assert.Equal(["UserId", "User_Id"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Build_ColumnNames_QuotedNamesPrecomputed()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.UserID).Build();

        Assert.Equal("\"user_id\"", mapping.Columns.Single(c => c.Property.Name == "UserID").QuotedName);
    }

    [Fact]
    public void Build_HasColumnName_OverridesConventionLiterally()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOn(a => a.UserID)
            .HasColumnName(a => a.DisplayName, "DisplayName")
            .HasColumnName(a => a.HTTPStatus, "status")
            .Build();

        Assert.Equal(["id", "user_id", "created_at", "status", "DisplayName"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Build_HasColumnNameTwice_LastWins()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOn(a => a.UserID)
            .HasColumnName(a => a.DisplayName, "first")
            .HasColumnName(a => a.DisplayName, "second")
            .Build();

        Assert.Equal("second", mapping.Columns.Single(c => c.Property.Name == "DisplayName").ColumnName);
    }

    [Fact]
    public void Build_Ignore_PropertyNotMapped()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOn(a => a.UserID)
            .Ignore(a => a.HTTPStatus)
            .Ignore(a => a.DisplayName)
            .Build();

        Assert.Equal(["id", "user_id", "created_at"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Build_ReadOnlyComputedAndIndexerProperties_NotMapped()
    {
        var mapping = new TableMappingBuilder<WithExtras>(null, "extras").ConflictOn(x => x.Code).Build();

        Assert.Equal(["code"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void Build_Generated_ExcludedFromInsertColumnsOnly()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOn(a => a.UserID)
            .Generated(a => a.Id, a => a.CreatedAt)
            .Build();

        Assert.Equal(["id", "user_id", "created_at", "http_status", "display_name"], mapping.Columns.Select(c => c.ColumnName));
        Assert.Equal(["user_id", "http_status", "display_name"], mapping.InsertColumns.Select(c => c.ColumnName));
        Assert.Equal([true, false, true, false, false], mapping.Columns.Select(c => c.IsGenerated));
    }

    [Fact]
    public void Build_ConflictOnAnonymousType_ColumnsInSelectorOrder()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => new { a.DisplayName, a.UserID }).Build();

        Assert.Equal(["display_name", "user_id"], mapping.Conflict.Columns.Select(c => c.ColumnName));
        Assert.Empty(mapping.Conflict.Expressions);
        Assert.Null(mapping.Conflict.Constraint);
        Assert.Null(mapping.Conflict.Predicate);
    }

    [Fact]
    public void Build_ConflictOnExpressionsWithWhere_SpecHoldsBoth()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOnExpressions("lower(display_name)", "user_id")
            .Where("http_status = 200")
            .Build();

        Assert.Empty(mapping.Conflict.Columns);
        Assert.Equal(["lower(display_name)", "user_id"], mapping.Conflict.Expressions);
        Assert.Equal("http_status = 200", mapping.Conflict.Predicate);
    }

    [Fact]
    public void Build_ConflictOnConstraint_SpecHoldsName()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts").ConflictOnConstraint("accounts_user_id_key").Build();

        Assert.Equal("accounts_user_id_key", mapping.Conflict.Constraint);
        Assert.Empty(mapping.Conflict.Columns);
    }

    [Fact]
    public void Build_UpdateOnConflict_UpdateColumnsInGivenOrder()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOn(a => a.UserID)
            .UpdateOnConflict(a => a.DisplayName, a => a.HTTPStatus)
            .Build();

        Assert.Equal(["display_name", "http_status"], mapping.UpdateColumns!.Select(c => c.ColumnName));
    }

    [Fact]
    public void Build_NoUpdateOnConflict_UpdateColumnsNull()
    {
        var mapping = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.UserID).Build();

        Assert.Null(mapping.UpdateColumns);
    }

    [Fact]
    public void Build_SchemaAndTable_NamesAndDisplayName()
    {
        var mapping = new TableMappingBuilder<Account>("Billing", "Invoices").ConflictOn(a => a.UserID).Build();

        Assert.Equal("Billing", mapping.Schema);
        Assert.Equal("Invoices", mapping.Table);
        Assert.Equal("Billing.Invoices", mapping.DisplayName);
        Assert.Equal("\"Billing\".\"Invoices\"", mapping.QualifiedName);
        Assert.Equal(typeof(Account), mapping.RowType);
    }

    [Fact]
    public void Build_NoConflictTarget_ThrowsNamingTableAndConflictOn()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal(
            "Table mapping for accounts: no conflict target: call ConflictOn(...), ConflictOnExpressions(...) or ConflictOnConstraint(...).",
            ex.Message);
        Assert.Equal("accounts", ex.Table);
        Assert.Null(ex.SqlState);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public void Build_NoConflictTargetWithSchema_TableIsSchemaQualified()
    {
        var builder = new TableMappingBuilder<Account>("Billing", "Invoices").Where("deleted_at IS NULL");

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal("Billing.Invoices", ex.Table);
        Assert.StartsWith("Table mapping for Billing.Invoices: no conflict target", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ConflictKeyMarkedGenerated_Throws()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.Id).Generated(a => a.Id);

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal(
            "Table mapping for accounts: conflict key property Id is marked Generated: an insert-or-get needs the key value before the insert.",
            ex.Message);
    }

    [Fact]
    public void Build_TwoPropertiesOnOneColumn_ThrowsNamingBoth()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOn(a => a.UserID)
            .HasColumnName(a => a.DisplayName, "user_id");

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal("Table mapping for accounts: properties UserID and DisplayName both map to column \"user_id\".", ex.Message);
    }

    [Fact]
    public void Build_ConflictOnIgnoredProperty_Throws()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.DisplayName).Ignore(a => a.DisplayName);

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal("Table mapping for accounts: property Account.DisplayName is not a mapped read/write property.", ex.Message);
    }

    [Fact]
    public void Build_ConflictOnReadOnlyProperty_Throws()
    {
        var builder = new TableMappingBuilder<WithExtras>(null, "extras").ConflictOn(x => x.Computed);

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal("Table mapping for extras: property WithExtras.Computed is not a mapped read/write property.", ex.Message);
    }

    [Fact]
    public void Build_NoReadWriteProperties_Throws()
    {
        var builder = new TableMappingBuilder<ReadOnlyRow>(null, "ro").ConflictOnConstraint("ro_pkey");

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal("Table mapping for ro: type ReadOnlyRow has no public read/write properties to map.", ex.Message);
    }

    [Fact]
    public void Build_WhereWithConflictOnConstraint_Throws()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts")
            .ConflictOnConstraint("accounts_user_id_key")
            .Where("deleted_at IS NULL");

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.Equal(
            "Table mapping for accounts: Where(...) applies to a partial unique index and cannot be combined with ConflictOnConstraint(...).",
            ex.Message);
    }

    [Fact]
    public void ConflictOn_TargetAlreadySet_ThrowsInvalidOperation()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts").ConflictOn(a => a.UserID);

        var ex = Assert.Throws<InvalidOperationException>(() => builder.ConflictOnConstraint("accounts_user_id_key"));

        Assert.Equal(
            "The conflict target of accounts is already set; call one of ConflictOn, ConflictOnExpressions or ConflictOnConstraint once.",
            ex.Message);
    }

    [Fact]
    public void ConflictOnExpressions_TargetAlreadySet_ThrowsInvalidOperation()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts").ConflictOnConstraint("accounts_user_id_key");

        Assert.Throws<InvalidOperationException>(() => builder.ConflictOnExpressions("lower(display_name)"));
        Assert.Throws<InvalidOperationException>(() => builder.ConflictOn(a => a.UserID));
    }

    [Fact]
    public void ConflictOnExpressions_NoElements_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.ConflictOnExpressions());

        Assert.Equal("indexElements", ex.ParamName);
        Assert.StartsWith("At least one index element is required.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConflictOnExpressions_BlankElement_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.ConflictOnExpressions("lower(email)", " "));

        Assert.Equal("indexElements", ex.ParamName);
    }

    [Fact]
    public void ConflictOnConstraint_Blank_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.ConflictOnConstraint(" "));

        Assert.Equal("constraintName", ex.ParamName);
    }

    [Fact]
    public void ConflictOn_PropertyOfProperty_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.ConflictOn(a => a.DisplayName.Length));

        Assert.Equal(
            "'a => a.DisplayName.Length' must select a property of the row (x => x.Email) or several as an anonymous type (x => new { x.A, x.B }). (Parameter 'selector')",
            ex.Message);
    }

    [Fact]
    public void ConflictOn_MethodCall_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        Assert.Throws<ArgumentException>(() => builder.ConflictOn(a => a.DisplayName.Trim()));
    }

    [Fact]
    public void HasColumnName_SeveralProperties_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.HasColumnName(a => new { a.UserID, a.DisplayName }, "x"));

        Assert.Equal("property", ex.ParamName);
        Assert.StartsWith("Select exactly one property.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HasColumnName_BlankName_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.HasColumnName(a => a.UserID, ""));

        Assert.Equal("columnName", ex.ParamName);
    }

    [Fact]
    public void Where_Blank_ThrowsArgumentException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentException>(() => builder.Where("  "));

        Assert.Equal("indexPredicate", ex.ParamName);
    }

    [Fact]
    public void Generated_NullSelector_ThrowsArgumentNullException()
    {
        var builder = new TableMappingBuilder<Account>(null, "accounts");

        var ex = Assert.Throws<ArgumentNullException>(() => builder.Generated(null!));

        Assert.Equal("columns", ex.ParamName);
    }

    [Fact]
    public void Schema_AndTable_AsGiven()
    {
        var builder = new TableMappingBuilder<Account>("Billing", "Invoices");

        Assert.Equal("Billing", builder.Schema);
        Assert.Equal("Invoices", builder.Table);
    }

    private sealed class Account
    {
        public long Id { get; set; }

        public string UserID { get; set; } = string.Empty;

        public DateTimeOffset CreatedAt { get; set; }

        public int HTTPStatus { get; set; }

        public string DisplayName { get; set; } = string.Empty;
    }

    private sealed class Legacy
    {
        public long UserId { get; set; }

        public long User_Id { get; set; }
    }

    private sealed class WithExtras
    {
        public string Code { get; set; } = string.Empty;

        public string Computed => Code + "!";

        public static string Shared { get; set; } = string.Empty;

        public string this[int index]
        {
            get => Code;
            set => Code = value;
        }
    }

    private sealed class ReadOnlyRow(long id)
    {
        public long Id { get; } = id;
    }
}
