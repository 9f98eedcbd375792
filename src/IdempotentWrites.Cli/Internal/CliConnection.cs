// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace IdempotentWrites.Cli.Internal;

// The connection: --connection (an Npgsql connection string or, as psql takes it, a postgres:// or postgresql:// URI)
// or, like psql, the libpq environment variables. Every bad value is reported by its own name, never by Npgsql's.
internal static class CliConnection
{
    public const string ApplicationName = "iw";

    private static readonly string[] SslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

    public static NpgsqlConnectionStringBuilder Build(string? connectionString, Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return FromEnvironment(environment);
        }

        if (IsUri(connectionString))
        {
            // As in libpq, what the URI leaves out comes from the PG* variables and the defaults.
            var fromUri = FromEnvironment(environment);
            ApplyUri(fromUri, connectionString.Trim());
            return fromUri;
        }

        var fromOption = FromKeywords(connectionString);
        fromOption.ApplicationName ??= ApplicationName;
        return fromOption;
    }

    // Where we connect, for messages: never the password.
    public static string Describe(NpgsqlConnectionStringBuilder builder)
        => $"{builder.Host ?? "localhost"}:{builder.Port.ToString(CultureInfo.InvariantCulture)}";

    // The --connection argument to repeat in a printed command line, without the password (PGPASSWORD or the
    // password file supplies it again), or empty when the connection came from the PG* variables.
    public static string Arguments(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return string.Empty;
        }

        string safe;
        if (IsUri(connectionString))
        {
            safe = WithoutUriPassword(connectionString.Trim());
        }
        else
        {
            var generic = new DbConnectionStringBuilder();
            try
            {
                generic.ConnectionString = connectionString;
            }
            catch (ArgumentException)
            {
                return string.Empty;
            }

            foreach (var key in generic.Keys.Cast<string>()
                .Where(k => k.Equals("password", StringComparison.OrdinalIgnoreCase) || k.Equals("psw", StringComparison.OrdinalIgnoreCase))
                .ToList())
            {
                generic.Remove(key);
            }

            safe = generic.ConnectionString;
        }

        return " --connection " + Shell.Quote(safe);
    }

    public static bool IsUri(string value)
    {
        var trimmed = value.TrimStart();
        return trimmed.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || trimmed.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);
    }

    private static NpgsqlConnectionStringBuilder FromEnvironment(Func<string, string?> environment)
    {
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
            builder.Port = ParsePort(port) ?? throw new ArgumentException($"PGPORT is not a port number: '{port}'.");
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
            builder.SslMode = ParseSslMode(sslMode)
                ?? throw new ArgumentException($"PGSSLMODE is not one of {string.Join(", ", SslModes)}: '{sslMode}'.");
        }

        if (Get("PGCONNECT_TIMEOUT") is { } timeout)
        {
            builder.Timeout = ParseSeconds(timeout) ?? throw new ArgumentException($"PGCONNECT_TIMEOUT is not a number of seconds: '{timeout}'.");
        }

        return builder;
    }

    // Keyword by keyword, so a bad value is reported as "--connection: Port=abc is not …" rather than Npgsql's
    // "Couldn't set port (Parameter 'port')".
    private static NpgsqlConnectionStringBuilder FromKeywords(string connectionString)
    {
        var generic = new DbConnectionStringBuilder();
        try
        {
            generic.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            throw new ArgumentException(
                "--connection is neither a connection string (Host=…;Port=…;Username=…;Database=…) nor a postgres:// or postgresql:// URI.");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        foreach (var key in generic.Keys.Cast<string>())
        {
            var value = generic[key]?.ToString() ?? string.Empty;
            var shown = IsPasswordKey(key) ? "********" : value;
            if (!builder.ContainsKey(key))
            {
                throw new ArgumentException(
                    $"--connection: unknown keyword '{key}' (for example Host, Port, Username, Password, Database, SSL Mode, Timeout).");
            }

            try
            {
                builder[key] = value;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                throw new ArgumentException(string.Equals(key, "port", StringComparison.OrdinalIgnoreCase)
                    ? $"--connection: Port '{shown}' is not a port number (1-65535)."
                    : $"--connection: '{shown}' is not a valid value for {key}.");
            }
        }

        if (builder.Port is < 1 or > 65535)
        {
            throw new ArgumentException(
                $"--connection: Port '{builder.Port.ToString(CultureInfo.InvariantCulture)}' is not a port number (1-65535).");
        }

        return builder;
    }

    // postgresql://[user[:password]@][host[:port][,host[:port]…]][/dbname][?param=value[&…]], percent-encoded, as in libpq.
    private static void ApplyUri(NpgsqlConnectionStringBuilder builder, string uri)
    {
        var rest = uri[(uri.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var query = string.Empty;
        if (rest.IndexOf('?') is var q and >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        var path = (string?)null;
        if (rest.IndexOf('/') is var slash and >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }

        if (rest.LastIndexOf('@') is var at and >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Decode(colon < 0 ? userInfo : userInfo[..colon]);
            if (user.Length > 0)
            {
                builder.Username = user;
                builder.Database = path is { Length: > 0 } ? builder.Database : user;
            }

            if (colon >= 0)
            {
                builder.Password = Decode(userInfo[(colon + 1)..]);
            }
        }

        if (rest.Length > 0)
        {
            SetHosts(builder, rest);
        }

        if (path is { Length: > 0 })
        {
            builder.Database = Decode(path);
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"--connection: URI query parameter '{Decode(pair)}' has no value (write name=value).");
            }

            SetUriParameter(builder, Decode(pair[..eq]), Decode(pair[(eq + 1)..]));
        }
    }

    private static void SetHosts(NpgsqlConnectionStringBuilder builder, string hostList)
    {
        var hosts = new List<string>();
        int? port = null;
        foreach (var spec in hostList.Split(','))
        {
            string host;
            string? portText = null;
            if (spec.StartsWith('['))
            {
                // [IPv6]:port
                var close = spec.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new ArgumentException($"--connection: host '{spec}' opens '[' for an IPv6 address but never closes it.");
                }

                host = spec[1..close];
                portText = spec.Length > close + 1 && spec[close + 1] == ':' ? spec[(close + 2)..] : null;
            }
            else
            {
                var colon = spec.LastIndexOf(':');
                host = colon < 0 ? spec : spec[..colon];
                portText = colon < 0 ? null : spec[(colon + 1)..];
            }

            host = Decode(host);
            if (portText is { Length: > 0 })
            {
                var number = ParsePort(portText) ?? throw new ArgumentException($"--connection: port '{portText}' is not a port number (1-65535).");
                if (hostList.Contains(',', StringComparison.Ordinal))
                {
                    host = host.Contains(':', StringComparison.Ordinal)
                        ? $"[{host}]:{number.ToString(CultureInfo.InvariantCulture)}"
                        : $"{host}:{number.ToString(CultureInfo.InvariantCulture)}";
                }
                else
                {
                    port = number;
                }
            }

            if (host.Length > 0)
            {
                hosts.Add(host);
            }
        }

        if (hosts.Count > 0)
        {
            builder.Host = string.Join(",", hosts);
        }

        if (port is { } single)
        {
            builder.Port = single;
        }
    }

    private static void SetUriParameter(NpgsqlConnectionStringBuilder builder, string name, string value)
    {
        switch (name)
        {
            case "host":
                SetHosts(builder, value);
                break;
            case "port":
                builder.Port = ParsePort(value) ?? throw new ArgumentException($"--connection: port '{value}' is not a port number (1-65535).");
                break;
            case "user":
                builder.Username = value;
                break;
            case "password":
                builder.Password = value;
                break;
            case "dbname":
                builder.Database = value;
                break;
            case "sslmode":
                builder.SslMode = ParseSslMode(value)
                    ?? throw new ArgumentException($"--connection: sslmode '{value}' is not one of {string.Join(", ", SslModes)}.");
                break;
            case "connect_timeout":
                builder.Timeout = ParseSeconds(value) ?? throw new ArgumentException(
                    $"--connection: connect_timeout '{value}' is not a number of seconds.");
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "options":
                builder.Options = value;
                break;
            case "passfile":
                builder.Passfile = value;
                break;
            case "sslrootcert":
                builder.RootCertificate = value;
                break;
            case "sslcert":
                builder.SslCertificate = value;
                break;
            case "sslkey":
                builder.SslKey = value;
                break;
            case "target_session_attrs":
                builder.TargetSessionAttributes = value;
                break;
            default:
                throw new ArgumentException(
                    $"--connection: unsupported URI query parameter '{name}' (supported: host, port, user, " +
                    "password, dbname, sslmode, connect_timeout, application_name, options, passfile, sslrootcert, " +
                    "sslcert, sslkey, target_session_attrs).");
        }
    }

    private static string WithoutUriPassword(string uri)
    {
        var start = uri.IndexOf("://", StringComparison.Ordinal) + 3;
        var end = uri.IndexOfAny(['/', '?'], start);
        var authority = end < 0 ? uri[start..] : uri[start..end];
        var result = uri;
        if (authority.LastIndexOf('@') is var at and >= 0 && authority[..at].IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
        {
            result = uri[..(start + colon)] + uri[(start + at)..];
        }

        // A password=… query parameter goes too.
        var q = result.IndexOf('?', StringComparison.Ordinal);
        if (q < 0)
        {
            return result;
        }

        var kept = result[(q + 1)..].Split('&').Where(p => !p.StartsWith("password=", StringComparison.Ordinal)).ToList();
        return kept.Count == 0 ? result[..q] : result[..(q + 1)] + string.Join("&", kept);
    }

    private static string Decode(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            throw new ArgumentException($"--connection: '{value}' is not valid percent-encoding.");
        }
    }

    private static bool IsPasswordKey(string key)
        => key.Equals("password", StringComparison.OrdinalIgnoreCase) || key.Equals("psw", StringComparison.OrdinalIgnoreCase);

    private static int? ParsePort(string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and < 65536 ? number : null;

    private static int? ParseSeconds(string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : null;

    private static SslMode? ParseSslMode(string value) => value switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => null,
    };
}
