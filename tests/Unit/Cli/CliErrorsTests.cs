// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net.Sockets;
using IdempotentWrites.Cli.Internal;
using Npgsql;

namespace IdempotentWrites.UnitTests.Cli;

public class CliErrorsTests
{
    private static readonly NpgsqlConnectionStringBuilder Connection = new("Host=db;Port=5433;Username=app;Password=TopSecret1;Database=shop");

    [Fact]
    public void Describe_ConnectionRefused_OneLineNamingHostAndPort()
        => Assert.Equal(
            "cannot connect to PostgreSQL at db:5433: Connection refused; is the server running and accepting TCP connections? (check --connection or PGHOST / PGPORT)",
            CliErrors.Describe(new NpgsqlException("Failed to connect to db:5433", new SocketException((int)SocketError.ConnectionRefused, "Connection refused")), Connection));

    [Fact]
    public void Describe_BadPassword_NamesUserNeverPassword()
    {
        var message = CliErrors.Describe(Error(PostgresErrorCodes.InvalidPassword, "password authentication failed for user \"app\""), Connection);

        Assert.Equal("authentication failed for user \"app\" at db:5433 (28P01: password authentication failed for user \"app\"); check --connection or PGUSER / PGPASSWORD", message);
    }

    [Fact]
    public void Describe_MissingDatabase()
        => Assert.Equal(
            "database \"shop\" does not exist at db:5433 (3D000); check --connection or PGDATABASE",
            CliErrors.Describe(Error(PostgresErrorCodes.InvalidCatalogName, "database \"shop\" does not exist"), Connection));

    [Fact]
    public void Describe_MultiLineMessageWithPassword_FirstLineScrubbed()
        => Assert.Equal(
            "Keyword not supported: TopSecret1x",
            CliErrors.Describe(new ArgumentException("Keyword not supported: TopSecret1x\nsecond line"), null)
                .Replace("********", "TopSecret1", StringComparison.Ordinal)); // no builder: nothing known to scrub

    [Fact]
    public void Scrub_ReplacesThePassword_IgnoresVeryShortOnes()
    {
        Assert.Equal("bad ******** here", CliErrors.Scrub("bad TopSecret1 here", "TopSecret1"));
        Assert.Equal("iw_database", CliErrors.Scrub("iw_database", "iw"));
    }

    [Fact]
    public void Describe_ArgumentExceptionWithParameter_NoParameterSuffix()
        => Assert.Equal(
            "table \"nosuch\" does not exist on the search_path (names are case-sensitive).",
            CliErrors.Describe(new ArgumentException("table \"nosuch\" does not exist on the search_path (names are case-sensitive).", "table"), Connection));

    [Fact]
    public void Describe_BlankArgument_NoParameterSuffix()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ArgumentException.ThrowIfNullOrWhiteSpace(" ", "errorTextOrConstraint"));

        Assert.DoesNotContain("(Parameter", CliErrors.Describe(error, Connection), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_UnknownResponseForSslRequest_SaysTheServerIsNotPostgres()
        => Assert.Equal(
            "the server at db:5433 is not PostgreSQL (it answered the PostgreSQL handshake with something else, e.g. an HTTP server does); check the host and port in --connection or PGHOST / PGPORT",
            CliErrors.Describe(new NpgsqlException("Received unknown response H for SSLRequest (expecting S or N)"), Connection));

    [Fact]
    public void Describe_NoArbiterIndex_SaysWhatToDoNotJustTheSqlState()
    {
        var message = CliErrors.Describe(Error(PostgresErrorCodes.InvalidColumnReference, "there is no unique or exclusion constraint matching the ON CONFLICT specification"), Connection);

        Assert.Equal("there is no unique or exclusion constraint matching the ON CONFLICT specification: no unique index or constraint is on exactly the conflict columns; create one, or name the columns of an existing one", message);
    }

    [Theory]
    [InlineData(PostgresErrorCodes.InvalidSchemaName, "schema \"nosuch\" does not exist", "schema \"nosuch\" does not exist (names are case-sensitive; check --schema, or create the schema first)")]
    [InlineData(PostgresErrorCodes.DiskFull, "could not extend file", "could not extend file (53100; the server is out of a resource (disk, memory, connections); free it and run the command again)")]
    [InlineData(PostgresErrorCodes.SerializationFailure, "could not serialize access", "could not serialize access (40001; a concurrent transaction interfered; run the command again)")]
    public void Describe_OtherServerErrors_SqlStateAlwaysWithAHint(string sqlState, string text, string expected)
        => Assert.Equal(expected, CliErrors.Describe(Error(sqlState, text), Connection));

    private static PostgresException Error(string sqlState, string message)
        => new(message, "FATAL", "FATAL", sqlState, null, null, 0, 0, null, null, null, null, null, null, null, null, null, null);
}
