// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.UnitTests.Internal;

public class TableMappingTests
{
    [Fact]
    public void Materialize_PositionalRecord_UsesConstructor()
    {
        var mapping = new TableMappingBuilder<Item>(null, "items").ConflictOn(i => i.Sku).Build();

        var row = Assert.IsType<Item>(mapping.Materialize([42L, "A-1"]));

        Assert.Equal(new Item(42, "A-1"), row);
    }

    [Fact]
    public void Materialize_PositionalRecordWithNarrowerDatabaseValue_ConvertsToPropertyType()
    {
        var mapping = new TableMappingBuilder<Item>(null, "items").ConflictOn(i => i.Sku).Build();

        // An int4 column read into a long parameter.
        var row = Assert.IsType<Item>(mapping.Materialize([7, "B-2"]));

        Assert.Equal(7L, row.Id);
        Assert.Equal("B-2", row.Sku);
    }

    [Fact]
    public void Materialize_RecordWithExtraProperty_ConstructorThenSetter()
    {
        var mapping = new TableMappingBuilder<Product>(null, "products").ConflictOn(p => p.Sku).Build();

        Assert.Equal(["id", "sku", "note"], mapping.Columns.Select(c => c.ColumnName));
        var row = Assert.IsType<Product>(mapping.Materialize([1L, "C-3", "fragile"]));

        Assert.Equal(1L, row.Id);
        Assert.Equal("C-3", row.Sku);
        Assert.Equal("fragile", row.Note);
    }

    [Fact]
    public void Materialize_ClassWithSetters_SetsEveryColumn()
    {
        var mapping = new TableMappingBuilder<Customer>(null, "customers").ConflictOn(c => c.Email).Build();
        var created = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

        var row = Assert.IsType<Customer>(mapping.Materialize([5L, "a@example.com", created, DBNull.Value]));

        Assert.Equal(5L, row.Id);
        Assert.Equal("a@example.com", row.Email);
        Assert.Equal(new DateTimeOffset(created), row.CreatedAt);
        Assert.Null(row.Nickname);
    }

    [Fact]
    public void Materialize_NullForNonNullableValueType_ThrowsInvalidCast()
    {
        var mapping = new TableMappingBuilder<Customer>(null, "customers").ConflictOn(c => c.Email).Build();

        var ex = Assert.Throws<InvalidCastException>(() => mapping.Materialize([null, "a@example.com", DateTimeOffset.UnixEpoch, null]));

        Assert.Equal("The database returned NULL for a non-nullable Int64 property; make the property nullable.", ex.Message);
    }

    [Fact]
    public void Build_RecordWithIgnoredConstructorParameter_ThrowsTableMappingException()
    {
        var builder = new TableMappingBuilder<Item>(null, "items").ConflictOn(i => i.Id).Ignore(i => i.Sku);

        var ex = Assert.Throws<TableMappingException>(builder.Build);

        Assert.EndsWith(
            "type Item needs a public parameterless constructor or one whose parameters are named after its mapped properties.",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void InsertColumns_GeneratedExcluded_ColumnsKeepPropertyOrder()
    {
        var mapping = new TableMappingBuilder<Customer>("crm", "customers").ConflictOn(c => c.Email).Generated(c => c.Id, c => c.CreatedAt).Build();

        Assert.Equal(["id", "email", "created_at", "nickname"], mapping.Columns.Select(c => c.ColumnName));
        Assert.Equal(["email", "nickname"], mapping.InsertColumns.Select(c => c.ColumnName));
        Assert.Equal("crm.customers", mapping.DisplayName);
        Assert.Equal("\"crm\".\"customers\"", mapping.QualifiedName);
    }

    private sealed record Item(long Id, string Sku);

    private sealed record Product(long Id, string Sku)
    {
        public string? Note { get; set; }
    }

    private sealed class Customer
    {
        public long Id { get; set; }

        public string Email { get; set; } = string.Empty;

        public DateTimeOffset CreatedAt { get; set; }

        public string? Nickname { get; set; }
    }
}
