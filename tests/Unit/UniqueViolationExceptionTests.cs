// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.UnitTests;

public class UniqueViolationExceptionTests
{
    [Fact]
    public void Ctor_ColumnsAndValues_MessageNamesColumnsButNoValues()
    {
        var values = new Dictionary<string, object?> { ["tenant_id"] = "tenant-7f3a", ["email"] = "alice@example.com" };

        var ex = new UniqueViolationException("public", "users", "users_tenant_email_key", ["tenant_id", "email"], [], false, values, null);

        Assert.Equal(
            "Duplicate key: unique constraint \"users_tenant_email_key\" on (tenant_id, email) in table public.users already holds a row with these values.",
            ex.Message);
        Assert.DoesNotContain("alice@example.com", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-7f3a", ex.ToString(), StringComparison.Ordinal);
        Assert.Same(values, ex.Values);
    }

    [Fact]
    public void Ctor_ExpressionKey_MessageNamesExpressionsAndTheColumnsTheyRead()
    {
        var ex = new UniqueViolationException(null, "users", "users_lower_email_idx", ["tenant_id", "email"], ["lower(email)"], false, null, null);

        Assert.Equal(
            "Duplicate key: unique constraint \"users_lower_email_idx\" on (lower(email)) over columns (tenant_id, email) in table users already holds a row with these values.",
            ex.Message);
        Assert.Equal(["tenant_id", "email"], ex.Columns);
        Assert.Equal(["lower(email)"], ex.Expressions);
    }

    [Fact]
    public void Ctor_ExpressionKeyWithoutColumns_MessageNamesExpressionsOnly()
    {
        var ex = new UniqueViolationException(null, "users", "users_lower_email_idx", [], ["lower(email)"], false, null, null);

        Assert.Equal(
            "Duplicate key: unique constraint \"users_lower_email_idx\" on (lower(email)) in table users already holds a row with these values.",
            ex.Message);
    }

    [Fact]
    public void Ctor_PrimaryKey_Properties()
    {
        var ex = new UniqueViolationException("public", "users", "users_pkey", ["id"], [], true, null, null);

        Assert.True(ex.IsPrimaryKey);
        Assert.Equal("23505", ex.SqlState);
        Assert.False(ex.IsTransient);
        Assert.Null(ex.InnerException);
        Assert.Equal(["id"], ex.Columns);
    }

    [Fact]
    public void Ctor_NullColumns_Throws() => Assert.Throws<ArgumentNullException>(() => new UniqueViolationException(null, null, null, null!, [], false, null, null));
}
