// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Postgres;

// What an error's SQLSTATE means to IdempotentWrites, from the error's code alone (never its localized text). The one table
// of every package: the core's typed errors and retries read it, and IdempotentWrites.AspNetCore links this file (problem
// details, key store). Npgsql's PostgresErrorCodes names the codes; this says what each is for here.
internal enum SqlStateKind
{
    // Anything not below: passed on as it is.
    Other,

    // Integrity violations (class 23) and their relatives: facts about the data, never retried.
    UniqueViolation,
    ForeignKeyViolation,
    NotNullViolation,
    CheckViolation,
    ExclusionViolation,

    // 21000: a statement would affect one row twice (ON CONFLICT DO UPDATE) or a subquery returned several rows.
    CardinalityViolation,

    // 428C9: a value written into a GENERATED ALWAYS column.
    GeneratedAlways,

    // 57014: statement_timeout, or a cancel request.
    QueryCanceled,

    // 40001, 40P01, 55P03: a concurrent transaction got in the way; running the work again can succeed.
    TransientConflict,

    // 57P01-57P03 and class 08: the server went away or refused the connection, before anything ran on it.
    ConnectionLost,

    // 53300: every connection slot is taken, for now.
    TooManyConnections,
}

internal static class SqlStates
{
    // Not named by Npgsql's PostgresErrorCodes.
    public const string GeneratedAlways = "428C9";

    public static SqlStateKind Classify(string? sqlState) => sqlState switch
    {
        PostgresErrorCodes.UniqueViolation => SqlStateKind.UniqueViolation,                  // 23505
        PostgresErrorCodes.ForeignKeyViolation => SqlStateKind.ForeignKeyViolation,          // 23503
        PostgresErrorCodes.NotNullViolation => SqlStateKind.NotNullViolation,                // 23502
        PostgresErrorCodes.CheckViolation => SqlStateKind.CheckViolation,                    // 23514
        PostgresErrorCodes.ExclusionViolation => SqlStateKind.ExclusionViolation,            // 23P01
        PostgresErrorCodes.CardinalityViolation => SqlStateKind.CardinalityViolation,        // 21000
        GeneratedAlways => SqlStateKind.GeneratedAlways,                                      // 428C9
        PostgresErrorCodes.QueryCanceled => SqlStateKind.QueryCanceled,                      // 57014
        PostgresErrorCodes.SerializationFailure => SqlStateKind.TransientConflict,           // 40001
        PostgresErrorCodes.DeadlockDetected => SqlStateKind.TransientConflict,               // 40P01
        PostgresErrorCodes.LockNotAvailable => SqlStateKind.TransientConflict,               // 55P03
        PostgresErrorCodes.AdminShutdown => SqlStateKind.ConnectionLost,                     // 57P01
        PostgresErrorCodes.CrashShutdown => SqlStateKind.ConnectionLost,                     // 57P02
        PostgresErrorCodes.CannotConnectNow => SqlStateKind.ConnectionLost,                  // 57P03
        PostgresErrorCodes.TooManyConnections => SqlStateKind.TooManyConnections,            // 53300

        // 25006: a write on a server in recovery. The connection reaches a standby (a pooled connection to a demoted
        // primary, a virtual host not yet moved after a failover); a new connection reaches the primary.
        PostgresErrorCodes.ReadOnlySqlTransaction => SqlStateKind.ConnectionLost,
        { } code when code.StartsWith("08", StringComparison.Ordinal) => SqlStateKind.ConnectionLost,
        _ => SqlStateKind.Other,                // 55000 among them: configuration, retrying cannot help
    };

    // Transient: the same work can succeed when run again (DESIGN §2). Npgsql's own IsTransient is wider (it calls 55000
    // transient); this overrides it.
    public static bool IsTransient(string? sqlState)
        => Classify(sqlState) is SqlStateKind.TransientConflict or SqlStateKind.ConnectionLost or SqlStateKind.TooManyConnections;

    // Class 42, syntax error or access rule violation: a missing table or schema, a missing privilege. The database is up;
    // waiting does not fix it.
    public static bool IsSyntaxOrAccessRuleViolation(string? sqlState)
        => sqlState is not null && sqlState.StartsWith("42", StringComparison.Ordinal);
}
