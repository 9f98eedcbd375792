// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

// A one-line display on standard error, redrawn in place; only used on a terminal.
internal abstract class TerminalLine(TextWriter writer)
{
    private int _width;

    public void Clear()
    {
        if (_width > 0)
        {
            writer.Write("\r" + new string(' ', _width) + "\r");
            writer.Flush();
        }
    }

    protected void Draw(string line)
    {
        _width = Math.Max(_width, line.Length);
        writer.Write("\r" + line.PadRight(_width));
        writer.Flush();
    }
}
