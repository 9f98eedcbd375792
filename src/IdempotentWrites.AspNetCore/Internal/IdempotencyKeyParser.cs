// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using Microsoft.Extensions.Primitives;

namespace IdempotentWrites.AspNetCore.Internal;

// Parses the Idempotency-Key header: an RFC 9651 Item whose bare item is an sf-string ("..." with \" and \\ escapes),
// without parameters; in lenient mode also a bare key. The key itself is 1 to maxLength printable ASCII characters.
internal static class IdempotencyKeyParser
{
    public static KeyParseResult Parse(StringValues values, bool lenient, int maxLength = IdempotencyConstants.MaxKeyLength)
    {
        if (values.Count == 0)
        {
            return KeyParseResult.Missing;
        }

        if (values.Count > 1)
        {
            return KeyParseResult.Invalid("The header is repeated; send exactly one key.");
        }

        // RFC 9651 4.2: discard leading and trailing SP.
        var input = (values[0] ?? string.Empty).AsSpan().Trim(' ');
        if (input.IsEmpty)
        {
            return KeyParseResult.Invalid("The key is empty.");
        }

        string key;
        if (input[0] == '"')
        {
            var parsed = ParseString(input, out var consumed);
            if (parsed is null)
            {
                return KeyParseResult.Invalid(
                    "The key is not a valid structured-field string: printable ASCII between double quotes, with \\\" and \\\\ escapes.");
            }

            if (consumed != input.Length)
            {
                return KeyParseResult.Invalid("The header has characters after the quoted key (parameters and lists are not accepted).");
            }

            key = parsed;
        }
        else if (lenient)
        {
            foreach (var c in input)
            {
                if (c is < '!' or > '~' or '"' or '\\' or ',')
                {
                    return KeyParseResult.Invalid(
                        "A bare key must be printable ASCII without spaces, quotes, backslashes or commas; send it as a quoted string.");
                }
            }

            key = input.ToString();
        }
        else
        {
            return KeyParseResult.Invalid("The key must be a structured-field string: Idempotency-Key: \"your-key\".");
        }

        if (key.Length == 0)
        {
            return KeyParseResult.Invalid("The key is empty.");
        }

        return key.Length > maxLength
            ? KeyParseResult.Invalid($"The key is {key.Length} characters long; at most {maxLength} are allowed.")
            : KeyParseResult.Valid(key);
    }

    // RFC 9651 4.2.5: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE, unescaped = %x20-21 / %x23-5B / %x5D-7E.
    private static string? ParseString(ReadOnlySpan<char> input, out int consumed)
    {
        var builder = new StringBuilder(input.Length);
        for (var i = 1; i < input.Length; i++)
        {
            var c = input[i];
            if (c == '\\')
            {
                if (++i == input.Length || input[i] is not ('"' or '\\'))
                {
                    break;
                }

                builder.Append(input[i]);
            }
            else if (c == '"')
            {
                consumed = i + 1;
                return builder.ToString();
            }
            else if (c is < ' ' or > '~')
            {
                break;
            }
            else
            {
                builder.Append(c);
            }
        }

        consumed = 0;
        return null;
    }
}

internal enum KeyParseStatus
{
    Missing,
    Invalid,
    Valid,
}

internal readonly record struct KeyParseResult(KeyParseStatus Status, string? Key, string? Error)
{
    public static KeyParseResult Missing { get; } = new(KeyParseStatus.Missing, null, null);

    public static KeyParseResult Invalid(string error) => new(KeyParseStatus.Invalid, null, error);

    public static KeyParseResult Valid(string key) => new(KeyParseStatus.Valid, key, null);
}
