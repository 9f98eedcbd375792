// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

// Everything the commands touch outside themselves, so tests run them in-process with their own writers and environment.
internal sealed class CliContext(TextWriter output, TextWriter error, Func<string, string?> environment, bool showProgress)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public Func<string, string?> Environment { get; } = environment;

    // True only when standard error is a terminal: a redirected or captured run gets no progress line.
    public bool ShowProgress { get; } = showProgress;
}
