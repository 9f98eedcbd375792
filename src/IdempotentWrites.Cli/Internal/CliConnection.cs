// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using Npgsql;

namespace IdempotentWrites.Cli.Internal;

// The connection: --connection (an Npgsql connection string) or, like psql, the libpq environment variables.
internal static class CliConnection
{
    public const string ApplicationName = "iw";

    public static NpgsqlConnectionStringBuilder Build(string? connectionString, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            var fromOption = new NpgsqlConnectionStringBuilder(connectionString);
            fromOption.ApplicationName ??= ApplicationName;
            return fromOption;
        }

        string? Get(string name) => environment(name) is { Length: > 0 } value ? value : null;

        // libpq's defaults: user = the operating-system user, database = the user name.
        var user = Get("PGUSER") ?? Get("USER") ?? System.Environment.UserName;
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Get("PGHOST") ?? "localhost",
            Username = user,
            Database = Get("PGDATABASE") ?? user,
            ApplicationName = Get("PGAPPNAME") ?? ApplicationName,
        };
        if (Get("PGPORT") is { } port)
        {
            builder.Port = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and < 65536
                ? number
                : throw new ArgumentException($"PGPORT is not a port number: '{port}'.");
        }

        if (Get("PGPASSWORD") is { } password)
        {
            builder.Password = password;
        }

        if (Get("PGPASSFILE") is { } passfile)
        {
            builder.Passfile = passfile;
        }

        if (Get("PGSSLMODE") is { } sslMode)
        {
            builder.SslMode = sslMode switch
            {
                "disable" => SslMode.Disable,
                "allow" => SslMode.Allow,
                "prefer" => SslMode.Prefer,
                "require" => SslMode.Require,
                "verify-ca" => SslMode.VerifyCA,
                "verify-full" => SslMode.VerifyFull,
                _ => throw new ArgumentException($"PGSSLMODE is not one of disable, allow, prefer, require, verify-ca, verify-full: '{sslMode}'."),
            };
        }

        if (Get("PGCONNECT_TIMEOUT") is { } timeout)
        {
            builder.Timeout = int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
                ? seconds
                : throw new ArgumentException($"PGCONNECT_TIMEOUT is not a number of seconds: '{timeout}'.");
        }

        return builder;
    }

    // Where we connect, for messages: never the password.
    public static string Describe(NpgsqlConnectionStringBuilder builder)
        => $"{builder.Host ?? "localhost"}:{builder.Port.ToString(CultureInfo.InvariantCulture)}";
}
