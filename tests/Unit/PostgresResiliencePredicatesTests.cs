// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net.Sockets;
using Npgsql;

namespace IdempotentWrites.UnitTests;

public class PostgresResiliencePredicatesTests
{
    [Theory]
    [InlineData("40001", true)] // serialization_failure
    [InlineData("40P01", true)] // deadlock_detected
    [InlineData("55P03", true)] // lock_not_available
    [InlineData("57P01", true)] // admin_shutdown
    [InlineData("57P02", true)] // crash_shutdown
    [InlineData("57P03", true)] // cannot_connect_now
    [InlineData("53300", true)] // too_many_connections
    [InlineData("08006", true)] // connection_failure
    [InlineData("08001", true)] // sqlclient_unable_to_establish_sqlconnection
    [InlineData("08000", true)] // connection_exception
    [InlineData("25006", true)] // read_only_sql_transaction: a standby, after a failover
    [InlineData("23505", false)] // unique_violation
    [InlineData("23P01", false)] // exclusion_violation
    [InlineData("21000", false)] // cardinality_violation
    [InlineData("428C9", false)] // generated_always
    [InlineData("55000", false)] // object_not_in_prerequisite_state
    [InlineData("23503", false)] // foreign_key_violation
    [InlineData("42P01", false)] // undefined_table
    [InlineData("23502", false)] // not_null_violation
    [InlineData("57014", false)] // query_canceled
    [InlineData("53200", false)] // out_of_memory
    [InlineData("", false)]
    public void IsTransientSqlState_Table(string sqlState, bool expected) => Assert.Equal(expected, PostgresResiliencePredicates.IsTransientSqlState(sqlState));

    [Theory]
    [InlineData("40001", true)]
    [InlineData("40P01", true)]
    [InlineData("55P03", true)]
    [InlineData("57P01", true)]
    [InlineData("53300", true)]
    [InlineData("08006", true)]
    [InlineData("23505", false)]
    [InlineData("23P01", false)]
    [InlineData("21000", false)]
    [InlineData("428C9", false)]
    [InlineData("42P01", false)]
    public void IsTransient_PostgresException_FollowsSqlStateTable(string sqlState, bool expected) => Assert.Equal(expected, PostgresResiliencePredicates.IsTransient(new PostgresException("message", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void IsTransient_NoSuitableHost_TrueWhenEveryHostFailedTransiently()
    {
        var refused = new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111));
        var allDown = new NpgsqlException("No suitable host was found.", new AggregateException(refused, refused));
        var oneBroken = new NpgsqlException("No suitable host was found.", new AggregateException(refused, new PostgresException("m", "FATAL", "FATAL", "28P01")));

        Assert.True(PostgresResiliencePredicates.IsTransient(allDown));
        Assert.False(PostgresResiliencePredicates.IsTransient(oneBroken));
        Assert.False(PostgresResiliencePredicates.IsTransient(new NpgsqlException("No suitable host was found.")));
    }

    [Fact]
    public void IsTransient_ObjectNotInPrerequisiteState_FalseAlthoughNpgsqlSaysTransient()
    {
        var error = new PostgresException("cannot use a deferrable unique constraint for ON CONFLICT", "ERROR", "ERROR", "55000");

        Assert.True(error.IsTransient);
        Assert.False(PostgresResiliencePredicates.IsTransient(error));
    }

    [Fact]
    public void IsTransient_UniqueViolationAlthoughWrapped_False()
    {
        var error = new PostgresException("duplicate key", "ERROR", "ERROR", "23505");

        Assert.False(PostgresResiliencePredicates.IsTransient(error));
        Assert.False(PostgresResiliencePredicates.IsTransient(new UniqueViolationException(null, null, null, [], [], false, null, error)));
    }

    [Fact]
    public void IsTransient_TransientConflictException_True() => Assert.True(PostgresResiliencePredicates.IsTransient(new TransientConflictException("retry", "40001", null)));

    [Fact]
    public void IsTransient_ConflictingRowNotFoundException_False() => Assert.False(PostgresResiliencePredicates.IsTransient(new ConflictingRowNotFoundException("users", 2, "a BEFORE INSERT trigger (t) changes the key")));

    [Fact]
    public void IsTransient_TableMappingException_False() => Assert.False(PostgresResiliencePredicates.IsTransient(new TableMappingException("users", "no conflict target")));

    [Fact]
    public void IsTransient_TimeoutException_True() => Assert.True(PostgresResiliencePredicates.IsTransient(new TimeoutException()));

    [Fact]
    public void IsTransient_NpgsqlExceptionOverIOException_True() => Assert.True(PostgresResiliencePredicates.IsTransient(new NpgsqlException("Exception while reading from stream", new IOException("reset"))));

    [Fact]
    public void IsTransient_NpgsqlExceptionOverSocketException_True() => Assert.True(PostgresResiliencePredicates.IsTransient(new NpgsqlException("Failed to connect", new SocketException())));

    [Fact]
    public void IsTransient_PlainNpgsqlException_False() => Assert.False(PostgresResiliencePredicates.IsTransient(new NpgsqlException("Something else")));

    [Fact]
    public void IsTransient_UnrelatedException_False() => Assert.False(PostgresResiliencePredicates.IsTransient(new InvalidOperationException("40001")));

    [Fact]
    public void IsTransient_Null_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => PostgresResiliencePredicates.IsTransient(null!));

        Assert.Equal("exception", ex.ParamName);
    }

    [Fact]
    public void IsTransientSqlState_Null_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => PostgresResiliencePredicates.IsTransientSqlState(null!));

        Assert.Equal("sqlState", ex.ParamName);
    }
}
