// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
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
    public void MapTable_BlankTable_ThrowsArgumentException()
    {
        var builder = new ServiceCollection().AddIdempotentWrites();

        var ex = Assert.Throws<ArgumentException>(() => builder.MapTable<User>(" ", b => b.ConflictOn(u => u.Email)));

        Assert.Equal("table", ex.ParamName);
    }

    [Fact]
    public void MapTable_SameTypeTwice_LastWins()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites()
            .MapTable<User>("users", b => b.ConflictOn(u => u.Email))
            .MapTable<User>("people", b => b.ConflictOn(u => u.Email));

        Assert.Equal("people", Registry(services)[typeof(User)].Table);
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
    }
}
