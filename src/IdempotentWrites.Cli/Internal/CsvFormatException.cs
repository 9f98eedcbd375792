// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

// A malformed CSV record; Line is the 1-based file line where the problem is.
internal sealed class CsvFormatException(long line, string problem) : FormatException($"line {line}: {problem}")
{
    public long Line { get; } = line;
}
