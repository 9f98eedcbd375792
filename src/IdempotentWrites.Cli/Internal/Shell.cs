// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

// Values in printed command lines, quoted for a POSIX shell so they can be copied and pasted.
internal static class Shell
{
    public static string Quote(string value)
        => value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':' or '@' or ',' or '=')
            ? value
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    // "1 sequence", "2 sequences".
    public static string Count(long count, string singular, string? plural = null)
        => count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " " + (count == 1 ? singular : plural ?? singular + "s");
}
