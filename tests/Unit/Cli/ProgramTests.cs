// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net;
using System.Net.Sockets;
using System.Text;
using IdempotentWrites.Cli;

namespace IdempotentWrites.UnitTests.Cli;

public class ProgramTests
{
    [Theory]
    [InlineData("sequences", "chek")]
    [InlineData("sequences", "check", "--bogus")]
    [InlineData("sequences", "to-identity")]
    [InlineData("diagnose")]
    public async Task RunAsync_BadArguments_Exit2WithUsageHint(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync(args, output, error);

        Assert.Equal(2, exit);
        Assert.StartsWith("iw: error: ", error.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("Run 'iw --help' for usage." + Environment.NewLine, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Help_ListsCommandsExit0()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync(["sequences", "--help"], output, error);

        Assert.Equal(0, exit);
        Assert.Contains("check", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("fix", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("to-identity", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InvalidConnectionString_OneLineErrorExit2()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync(["sequences", "check", "--connection", "Hots=x;Password=hunter22"], output, error);

        Assert.Equal(2, exit);
        Assert.StartsWith("iw: error: ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter22", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData]
    [InlineData("sequences")]
    [InlineData("import")]
    public async Task RunAsync_Help_UsageSaysIw(params string[] command)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync([.. command, "--help"], output, error);

        Assert.Equal(0, exit);
        Assert.Contains("Usage:" + Environment.NewLine + "  iw " + string.Join(" ", command), output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("IdempotentWrites.Cli", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("testhost", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=localhost;Port=abc", "iw: error: --connection: Port 'abc' is not a port number (1-65535).")]
    [InlineData("postgres://localhost:abc/db", "iw: error: --connection: port 'abc' is not a port number (1-65535).")]
    public async Task RunAsync_BadPort_PlainMessageExit2(string connection, string expected)
    {
        var (exit, _, error) = await RunAsync("sequences", "check", "--connection", connection);

        Assert.Equal(2, exit);
        Assert.Equal(expected, error.TrimEnd());
    }

    [Fact]
    public async Task RunAsync_DiagnoseEmptyText_SaysWhatToPasteExit2()
    {
        var (exit, _, error) = await RunAsync("diagnose", " ", "--connection", "Host=127.0.0.1;Port=1");

        Assert.Equal(2, exit);
        Assert.Equal("iw: error: the error text is empty; paste the duplicate-key error (in quotes) or give the constraint name.", error.TrimEnd());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1000001")]
    public async Task RunAsync_ImportChunkSizeOutOfRange_PlainMessageExit2(string size)
    {
        var file = Path.GetTempFileName();
        try
        {
            var (exit, _, error) = await RunAsync("import", file, "--table", "t", "--conflict-on", "id", "--chunk-size", size, "--connection", "Host=127.0.0.1;Port=1");

            Assert.Equal(2, exit);
            Assert.Equal($"iw: error: --chunk-size must be between 1 and 1,000,000 rows; it is {size}.", error.TrimEnd());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("import", "--chunk-size", "abc")]
    [InlineData("idempotency", "--batch-size", "1.5")]
    public async Task RunAsync_WholeNumberOptionNotANumber_PlainMessageNoTypeNameExit2(string command, string option, string value)
    {
        string[] args = command == "import"
            ? ["import", "x.csv", "--table", "t", "--conflict-on", "id", option, value]
            : ["idempotency", "purge", option, value];

        var (exit, _, error) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal($"iw: error: {option} takes a whole number; '{value}' is not one.\nRun 'iw --help' for usage.", error.TrimEnd().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task RunAsync_ImportDirectory_SaysItIsADirectoryExit2()
    {
        var directory = Directory.CreateTempSubdirectory("iw-dir-").FullName;
        try
        {
            var (exit, _, error) = await RunAsync("import", directory, "--table", "t", "--conflict-on", "id", "--connection", "Host=127.0.0.1;Port=1");

            Assert.Equal(2, exit);
            Assert.Equal($"iw: error: {directory} is a directory; give the path of the CSV file", error.TrimEnd());
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    // An HTTP server on the port: with SSL (the default, prefer) it answers the SSLRequest with "HTTP/1.1 …" (H); without
    // SSL the startup message gets the same answer and the connection closes.
    [Theory]
    [InlineData("Prefer", "is not PostgreSQL")]
    [InlineData("Disable", "closed the connection unexpectedly: is it PostgreSQL?")]
    public async Task RunAsync_HttpServerOnThePort_SaysItIsNotPostgresExit2(string sslMode, string expected)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var server = ServeHttpAsync(listener, stop.Token);

        var (exit, _, error) = await RunAsync("sequences", "check", "--connection", $"Host=127.0.0.1;Port={port};Username=u;Password=hunter22;Timeout=5;SSL Mode={sslMode}");
        await stop.CancelAsync();
        listener.Stop();
        await server.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exit);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"iw: error: the server at 127.0.0.1:{port} ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("SSLRequest", line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter22", line, StringComparison.Ordinal);
    }

    private static async Task ServeHttpAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(cancellationToken);
                var stream = client.GetStream();
                await stream.ReadAtLeastAsync(new byte[256], 8, throwOnEndOfStream: false, cancellationToken);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The test is over.
        }
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Program.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
