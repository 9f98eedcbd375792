// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Postgres;

// The one transient table (DESIGN §2). Npgsql's own IsTransient is wider (it calls 55000 transient); this overrides it.
internal static class ErrorClassifier
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        IdempotentWritesException iw => iw.IsTransient,
        PostgresException pg => IsTransientSqlState(pg.SqlState),
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        TimeoutException => true,
        _ => false,
    };

    public static bool IsTransientSqlState(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.SerializationFailure => true,      // 40001
        PostgresErrorCodes.DeadlockDetected => true,          // 40P01
        PostgresErrorCodes.LockNotAvailable => true,          // 55P03
        PostgresErrorCodes.AdminShutdown => true,             // 57P01
        PostgresErrorCodes.CrashShutdown => true,             // 57P02
        PostgresErrorCodes.CannotConnectNow => true,          // 57P03
        PostgresErrorCodes.TooManyConnections => true,        // 53300
        PostgresErrorCodes.UniqueViolation => false,          // 23505: a fact, not a fault
        PostgresErrorCodes.ExclusionViolation => false,       // 23P01
        PostgresErrorCodes.CardinalityViolation => false,     // 21000
        SqlStates.GeneratedAlways => false,          // 428C9
        PostgresErrorCodes.ObjectNotInPrerequisiteState => false, // 55000: configuration, retrying cannot help
        _ => sqlState.StartsWith("08", StringComparison.Ordinal),
    };
}
