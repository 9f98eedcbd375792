// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Cli.Internal;

namespace IdempotentWrites.Cli;

// `iw`: sequence drift check/fix, serial-to-identity conversion and duplicate-key diagnosis. The commands live in
// CliCommands; this entry point only binds them to the console, so tests can run them in-process.
internal static class Program
{
    public static Task<int> Main(string[] args)
        => RunAsync(args, new CliContext(Console.Out, Console.Error, Environment.GetEnvironmentVariable, showProgress: !Console.IsErrorRedirected));

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
        => RunAsync(args, new CliContext(output, error, Environment.GetEnvironmentVariable, showProgress: false), cancellationToken);

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = CliCommands.Build(context);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await context.Error.WriteLineAsync($"iw: error: {parseError.Message}").ConfigureAwait(false);
            }

            await context.Error.WriteLineAsync("Run 'iw --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        return await parseResult.InvokeAsync(
            new System.CommandLine.InvocationConfiguration { Output = context.Output, Error = context.Error, EnableDefaultExceptionHandler = false },
            cancellationToken).ConfigureAwait(false);
    }
}
