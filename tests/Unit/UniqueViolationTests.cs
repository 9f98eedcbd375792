// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.UnitTests;

public class UniqueViolationTests
{
    [Fact]
    public void TryFrom_RawPostgresException_Found()
    {
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");

        Assert.True(UniqueViolation.TryFrom(error, out var violation));

        Assert.Equal("23505", violation.SqlState);
        Assert.Equal("users_email_key", violation.ConstraintName);
        Assert.Equal("users", violation.TableName);
        Assert.Equal("public", violation.SchemaName);
        Assert.Empty(violation.Columns);
        Assert.Same(error, violation.InnerException);
    }

    [Fact]
    public void TryFrom_WrappedTwice_Found()
    {
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");

        // EF Core's DbUpdateException over an inner wrapper, simulated.
        var wrapped = new InvalidOperationException("An error occurred while saving the entity changes.", new InvalidOperationException("inner", error));

        Assert.True(UniqueViolation.TryFrom(wrapped, out var violation));
        Assert.Same(error, violation.InnerException);
        Assert.Equal("users_email_key", violation.ConstraintName);
    }

    [Fact]
    public void TryFrom_InsideAggregateException_Found()
    {
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");
        var aggregate = new AggregateException(
            new InvalidOperationException("first"),
            new InvalidOperationException("second", error));

        Assert.True(UniqueViolation.TryFrom(aggregate, out var violation));
        Assert.Same(error, violation.InnerException);
    }

    [Fact]
    public void TryFrom_AggregateWithoutViolation_False()
    {
        var aggregate = new AggregateException(new InvalidOperationException("first"), PostgresErrors.Create("23503"));

        Assert.False(UniqueViolation.TryFrom(aggregate, out var violation));
        Assert.Null(violation);
    }

    [Fact]
    public void TryFrom_ExistingUniqueViolationException_SameInstance()
    {
        var existing = new UniqueViolationException("public", "users", "users_email_key", ["email"], [], false, null, null);

        Assert.True(UniqueViolation.TryFrom(new InvalidOperationException("outer", existing), out var violation));
        Assert.Same(existing, violation);
        Assert.True(UniqueViolation.TryFrom(existing, out violation));
        Assert.Same(existing, violation);
    }

    [Fact]
    public void TryFrom_ForeignKeyViolation_False()
    {
        Assert.False(UniqueViolation.TryFrom(PostgresErrors.Create("23503", constraintName: "orders_user_id_fkey"), out var violation));
        Assert.Null(violation);
    }

    [Fact]
    public void TryFrom_TranslatedOtherViolation_False()
    {
        var foreignKey = new ForeignKeyViolationException("public", "orders", "orders_user_id_fkey", PostgresErrors.Create("23503"));

        Assert.False(UniqueViolation.TryFrom(foreignKey, out _));
    }

    [Fact]
    public void TryFrom_Null_False()
    {
        Assert.False(UniqueViolation.TryFrom(null, out var violation));
        Assert.Null(violation);
    }

    [Fact]
    public void TryFrom_UnrelatedException_False()
    {
        Assert.False(UniqueViolation.TryFrom(new NpgsqlException("connection reset"), out var violation));
        Assert.Null(violation);
    }
}
