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
                => $"authentication failed for user \"{connection?.Username}\" at {where} ({pg.SqlState}: " +
                    $"{pg.MessageText}); check --connection or PGUSER / PGPASSWORD",
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } pg
                => $"database \"{connection?.Database}\" does not exist at {where} ({pg.SqlState}); check --connection or PGDATABASE",
            PostgresException { SqlState: PostgresErrorCodes.InvalidColumnReference } pg
                => $"{pg.MessageText}: no unique index or constraint is on exactly the conflict columns; create " +
                    "one, or name the columns of an existing one",
            PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } pg
                => $"{pg.MessageText} (names are case-sensitive; check the table name and --schema)",
            PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege } pg
                => $"{pg.MessageText}; connect as a role that has the privilege, or have it granted",
            PostgresException { SqlState: PostgresErrorCodes.InvalidSchemaName } pg
                => $"{pg.MessageText} (names are case-sensitive; check --schema, or create the schema first)",
            PostgresException pg => $"{pg.MessageText} ({pg.SqlState}; " +
                $"{(pg.Hint is { Length: > 0 } hint ? "hint: " + hint : GenericHint(pg.SqlState))})",
            NpgsqlException { InnerException: SocketException socket }
                => $"cannot connect to PostgreSQL at {where}: {socket.Message}; is the server running and accepting " +
                    "TCP connections? (check --connection or PGHOST / PGPORT)",
            NpgsqlException { InnerException: TimeoutException }
                => $"timed out connecting to PostgreSQL at {where}; check --connection or PGHOST / PGPORT",
            NpgsqlException npgsql when IsNotPostgres(npgsql)
                => $"the server at {where} is not PostgreSQL (it answered the PostgreSQL handshake with something " +
                    "else, e.g. an HTTP server does); check the host and port in --connection or PGHOST / PGPORT",
            NpgsqlException { InnerException: EndOfStreamException }
                => $"the server at {where} closed the connection unexpectedly: is it PostgreSQL? (a server that is " +
                    "not, such as an HTTP server, answers this way when SSL is disabled); check the host and port " +
                    "in --connection or PGHOST / PGPORT",
            NpgsqlException { Message: var text } when text.Contains("password", StringComparison.OrdinalIgnoreCase)
                => $"authentication failed for user \"{connection?.Username}\" at {where}: {text}; check --connection or PGPASSWORD",
            NpgsqlException npgsql => $"{npgsql.Message}{(npgsql.InnerException is { } inner ? ": " + FirstLine(inner.Message) : string.Empty)} " +
                $"({where})",
            ArgumentException { ParamName: { } name } argument => WithoutParameter(argument.Message, name),
            ArgumentException or InvalidOperationException or FormatException or IdempotentWritesException => exception.Message,
            _ => $"{exception.GetType().Name}: {exception.Message}",
        };
        return Scrub(FirstLine(message), connection?.Password);
    }

    // Messages are built without the password; this is a second line of defence against a driver message that echoes it.
    // Passwords shorter than 4 characters are not scrubbed: they match inside ordinary words and would garble the message.
    public static string Scrub(string message, string? password)
        => password is not { Length: >= MinScrubbedLength } ? message : message.Replace(password, "********", StringComparison.Ordinal);

    // Npgsql's reply to a server that does not speak the protocol: "Received unknown response H for SSLRequest" (an
    // HTTP server's "HTTP/1.1 …" starts with H) with SSL, "Unknown message code" or an end of stream without it.
    private static bool IsNotPostgres(Exception exception)
    {
        for (var e = exception; e is not null and not PostgresException; e = e.InnerException)
        {
            if (e.Message.Contains("for SSLRequest", StringComparison.Ordinal)
                || e.Message.Contains("Unknown message code", StringComparison.OrdinalIgnoreCase)
                || e.Message.Contains("unknown response", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // By SQLSTATE class, for errors no case above names.
    private static string GenericHint(string sqlState) => sqlState[..2] switch
    {
        "08" => "the connection failed; check the server and run the command again",
        "22" or "23" => "the data was refused; fix the value or row named above",
        "25" or "40" => "a concurrent transaction interfered; run the command again",
        "42" => "check the names and options given; names are case-sensitive",
        "53" => "the server is out of a resource (disk, memory, connections); free it and run the command again",
        "55" or "57" => "the server cancelled or refused the statement (lock, shutdown, timeout); run the command again",
        _ => "see the PostgreSQL documentation for this error code",
    };

    // ArgumentException appends " (Parameter 'name')": an API detail the user never typed.
    private static string WithoutParameter(string message, string name)
    {
        var first = FirstLine(message);
        var suffix = $" (Parameter '{name}')";
        return first.EndsWith(suffix, StringComparison.Ordinal) ? first[..^suffix.Length] : first;
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
