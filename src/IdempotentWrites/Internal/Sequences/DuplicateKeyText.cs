// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.RegularExpressions;

namespace IdempotentWrites.Internal.Sequences;

// What a pasted duplicate-key error says, in any lc_messages language: the names it quotes (one is the constraint, which
// the catalog then confirms) and the "(columns)=(values)" of its DETAIL line. Never used on errors the SDK receives itself:
// those carry ConstraintName as a field.
internal sealed partial class DuplicateKeyText
{
    private DuplicateKeyText(IReadOnlyList<(string? Schema, string Name)> candidates, string? keyColumns, string? keyValues)
    {
        Candidates = candidates;
        KeyColumns = keyColumns;
        KeyValues = keyValues;
    }

    // Possible constraint names, most likely first: quoted names ("x", »x«, « x », “x”, „x“), then the bare input.
    public IReadOnlyList<(string? Schema, string Name)> Candidates { get; }

    // The "(id, tenant)" and "(42, 7)" parts of "Key (id, tenant)=(42, 7) already exists.", without the parentheses.
    public string? KeyColumns { get; }

    public string? KeyValues { get; }

    public static DuplicateKeyText Parse(string text)
    {
        var trimmed = text.Trim();
        var candidates = new List<(string? Schema, string Name)>();
        foreach (Match match in QuotedName().Matches(trimmed))
        {
            var name = match.Groups.Values.Skip(1).First(g => g.Success).Value.Replace("\"\"", "\"", StringComparison.Ordinal).Trim();
            if (name.Length > 0 && !name.Contains('=', StringComparison.Ordinal))
            {
                candidates.Add((null, name));
            }
        }

        if (BareName().Match(trimmed) is { Success: true } bare)
        {
            // A pasted name: users_pkey, billing.invoices_pkey, "Billing"."Invoices_pkey".
            var first = Unquote(bare.Groups["first"].Value);
            candidates.Insert(0, bare.Groups["second"].Success ? (first, Unquote(bare.Groups["second"].Value)) : (null, first));
            if (bare.Groups["second"].Success)
            {
                candidates.Insert(1, (null, trimmed));
            }
        }
        else if (candidates.Count == 0)
        {
            candidates.AddRange(Word().Matches(trimmed).Select(m => ((string?)null, m.Value)));
        }

        var key = KeyDetail().Match(trimmed);
        return new DuplicateKeyText(
            [.. candidates.Distinct()],
            key.Success ? key.Groups["columns"].Value : null,
            key.Success ? key.Groups["values"].Value : null);
    }

    // Pairs the detail's values with the key's columns as PostgreSQL prints them (pg_get_indexdef, quoted where needed).
    // With several columns the values are split at ", ", which is ambiguous when a value contains ", ": then null.
    public IReadOnlyDictionary<string, string?>? ValuesFor(IReadOnlyList<string> keyDefinitions)
    {
        if (KeyColumns is null || KeyValues is null || KeyColumns != string.Join(", ", keyDefinitions))
        {
            return null;
        }

        var values = keyDefinitions.Count == 1 ? [KeyValues] : KeyValues.Split(", ");
        if (values.Length != keyDefinitions.Count)
        {
            return null;
        }

        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < values.Length; i++)
        {
            result[keyDefinitions[i]] = values[i] == "null" ? null : values[i];
        }

        return result;
    }

    private static string Unquote(string name)
        => name.Length >= 2 && name[0] == '"' && name[^1] == '"' ? name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : name;

    [GeneratedRegex("\"((?:[^\"]|\"\")+)\"|»([^«»]+)«|«\\s*([^«»]+?)\\s*»|“([^“”]+)”|„([^„“]+)“", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedName();

    [GeneratedRegex("^(?<first>\"(?:[^\"]|\"\")+\"|[^\\s.\"]+)(?:\\.(?<second>\"(?:[^\"]|\"\")+\"|[^\\s.\"]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex BareName();

    [GeneratedRegex("[A-Za-z_][A-Za-z0-9_$]*", RegexOptions.CultureInvariant)]
    private static partial Regex Word();

    // "(columns)=(values)": columns may hold one level of parentheses (expression keys); values run to the line's last ')'.
    [GeneratedRegex(@"\((?<columns>[^()]*(?:\([^()]*\)[^()]*)*)\)=\((?<values>[^\r\n]*)\)", RegexOptions.CultureInvariant)]
    private static partial Regex KeyDetail();
}
