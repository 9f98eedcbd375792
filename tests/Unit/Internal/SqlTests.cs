// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.UnitTests.Internal;

public class SqlTests
{
    [Theory]
    [InlineData("users", "\"users\"")]
    [InlineData("Users", "\"Users\"")]
    [InlineData("a\"b", "\"a\"\"b\"")]
    [InlineData("\"", "\"\"\"\"")]
    [InlineData("drop table x; --", "\"drop table x; --\"")]
    [InlineData("with space", "\"with space\"")]
    public void Quote_Identifier_AlwaysQuotedQuotesDoubled(string identifier, string expected) => Assert.Equal(expected, Sql.Quote(identifier));

    [Fact]
    public void Quote_NulCharacter_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sql.Quote("a\0b"));

        Assert.Equal("identifier", ex.ParamName);
        Assert.StartsWith("Identifier 'a\\0b' contains a NUL character.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QualifiedName_WithSchema_BothQuoted() => Assert.Equal("\"Billing\".\"Invoices\"", Sql.QualifiedName("Billing", "Invoices"));

    [Fact]
    public void QualifiedName_WithoutSchema_TableOnly() => Assert.Equal("\"invoices\"", Sql.QualifiedName(null, "invoices"));

    [Fact]
    public void QualifiedName_DotInName_StaysInsideQuotes() => Assert.Equal("\"a.b\".\"c.d\"", Sql.QualifiedName("a.b", "c.d"));
}
