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
            || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        TimeoutException => true,
        _ => false,
    };

    public static bool IsTransientSqlState(string sqlState) => SqlStates.IsTransient(sqlState);
}
