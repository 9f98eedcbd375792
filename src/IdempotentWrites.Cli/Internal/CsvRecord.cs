// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections;

namespace IdempotentWrites.Cli.Internal;

// One CSV record and the file line it starts on. Its fields are the row TextBulkWriter writes; the report and the errors
// hand the record back, so they name file lines.
internal sealed record CsvRecord(long Line, string?[] Fields) : IReadOnlyList<string?>
{
    public int Count => Fields.Length;

    public string? this[int index] => Fields[index];

    public IEnumerator<string?> GetEnumerator() => ((IEnumerable<string?>)Fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => Fields.GetEnumerator();
}
