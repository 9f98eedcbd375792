// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Globalization;

namespace IdempotentWrites.Cli.Internal;

// The progress of a sequence scan, redrawn at most ten times a second.
internal sealed class TerminalProgress(TextWriter writer) : TerminalLine(writer), IProgress<SequenceCheckProgress>
{
    private readonly Stopwatch _sinceLastDraw = Stopwatch.StartNew();

    public void Report(SequenceCheckProgress value)
    {
        if (value.Total == 0 || (value.Completed != value.Total && value.Completed != 0 && _sinceLastDraw.ElapsedMilliseconds < 100))
        {
            return;
        }

        _sinceLastDraw.Restart();
        Draw(
            string.Create(
                CultureInfo.InvariantCulture,
                $"scanning: {value.Completed}/{value.Total} reads ({100.0 * value.Completed / value.Total:0}%)"));
    }
}
