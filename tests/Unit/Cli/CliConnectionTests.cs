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

    private static Func<string, string?> Env(Dictionary<string, string> variables) => name => variables.GetValueOrDefault(name);
}
