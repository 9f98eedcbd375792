// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Catalog;
using IdempotentWrites.Internal.Mapping;

namespace IdempotentWrites.UnitTests.Internal;

public sealed class IndexDefinitionTests
{
    [Fact]
    public void ReportedColumns_ColumnAndExpressionKey_KeyColumnsThenColumnsTheExpressionsRead()
    {
        var index = Index([new IndexKey("tenant_id", "tenant_id"), new IndexKey(null, "lower(email)")], ["email"]);

        Assert.Equal(["tenant_id"], index.Columns);
        Assert.Equal(["lower(email)"], index.Expressions);
        Assert.Equal(["tenant_id", "email"], index.ReportedColumns);
    }

    [Fact]
    public void ReportedColumns_ExpressionReadsAKeyColumn_ListedOnce()
    {
        var index = Index([new IndexKey("email", "email"), new IndexKey(null, "(email || name)")], ["email", "name"]);

        Assert.Equal(["email"], index.Columns);
        Assert.Equal(["email", "name"], index.ReportedColumns);
    }

    [Fact]
    public void ReportedColumns_PlainIndex_KeyColumns()
    {
        var index = Index([new IndexKey("a", "a"), new IndexKey("b", "b")], []);

        Assert.Equal(["a", "b"], index.ReportedColumns);
        Assert.Empty(index.ExpressionColumns);
    }

    private static IndexDefinition Index(IReadOnlyList<IndexKey> keys, IReadOnlyList<string> expressionColumns)
        => new("users_key", "public", "users", false, false, null, false, keys) { ExpressionColumns = expressionColumns };
}
