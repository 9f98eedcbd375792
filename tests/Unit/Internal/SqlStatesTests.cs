// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.UnitTests.Internal;

// The one SQLSTATE table of every package (the core, and IdempotentWrites.AspNetCore, which links it).
public class SqlStatesTests
{
    // The kind by name: SqlStateKind is internal, and a public test method cannot take it.
    [Theory]
    [InlineData("23505", nameof(SqlStateKind.UniqueViolation))]
    [InlineData("23503", nameof(SqlStateKind.ForeignKeyViolation))]
    [InlineData("23502", nameof(SqlStateKind.NotNullViolation))]
    [InlineData("23514", nameof(SqlStateKind.CheckViolation))]
    [InlineData("23P01", nameof(SqlStateKind.ExclusionViolation))]
    [InlineData("21000", nameof(SqlStateKind.CardinalityViolation))]
    [InlineData("428C9", nameof(SqlStateKind.GeneratedAlways))]
    [InlineData("57014", nameof(SqlStateKind.QueryCanceled))]
    [InlineData("40001", nameof(SqlStateKind.TransientConflict))]
    [InlineData("40P01", nameof(SqlStateKind.TransientConflict))]
    [InlineData("55P03", nameof(SqlStateKind.TransientConflict))]
    [InlineData("57P01", nameof(SqlStateKind.ConnectionLost))]
    [InlineData("57P02", nameof(SqlStateKind.ConnectionLost))]
    [InlineData("57P03", nameof(SqlStateKind.ConnectionLost))]
    [InlineData("08006", nameof(SqlStateKind.ConnectionLost))]
    [InlineData("08P01", nameof(SqlStateKind.ConnectionLost))]
    [InlineData("53300", nameof(SqlStateKind.TooManyConnections))]
    [InlineData("55000", nameof(SqlStateKind.Other))]
    [InlineData("42P01", nameof(SqlStateKind.Other))]
    [InlineData("", nameof(SqlStateKind.Other))]
    [InlineData(null, nameof(SqlStateKind.Other))]
    public void Classify_Table(string? sqlState, string expected) => Assert.Equal(expected, SqlStates.Classify(sqlState).ToString());

    [Theory]
    [InlineData("42P01", true)]
    [InlineData("42501", true)]
    [InlineData("428C9", true)]
    [InlineData("3F000", false)]
    [InlineData("08006", false)]
    [InlineData(null, false)]
    public void IsSyntaxOrAccessRuleViolation_Class42(string? sqlState, bool expected) => Assert.Equal(expected, SqlStates.IsSyntaxOrAccessRuleViolation(sqlState));
}
