// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net.Sockets;
using Npgsql;

namespace IdempotentWrites.Cli.Internal;

// One line per failure, naming what to fix. The password is scrubbed from every message, whatever produced it.
internal static class CliErrors
{
    private const int MinScrubbedLength = 4;

    public static string Describe(Exception exception, NpgsqlConnectionStringBuilder? connection)
    {
        var where = connection is null ? "the server" : CliConnection.Describe(connection);
        var message = exception switch
        {
            PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } pg
                => $"authentication failed for user \"{connection?.Username}\" at {where} ({pg.SqlState}: {pg.MessageText}); check --connection or PGUSER / PGPASSWORD",
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } pg
                => $"database \"{connection?.Database}\" does not exist at {where} ({pg.SqlState}); check --connection or PGDATABASE",
            PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
            NpgsqlException { InnerException: SocketException socket }
                => $"cannot connect to PostgreSQL at {where}: {socket.Message}; is the server running and accepting TCP connections? (check --connection or PGHOST / PGPORT)",
            NpgsqlException { InnerException: TimeoutException }
                => $"timed out connecting to PostgreSQL at {where}; check --connection or PGHOST / PGPORT",
            NpgsqlException { Message: var text } when text.Contains("password", StringComparison.OrdinalIgnoreCase)
                => $"authentication failed for user \"{connection?.Username}\" at {where}: {text}; check --connection or PGPASSWORD",
            NpgsqlException npgsql => $"{npgsql.Message} ({where})",
            ArgumentException or InvalidOperationException or FormatException or IdempotentWritesException => exception.Message,
            _ => $"{exception.GetType().Name}: {exception.Message}",
        };
        return Scrub(FirstLine(message), connection?.Password);
    }

    // Messages are built without the password; this is a second line of defence against a driver message that echoes it.
    // Passwords shorter than 4 characters are not scrubbed: they match inside ordinary words and would garble the message.
    public static string Scrub(string message, string? password)
        => password is not { Length: >= MinScrubbedLength } ? message : message.Replace(password, "********", StringComparison.Ordinal);

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
