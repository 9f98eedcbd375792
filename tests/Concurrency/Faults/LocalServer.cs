// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace IdempotentWrites.ConcurrencyTests.Faults;

// The private servers that some fault tests start and stop themselves through the eng/ scripts (a PostgreSQL cluster to
// restart, a PgBouncer), each on a port and in a directory of its own, so two test runs on one machine never share one.
public static class LocalServer
{
    // A loopback port derived from the run's own PostgreSQL port, so that runs with different IW_PG_PORT values get
    // different ones: block + serverPort % 10000 (20000 + 54401 -> 24401), or the next port up (wrapping within the
    // block) while something already listens there, e.g. the server of a run whose port differs by a multiple of 10000.
    // The blocks used (10000, 20000) lie below the kernel's ephemeral range (32768 and up), so no outgoing connection
    // takes the port between this check and the server's own bind.
    public static int Port(int block, int serverPort)
    {
        for (var offset = 0; offset < 100; offset++)
        {
            var port = block + ((serverPort + offset) % 10_000);
            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free loopback port from {block + (serverPort % 10_000)} up.");
    }

    // Runs `bash eng/<script> <verb>` with the given environment and returns its stdout; a non-zero exit throws with the
    // script's stderr. A script still running after the timeout is killed with its children, never left behind.
    public static async Task<string> RunScriptAsync(string script, string verb, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "eng", script), verb])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"eng/{script} {verb} did not finish within {timeout.TotalSeconds:F0} s and was killed.");
        }

        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException($"eng/{script} {verb} failed ({process.ExitCode}): {await stderr}");
    }

    // Removes a server's directory (and eng/pg-local.sh's lock file next to it); a failure is reported, not thrown.
    public static void RemoveDirectory(string directory, ITestOutputHelper output)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            File.Delete(directory + ".lock");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"Could not remove {directory}: {ex.Message}");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string RepositoryRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "IdempotentWrites.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Repository root not found.");
        }

        return root;
    }
}
