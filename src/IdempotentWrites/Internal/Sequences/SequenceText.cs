// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using System.Text.RegularExpressions;
using IdempotentWrites.Internal.Postgres;

namespace IdempotentWrites.Internal.Sequences;

// Names and values for messages and reports. SQL text never comes from here: it always quotes (Sql.Quote).
internal static partial class SequenceText
{
    // Like PostgreSQL's quote_ident: bare when the name survives case folding unchanged, quoted otherwise.
    public static string Ident(string name) => BareIdentifier().IsMatch(name) ? name : Sql.Quote(name);

    public static string Name(params string[] parts) => string.Join('.', parts.Select(Ident));

    public static string Value(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    public static string Kind(SequenceColumnKind kind) => kind switch
    {
        SequenceColumnKind.Serial => "serial",
        SequenceColumnKind.IdentityAlways => "identity always",
        SequenceColumnKind.IdentityByDefault => "identity by default",
        _ => "default nextval",
    };

    [GeneratedRegex("^[a-z_][a-z0-9_$]*$", RegexOptions.CultureInvariant)]
    private static partial Regex BareIdentifier();
}
