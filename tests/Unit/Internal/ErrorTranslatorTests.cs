// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IdempotentWrites.UnitTests.Internal;

public class ErrorTranslatorTests
{
    private readonly ErrorTranslator _translator = new(NullLogger.Instance);

    [Fact]
    public void TranslateWithoutCatalog_UniqueViolation_UniqueViolationException()
    {
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");

        var ex = Assert.IsType<UniqueViolationException>(ErrorTranslator.TranslateWithoutCatalog(error));

        Assert.Equal("23505", ex.SqlState);
        Assert.Same(error, ex.InnerException);
        Assert.Equal("public", ex.SchemaName);
        Assert.Equal("users", ex.TableName);
        Assert.Equal("users_email_key", ex.ConstraintName);
        Assert.Empty(ex.Columns);
        Assert.Empty(ex.Expressions);
        Assert.False(ex.IsPrimaryKey);
        Assert.Null(ex.Values);
        Assert.False(ex.IsTransient);
        Assert.Equal("Duplicate key: unique constraint \"users_email_key\" in table public.users already holds a row with these values.", ex.Message);
    }

    [Fact]
    public void TranslateWithoutCatalog_ShortCtorUniqueViolation_UnknownNames()
    {
        var error = new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505");

        var ex = Assert.IsType<UniqueViolationException>(ErrorTranslator.TranslateWithoutCatalog(error));

        Assert.Equal("23505", ex.SqlState);
        Assert.Same(error, ex.InnerException);
        Assert.Null(ex.TableName);
        Assert.Null(ex.ConstraintName);
        Assert.Equal("Duplicate key: unique constraint \"(unknown)\" already holds a row with these values.", ex.Message);
    }

    [Fact]
    public void TranslateWithoutCatalog_ForeignKeyViolation_TypedException()
    {
        var error = PostgresErrors.Create("23503", tableName: "orders", constraintName: "orders_user_id_fkey");

        var ex = Assert.IsType<ForeignKeyViolationException>(ErrorTranslator.TranslateWithoutCatalog(error));

        Assert.Equal("orders_user_id_fkey", ex.ConstraintName);
    }

    [Fact]
    public void TranslateWithoutCatalog_UnknownSqlState_Null() => Assert.Null(ErrorTranslator.TranslateWithoutCatalog(PostgresErrors.Create("42P01")));

    [Theory]
    [InlineData("23503", typeof(ForeignKeyViolationException), false)]
    [InlineData("23502", typeof(NotNullViolationException), false)]
    [InlineData("23514", typeof(CheckViolationException), false)]
    [InlineData("23P01", typeof(ExclusionViolationException), false)]
    [InlineData("21000", typeof(CardinalityViolationException), false)]
    [InlineData("428C9", typeof(GeneratedAlwaysViolationException), false)]
    [InlineData("40001", typeof(TransientConflictException), true)]
    [InlineData("40P01", typeof(TransientConflictException), true)]
    [InlineData("55P03", typeof(TransientConflictException), true)]
    [InlineData("23505", typeof(UniqueViolationException), false)]
    public async Task TranslateAsync_SqlState_TypedException(string sqlState, Type expectedType, bool expectedTransient)
    {
        var error = new PostgresException("server message", "ERROR", "ERROR", sqlState);

        var result = await _translator.TranslateAsync(error, connection: null, mapping: null, insertValues: null, TestContext.Current.CancellationToken);

        Assert.IsType(expectedType, result);
        var ex = Assert.IsAssignableFrom<IdempotentWritesException>(result);
        Assert.Equal(sqlState, ex.SqlState);
        Assert.Equal(expectedTransient, ex.IsTransient);
        Assert.Equal(expectedTransient, PostgresResiliencePredicates.IsTransient(ex));
        Assert.Same(error, ex.InnerException);
    }

    [Theory]
    [InlineData("42P01")]
    [InlineData("55000")]
    [InlineData("57P01")]
    public async Task TranslateAsync_UntranslatedSqlState_ReturnsOriginal(string sqlState)
    {
        var error = new PostgresException("server message", "ERROR", "ERROR", sqlState);

        var result = await _translator.TranslateAsync(error, connection: null, mapping: null, insertValues: null, TestContext.Current.CancellationToken);

        Assert.Same(error, result);
    }

    [Fact]
    public async Task TranslateAsync_ForeignKeyViolation_NamesFlowThrough()
    {
        var error = PostgresErrors.Create("23503", schemaName: "shop", tableName: "orders", constraintName: "orders_user_id_fkey");

        var ex = Assert.IsType<ForeignKeyViolationException>(await TranslateAsync(error));

        Assert.Equal("shop", ex.SchemaName);
        Assert.Equal("orders", ex.TableName);
        Assert.Equal("orders_user_id_fkey", ex.ConstraintName);
        Assert.Equal(
            "Constraint \"orders_user_id_fkey\" on table orders was violated. The referenced row does not exist, or the row is still referenced.",
            ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_NotNullViolation_ColumnFlowsThrough()
    {
        var error = PostgresErrors.Create("23502", tableName: "users", columnName: "email");

        var ex = Assert.IsType<NotNullViolationException>(await TranslateAsync(error));

        Assert.Equal("public", ex.SchemaName);
        Assert.Equal("users", ex.TableName);
        Assert.Equal("email", ex.ColumnName);
        Assert.Null(ex.ConstraintName);
        Assert.Equal("Column \"email\" of table users is NOT NULL and the write gave it no value.", ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_CheckViolation_NamesFlowThrough()
    {
        var error = PostgresErrors.Create("23514", tableName: "orders", constraintName: "orders_amount_check");

        var ex = Assert.IsType<CheckViolationException>(await TranslateAsync(error));

        Assert.Equal("orders", ex.TableName);
        Assert.Equal("orders_amount_check", ex.ConstraintName);
        Assert.Equal(
            "Constraint \"orders_amount_check\" on table orders was violated. The row does not satisfy the constraint's condition.",
            ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_ExclusionViolation_NamesFlowThrough()
    {
        var error = PostgresErrors.Create("23P01", tableName: "bookings", constraintName: "bookings_room_during_excl");

        var ex = Assert.IsType<ExclusionViolationException>(await TranslateAsync(error));

        Assert.Equal("bookings", ex.TableName);
        Assert.Equal("bookings_room_during_excl", ex.ConstraintName);
        Assert.Equal(
            "Constraint \"bookings_room_during_excl\" on table bookings was violated. The row overlaps an existing row under the constraint's operators.",
            ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_CardinalityViolationOfMultiRowStatementWithoutRoutine_TableFlowsThroughCauseUnknown()
    {
        var ex = Assert.IsType<CardinalityViolationException>(await TranslateAsync(PostgresErrors.Create("21000", tableName: "users")));

        Assert.Equal("users", ex.TableName);
        Assert.Equal(CardinalityViolationCause.Unknown, ex.Cause);
        Assert.Equal(
            "A statement writing to users hit a cardinality violation: either it tried to change the same row twice (its rows hold the same " +
            "conflict key more than once: de-duplicate them) or a subquery used as a value, for example in a trigger, returned more than one " +
            "row (make it return at most one). The inner PostgresException names which.",
            ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_CardinalityViolationOfSingleRowStatement_SubqueryCause()
    {
        var error = PostgresErrors.Create("21000", tableName: null);

        var ex = Assert.IsType<CardinalityViolationException>(
            await _translator.TranslateAsync(error, connection: null, mapping: null, insertValues: ["a"], TestContext.Current.CancellationToken));

        Assert.Equal(CardinalityViolationCause.SubqueryReturnedMoreThanOneRow, ex.Cause);
        Assert.Equal(
            "A subquery used as a value returned more than one row while writing to the table, in a trigger, rule, column default or function " +
            "the write runs (the SDK's own SQL has none). This is not a duplicate key and not a fault of the input: make that subquery return " +
            "at most one row (a tighter WHERE, LIMIT 1 or an aggregate).",
            ex.Message);
    }

    [Theory]
    [InlineData("ExecOnConflictUpdate", false, CardinalityViolationCause.RowAffectedTwice)]
    [InlineData("ExecOnConflictUpdate", true, CardinalityViolationCause.RowAffectedTwice)]
    [InlineData("ExecMergeMatched", false, CardinalityViolationCause.RowAffectedTwice)]
    [InlineData("ExecScanSubPlan", false, CardinalityViolationCause.SubqueryReturnedMoreThanOneRow)]
    [InlineData("ExecSetParamPlan", false, CardinalityViolationCause.SubqueryReturnedMoreThanOneRow)]
    [InlineData("ExecSetParamPlan", true, CardinalityViolationCause.SubqueryReturnedMoreThanOneRow)]
    [InlineData(null, true, CardinalityViolationCause.SubqueryReturnedMoreThanOneRow)]
    [InlineData("SomeFutureRoutine", true, CardinalityViolationCause.SubqueryReturnedMoreThanOneRow)]
    [InlineData(null, false, CardinalityViolationCause.Unknown)]
    [InlineData("SomeFutureRoutine", false, CardinalityViolationCause.Unknown)]
    public void CardinalityCause_RoutineAndStatementShape_Cause(string? routine, bool singleRowStatement, CardinalityViolationCause expected)
        => Assert.Equal(expected, ErrorTranslator.CardinalityCause(PostgresErrors.Create("21000", routine: routine), singleRowStatement));

    [Fact]
    public void CardinalityViolationException_RowAffectedTwice_MessageSaysDeduplicateNotSubquery()
    {
        var ex = new CardinalityViolationException("users", CardinalityViolationCause.RowAffectedTwice, null);

        Assert.Equal(
            "A single statement tried to change the same row twice while writing to users: an INSERT … ON CONFLICT DO UPDATE or MERGE whose " +
            "source rows hold the same conflict key more than once. De-duplicate those rows by the conflict key; when the SDK wrote one row, " +
            "the statement ran in a trigger or function on the table, so fix it there.",
            ex.Message);
        Assert.Equal(CardinalityViolationCause.Unknown, new CardinalityViolationException("users", null).Cause);
    }

    [Fact]
    public async Task TranslateAsync_GeneratedAlways_TableAndColumnFlowThrough()
    {
        var ex = Assert.IsType<GeneratedAlwaysViolationException>(await TranslateAsync(PostgresErrors.Create("428C9", tableName: "users", columnName: "id")));

        Assert.Equal("users", ex.TableName);
        Assert.Equal("id", ex.ColumnName);
        Assert.Equal(
            "Column \"id\" of users is GENERATED ALWAYS and cannot be given a value; mark it Generated(...) in the table mapping.",
            ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_MissingFields_MessagesSayUnknown()
    {
        var foreignKey = await TranslateAsync(new PostgresException("m", "ERROR", "ERROR", "23503"));
        var notNull = await TranslateAsync(new PostgresException("m", "ERROR", "ERROR", "23502"));
        var cardinality = await TranslateAsync(new PostgresException("m", "ERROR", "ERROR", "21000"));

        Assert.Equal(
            "Constraint \"(unknown)\" on table (unknown) was violated. The referenced row does not exist, or the row is still referenced.",
            foreignKey.Message);
        Assert.Equal("Column \"(unknown)\" of table (unknown) is NOT NULL and the write gave it no value.", notNull.Message);
        Assert.Equal(CardinalityViolationCause.Unknown, Assert.IsType<CardinalityViolationException>(cardinality).Cause);
        Assert.StartsWith("A statement writing to the table hit a cardinality violation", cardinality.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("40001", "Serialization failure: a concurrent transaction changed or inserted a conflicting row. Retry the whole transaction.")]
    [InlineData("40P01", "Deadlock detected: PostgreSQL aborted this write to break a lock cycle. Retry it (inside a transaction: retry the transaction).")]
    [InlineData("55P03", "A lock needed by this write was not available (lock_timeout or NOWAIT). Retry it.")]
    public async Task TranslateAsync_TransientConflict_Message(string sqlState, string expectedMessage)
    {
        var ex = Assert.IsType<TransientConflictException>(await TranslateAsync(PostgresErrors.Create(sqlState)));

        Assert.Equal(expectedMessage, ex.Message);
    }

    [Fact]
    public async Task TranslateAsync_UniqueViolationWithoutConnection_NoCatalogColumns()
    {
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");

        var ex = Assert.IsType<UniqueViolationException>(await TranslateAsync(error));

        Assert.Equal("users_email_key", ex.ConstraintName);
        Assert.Equal("users", ex.TableName);
        Assert.Empty(ex.Columns);
        Assert.Null(ex.Values);
        Assert.Same(error, ex.InnerException);
    }

    [Fact]
    public async Task TranslateAsync_UniqueViolation_MessageHasNoKeyValues()
    {
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");

        var ex = await TranslateAsync(error);

        Assert.DoesNotContain("alice@example.com", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Key (", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TranslateAsync_GeneratedAlwaysWithoutColumn_MessageSaysWhatToDoWithoutUnknownPlaceholder()
    {
        var ex = Assert.IsType<GeneratedAlwaysViolationException>(await TranslateAsync(PostgresErrors.Create("428C9", tableName: null)));

        Assert.Null(ex.ColumnName);
        Assert.Equal(
            "A write gave an explicit value to a GENERATED ALWAYS column of the table; mark that column Generated(...) in the table mapping " +
            "(the columns the catalog declares GENERATED ALWAYS, as identity or generated columns, are the candidates).",
            ex.Message);
    }

    [Fact]
    public async Task TranslateCommitAsync_NonUniqueError_TypedWithoutOpeningConnection()
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=1");

        var ex = await _translator.TranslateCommitAsync(PostgresErrors.Create("23503", constraintName: "orders_user_fkey"), dataSource, TestContext.Current.CancellationToken);

        Assert.Equal("orders_user_fkey", Assert.IsType<ForeignKeyViolationException>(ex).ConstraintName);
    }

    [Fact]
    public async Task TranslateCommitAsync_UniqueViolationServerUnreachable_TypedWithoutColumns()
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=1");
        var error = PostgresErrors.Create("23505", constraintName: "users_email_key");

        var ex = Assert.IsType<UniqueViolationException>(await _translator.TranslateCommitAsync(error, dataSource, TestContext.Current.CancellationToken));

        Assert.Equal("users_email_key", ex.ConstraintName);
        Assert.Empty(ex.Columns);
        Assert.Same(error, ex.InnerException);
    }

    private Task<Exception> TranslateAsync(PostgresException error)
        => _translator.TranslateAsync(error, connection: null, mapping: null, insertValues: null, TestContext.Current.CancellationToken);
}
