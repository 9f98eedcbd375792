// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Globalization;

namespace IdempotentWrites.Cli.Internal;

// A one-line progress display on standard error, redrawn in place at most ten times a second; only used on a terminal.
internal sealed class TerminalProgress(TextWriter writer) : IProgress<SequenceCheckProgress>
{
    private readonly Stopwatch _sinceLastDraw = Stopwatch.StartNew();
    private int _width;

    public void Report(SequenceCheckProgress value)
    {
        if (value.Total == 0 || (value.Completed != value.Total && value.Completed != 0 && _sinceLastDraw.ElapsedMilliseconds < 100))
        {
            return;
        }

        _sinceLastDraw.Restart();
        var line = string.Create(CultureInfo.InvariantCulture, $"scanning: {value.Completed}/{value.Total} reads ({100.0 * value.Completed / value.Total:0}%)");
        _width = Math.Max(_width, line.Length);
        writer.Write("\r" + line.PadRight(_width));
        writer.Flush();
    }

    public void Clear()
    {
        if (_width > 0)
        {
            writer.Write("\r" + new string(' ', _width) + "\r");
            writer.Flush();
        }
    }
}
