// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Cli.Internal;

namespace IdempotentWrites.UnitTests.Cli;

public class TableNameTests
{
    [Theory]
    [InlineData("users", null, null, "users")]
    [InlineData("billing.Invoices", null, "billing", "Invoices")]
    [InlineData("a.b.c", null, null, "a.b.c")]
    [InlineData("v1.2", "s", "s", "v1.2")]
    [InlineData(".hidden", null, null, ".hidden")]
    public void Parse_SingleDotSplits_ExplicitSchemaTakesNameLiterally(string table, string? schema, string? expectedSchema, string expectedTable)
        => Assert.Equal((expectedSchema, expectedTable), TableName.Parse(table, schema));
}
