// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.UnitTests;

public class TextBulkTargetTests
{
    [Fact]
    public void Create_NamesTakenLiterallyAndCopied()
    {
        var columns = new List<string> { "id", "E-mail", "a.b" };

        var target = new TextBulkTarget("Billing", "contacts.2026", columns, ["E-mail"]);
        columns.Add("later");

        Assert.Equal("Billing", target.SchemaName);
        Assert.Equal("contacts.2026", target.TableName);
        Assert.Equal(["id", "E-mail", "a.b"], target.Columns);
        Assert.Equal(["E-mail"], target.KeyColumns);
        Assert.Equal("Billing.contacts.2026 (id, E-mail, a.b)", target.ToString());
    }

    [Fact]
    public void Create_NoSchema_SearchPath() => Assert.Null(new TextBulkTarget(null, "t", ["id"], ["id"]).SchemaName);

    [Fact]
    public void Create_NoColumns_NamesTheParameter()
        => Assert.Equal("columns", Assert.Throws<ArgumentException>(() => new TextBulkTarget(null, "t", [], ["id"])).ParamName);

    [Fact]
    public void Create_NoKeyColumns_NamesTheParameter()
        => Assert.Equal("keyColumns", Assert.Throws<ArgumentException>(() => new TextBulkTarget(null, "t", ["id"], [])).ParamName);

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void Create_BlankColumnName_Throws(string name)
        => Assert.Equal("columns", Assert.Throws<ArgumentException>(() => new TextBulkTarget(null, "t", ["id", name], ["id"])).ParamName);

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "t")]
    [InlineData(" ", "t")]
    public void Create_BlankTableOrSchema_Throws(string? schema, string table)
        => Assert.ThrowsAny<ArgumentException>(() => new TextBulkTarget(schema, table, ["id"], ["id"]));

    [Fact]
    public void Create_NullLists_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new TextBulkTarget(null, "t", null!, ["id"]));
        Assert.Throws<ArgumentNullException>(() => new TextBulkTarget(null, "t", ["id"], null!));
    }

    [Fact]
    public void Writer_NullDataSource_Throws() => Assert.Throws<ArgumentNullException>(() => new TextBulkWriter(null!));
}
