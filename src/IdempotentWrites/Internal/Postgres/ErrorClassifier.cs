// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Postgres;

// Transient or not, for any exception; the SQLSTATEs are classified by SqlStates, the one table (DESIGN §2).
internal static class ErrorClassifier
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        IdempotentWritesException iw => iw.IsTransient,
        PostgresException pg => IsTransientSqlState(pg.SqlState),
        NpgsqlException npgsql => npgsql.IsTransient
            || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException

            // A multi-host connection string's "No suitable host was found": every host failed, each for its own reason
            // (the primary down, the standby not promoted yet). Transient when every reason is.
            || (npgsql.InnerException is AggregateException { InnerExceptions.Count: > 0 } all && all.InnerExceptions.All(IsTransient)),
        TimeoutException => true,
        _ => false,
    };

    public static bool IsTransientSqlState(string sqlState) => SqlStates.IsTransient(sqlState);
}
