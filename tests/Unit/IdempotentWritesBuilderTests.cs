// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Mapping;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.UnitTests;

public class IdempotentWritesBuilderTests
{
    [Fact]
    public void MapTable_TableName_NoSchema()
    {
        var mapping = Map("users", b => b.ConflictOn(u => u.Email));

        Assert.Null(mapping.Schema);
        Assert.Equal("users", mapping.Table);
        Assert.Equal("\"users\"", mapping.QualifiedName);
    }

    [Fact]
    public void MapTable_DottedName_SplitIntoSchemaAndTable()
    {
        var mapping = Map("Billing.Invoices", b => b.ConflictOn(u => u.Email));

        Assert.Equal("Billing", mapping.Schema);
        Assert.Equal("Invoices", mapping.Table);
        Assert.Equal("\"Billing\".\"Invoices\"", mapping.QualifiedName);
    }

    [Theory]
    [InlineData("a.b.c")]
    [InlineData(".users")]
    [InlineData("users.")]
    public void MapTable_NameWithoutSingleInnerDot_TakenAsTableName(string table)
    {
        var mapping = Map(table, b => b.ConflictOn(u => u.Email));

        Assert.Null(mapping.Schema);
        Assert.Equal(table, mapping.Table);
    }

    [Fact]
    public void MapTable_ExplicitSchema_KeepsDotsInTableName()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<User>("app", "users.v2", b => b.ConflictOn(u => u.Email));

        var mapping = Registry(services)[typeof(User)];

        Assert.Equal("app", mapping.Schema);
        Assert.Equal("users.v2", mapping.Table);
    }

    [Fact]
    public void MapTable_IncompleteMapping_ThrowsAtRegistration()
    {
        var builder = new ServiceCollection().AddIdempotentWrites();

        var ex = Assert.Throws<TableMappingException>(() => builder.MapTable<User>("users", _ => { }));

        Assert.Equal("users", ex.Table);
    }

    [Fact]
    public void MapTable_SameTypeTwice_ThrowsNamingBothTables()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<User>("users", b => b.ConflictOn(u => u.Email));

        var ex = Assert.Throws<InvalidOperationException>(() => services.AddIdempotentWrites().MapTable<User>("archive.users", b => b.ConflictOn(u => u.Email)));

        Assert.Equal("User is already mapped to users; it cannot also map to archive.users. A row type maps to exactly one table: give the second table a row type of its own.", ex.Message);
    }

    [Fact]
    public void MapTable_AfterKeyedServiceRegistration_Works()
    {
        var services = new ServiceCollection();
        services.AddKeyedSingleton("audit", new object());

        services.AddIdempotentWrites(o => o.DataSourceServiceKey = "audit").MapTable<User>("users", b => b.ConflictOn(u => u.Email));

        Assert.Equal("users", Registry(services)[typeof(User)].Table);
    }

    [Fact]
    public void MapTable_BlankTable_ThrowsArgumentException()
    {
        var builder = new ServiceCollection().AddIdempotentWrites();

        var ex = Assert.Throws<ArgumentException>(() => builder.MapTable<User>(" ", b => b.ConflictOn(u => u.Email)));

        Assert.Equal("table", ex.ParamName);
    }

    [Fact]
    public void MapTable_NoNamingConfigured_SnakeCase()
    {
        var mapping = Map("users", b => b.ConflictOn(u => u.Email));

        Assert.Equal(["id", "email", "created_at"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_WriterColumnNamingAsIs_PropertyNamesVerbatim()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ColumnNaming = ColumnNamingConvention.AsIs)
            .MapTable<User>("Users", b => b.ConflictOn(u => u.Email));

        var mapping = Registry(services)[typeof(User)];

        Assert.Equal(["Id", "Email", "CreatedAt"], mapping.Columns.Select(c => c.ColumnName));
        Assert.Equal(["Email"], mapping.Conflict.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_WriterColumnNamingSetAfterMapTable_Applies()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<User>("Users", b => b.ConflictOn(u => u.Email));
        services.Configure<IdempotentWritesOptions>(o => o.ColumnNaming = ColumnNamingConvention.AsIs);

        var mapping = Registry(services)[typeof(User)];

        Assert.Equal(["Id", "Email", "CreatedAt"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_WriterColumnNamingFromConfiguration_Applies()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["IdempotentWrites:ColumnNaming"] = "AsIs" })
            .Build();
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<User>("Users", b => b.ConflictOn(u => u.Email));
        services.Configure<IdempotentWritesOptions>(configuration.GetSection("IdempotentWrites"));

        var mapping = Registry(services)[typeof(User)];

        Assert.Equal(["Id", "Email", "CreatedAt"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_TableColumnNaming_WinsOverWriter()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ColumnNaming = ColumnNamingConvention.AsIs)
            .MapTable<User>("users", b => b.ColumnNaming(ColumnNamingConvention.SnakeCase).ConflictOn(u => u.Email))
            .MapTable<Order>("Orders", b => b.ConflictOn(o => o.OrderNumber));

        var registry = Registry(services);

        Assert.Equal(["id", "email", "created_at"], registry[typeof(User)].Columns.Select(c => c.ColumnName));
        Assert.Equal(["OrderNumber", "UserId"], registry[typeof(Order)].Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_HasColumnName_WinsOverWriterAndTable()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ColumnNaming = ColumnNamingConvention.SnakeCase)
            .MapTable<User>("Users", b => b
                .ColumnNaming(ColumnNamingConvention.AsIs)
                .HasColumnName(u => u.CreatedAt, "created")
                .ConflictOn(u => u.Email));

        var mapping = Registry(services)[typeof(User)];

        Assert.Equal(["Id", "Email", "created"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_ColumnsCollideOnlyUnderSnakeCase_RegistersAndMapsUnderWriterAsIs()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<Legacy>("Legacy", b => b.ConflictOn(l => l.UserId));
        services.Configure<IdempotentWritesOptions>(o => o.ColumnNaming = ColumnNamingConvention.AsIs);

        var mapping = Registry(services)[typeof(Legacy)];

        Assert.Equal(["UserId", "User_Id"], mapping.Columns.Select(c => c.ColumnName));
    }

    [Fact]
    public void MapTable_ColumnsCollideUnderWriterSnakeCase_ThrowsWhenMappingsAreRead()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<Legacy>("legacy", b => b.ConflictOn(l => l.UserId));

        var ex = Assert.Throws<TableMappingException>(() => Registry(services));

        Assert.Equal("Table mapping for legacy: properties UserId and User_Id both map to column \"user_id\".", ex.Message);
    }

    [Fact]
    public void MapTable_ColumnsCollideUnderTableConvention_ThrowsAtRegistration()
    {
        var builder = new ServiceCollection().AddIdempotentWrites(o => o.ColumnNaming = ColumnNamingConvention.AsIs);

        var ex = Assert.Throws<TableMappingException>(
            () => builder.MapTable<Legacy>("legacy", b => b.ColumnNaming(ColumnNamingConvention.SnakeCase).ConflictOn(l => l.UserId)));

        Assert.Equal("Table mapping for legacy: properties UserId and User_Id both map to column \"user_id\".", ex.Message);
    }

    [Fact]
    public void MapTable_BuilderChangedAfterRegistration_RegisteredMappingUnchanged()
    {
        TableMappingBuilder<User>? kept = null;
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable<User>("users", b => (kept = b).ConflictOn(u => u.Email));
        kept!.ColumnNaming(ColumnNamingConvention.AsIs).HasColumnName(u => u.Email, "mail");

        var mapping = Registry(services)[typeof(User)];

        Assert.Equal(["id", "email", "created_at"], mapping.Columns.Select(c => c.ColumnName));
    }

    private static TableMapping Map(string table, Action<TableMappingBuilder<User>> configure)
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites().MapTable(table, configure);
        return Registry(services)[typeof(User)];
    }

    private static Dictionary<Type, TableMapping> Registry(IServiceCollection services)
    {
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<TableMappingRegistry>>().Value.Mappings;
    }

    private sealed class User
    {
        public long Id { get; set; }

        public string Email { get; set; } = string.Empty;

        public DateTimeOffset CreatedAt { get; set; }
    }

    private sealed class Order
    {
        public string OrderNumber { get; set; } = string.Empty;

        public long UserId { get; set; }
    }

    private sealed class Legacy
    {
        public long UserId { get; set; }

        public long User_Id { get; set; }
    }
}
