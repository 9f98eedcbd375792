// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Cli.Internal;
using Npgsql;

namespace IdempotentWrites.UnitTests.Cli;

public class CliConnectionTests
{
    [Fact]
    public void Build_LibpqVariables_LikePsql()
    {
        var builder = CliConnection.Build(null, Env(new()
        {
            ["PGHOST"] = "db.internal",
            ["PGPORT"] = "6432",
            ["PGUSER"] = "restorer",
            ["PGPASSWORD"] = "p@ss;word=1",
            ["PGDATABASE"] = "shop",
            ["PGSSLMODE"] = "verify-full",
            ["PGCONNECT_TIMEOUT"] = "7",
        }));

        Assert.Equal(("db.internal", 6432, "restorer", "p@ss;word=1", "shop"), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database));
        Assert.Equal((SslMode.VerifyFull, 7, "iw"), (builder.SslMode, builder.Timeout, builder.ApplicationName));
    }

    [Fact]
    public void Build_NoVariables_LibpqDefaults()
    {
        var builder = CliConnection.Build(null, Env(new() { ["USER"] = "alice" }));

        Assert.Equal(("localhost", 5432, "alice", null, "alice"), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database));
    }

    [Fact]
    public void Build_DatabaseDefaultsToTheUser() => Assert.Equal("bob", CliConnection.Build(null, Env(new() { ["PGUSER"] = "bob", ["USER"] = "alice" })).Database);

    [Fact]
    public void Build_ConnectionOption_WinsOverVariables()
    {
        var builder = CliConnection.Build("Host=a;Port=5433;Username=u;Password=p;Database=d", Env(new() { ["PGHOST"] = "ignored", ["PGDATABASE"] = "ignored" }));

        Assert.Equal(("a", 5433, "d", "iw"), (builder.Host, builder.Port, builder.Database, builder.ApplicationName));
    }

    [Theory]
    [InlineData("PGPORT", "54x", "PGPORT is not a port number: '54x'.")]
    [InlineData("PGPORT", "70000", "PGPORT is not a port number: '70000'.")]
    [InlineData("PGSSLMODE", "sometimes", "PGSSLMODE is not one of disable, allow, prefer, require, verify-ca, verify-full: 'sometimes'.")]
    [InlineData("PGCONNECT_TIMEOUT", "-1", "PGCONNECT_TIMEOUT is not a number of seconds: '-1'.")]
    public void Build_InvalidVariable_ThrowsNamingIt(string name, string value, string message)
        => Assert.Equal(message, Assert.Throws<ArgumentException>(() => CliConnection.Build(null, Env(new() { [name] = value }))).Message);

    [Fact]
    public void Describe_HostAndPortOnly()
        => Assert.Equal("db:6432", CliConnection.Describe(new NpgsqlConnectionStringBuilder("Host=db;Port=6432;Username=u;Password=secret")));

    [Theory]
    [InlineData("Host=x;Port=abc", "--connection: Port 'abc' is not a port number (1-65535).")]
    [InlineData("Host=x;Port=0", "--connection: Port '0' is not a port number (1-65535).")]
    [InlineData("Host=x;Timeout=soon", "--connection: 'soon' is not a valid value for timeout.")]
    [InlineData("Hots=x", "--connection: unknown keyword 'hots' (for example Host, Port, Username, Password, Database, SSL Mode, Timeout).")]
    [InlineData("postgres://db:54x/shop", "--connection: port '54x' is not a port number (1-65535).")]
    [InlineData("postgresql://db/shop?sslmode=sometimes", "--connection: sslmode 'sometimes' is not one of disable, allow, prefer, require, verify-ca, verify-full.")]
    [InlineData("postgresql://db/shop?colour=blue", "--connection: unsupported URI query parameter 'colour' (supported: host, port, user, password, dbname, sslmode, connect_timeout, application_name, options, passfile, sslrootcert, sslcert, sslkey, target_session_attrs).")]
    public void Build_InvalidConnectionValue_PlainMessageNoParameterName(string connection, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => CliConnection.Build(connection, Env(new())));

        Assert.Equal(message, error.Message);
        Assert.Null(error.ParamName);
    }

    [Fact]
    public void Build_BadPortWithPassword_PasswordNotInMessage()
        => Assert.DoesNotContain("hunter22", Assert.Throws<ArgumentException>(() => CliConnection.Build("Port=x1;Password=hunter22", Env(new()))).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("postgres://alice:p%40ss%3Bw@db.internal:6432/shop?sslmode=require&connect_timeout=7&application_name=nightly")]
    [InlineData("postgresql://alice:p%40ss%3Bw@db.internal:6432/shop?sslmode=require&connect_timeout=7&application_name=nightly")]
    [InlineData("postgresql://db.internal/shop?user=alice&password=p%40ss%3Bw&port=6432&sslmode=require&connect_timeout=7&application_name=nightly")]
    public void Build_LibpqUri_LikePsql(string uri)
    {
        var builder = CliConnection.Build(uri, Env(new()));

        Assert.Equal(("db.internal", 6432, "alice", "p@ss;w", "shop"), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database));
        Assert.Equal((SslMode.Require, 7, "nightly"), (builder.SslMode, builder.Timeout, builder.ApplicationName));
    }

    [Fact]
    public void Build_UriWithoutParts_RestFromVariablesAndDefaults()
    {
        var builder = CliConnection.Build("postgresql://", Env(new() { ["PGHOST"] = "h", ["PGPORT"] = "5433", ["PGUSER"] = "u", ["PGPASSWORD"] = "pw" }));

        Assert.Equal(("h", 5433, "u", "pw", "u", "iw"), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database, builder.ApplicationName));
    }

    [Fact]
    public void Build_UriUserOnly_DatabaseDefaultsToTheUser()
        => Assert.Equal(("bob", "bob", "localhost"), (CliConnection.Build("postgres://bob@", Env(new())).Username, CliConnection.Build("postgres://bob@", Env(new())).Database, CliConnection.Build("postgres://bob@", Env(new())).Host));

    [Fact]
    public void Build_UriSeveralHostsAndIpv6()
    {
        Assert.Equal("a:5433,b:5434", CliConnection.Build("postgresql://a:5433,b:5434/d", Env(new())).Host);
        var ipv6 = CliConnection.Build("postgresql://[::1]:6543/d", Env(new()));
        Assert.Equal(("::1", 6543), (ipv6.Host, ipv6.Port));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("Host=db;Port=6432;Username=app;Password=TopSecret1;Database=shop", " --connection 'host=db;port=6432;username=app;database=shop'")]
    [InlineData("postgresql://app:TopSecret1@db:6432/shop?sslmode=require", " --connection 'postgresql://app@db:6432/shop?sslmode=require'")]
    [InlineData("postgresql://db/shop?password=TopSecret1&sslmode=require", " --connection 'postgresql://db/shop?sslmode=require'")]
    public void Arguments_RepeatsConnectionWithoutPassword(string? connection, string expected)
        => Assert.Equal(expected, CliConnection.Arguments(connection));

    private static Func<string, string?> Env(Dictionary<string, string> variables) => name => variables.GetValueOrDefault(name);
}
