// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections;
using System.Text;

namespace IdempotentWrites.Cli.Internal;

// One CSV record and the file line it starts on: the row TextBulkWriter writes, as the record's text (sent to COPY … CSV as
// it is, see ICsvRecord); the report and the errors hand the record back, so they name file lines. The reader has checked
// the text, so it is well formed; the fields are split from it only when asked for (the reported rows, an error).
internal sealed class CsvRecord(long line, string text, int count, ulong nulls) : ICsvRecord
{
    private string?[]? _fields;

    public long Line => line;

    public int Count => count;

    public ReadOnlyMemory<char> CsvText => text.AsMemory();

    public string?[] Fields => _fields ??= Split(text, count);

    public string? this[int index] => Fields[index];

    // Whether field `index` is NULL (an unquoted empty field), known without splitting for the first 64 fields.
    public bool IsNull(int index) => index < 64 ? (nulls & (1UL << index)) != 0 : Fields[index] is null;

    public IEnumerator<string?> GetEnumerator() => ((IEnumerable<string?>)Fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => Fields.GetEnumerator();

    private static string?[] Split(string text, int count)
    {
        var fields = new string?[count];
        var field = new StringBuilder();
        var i = 0;
        for (var f = 0; f < count; f++)
        {
            if (i < text.Length && text[i] == '"')
            {
                field.Clear();
                for (i++; ; i++)
                {
                    if (text[i] != '"')
                    {
                        field.Append(text[i]);
                    }
                    else if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        break;
                    }
                }

                fields[f] = field.ToString();
                i += 2; // the closing quote and the comma
            }
            else
            {
                var end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                fields[f] = end == i ? null : text[i..end];
                i = end + 1;
            }
        }

        return fields;
    }
}
