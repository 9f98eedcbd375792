// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace IdempotentWrites.Internal.Bulk;

// Text rows into the staging table: COPY … (FORMAT CSV), so PostgreSQL parses each field as its column's type (the fast
// path: no per-value conversion in .NET, no catalog read of types). A field PostgreSQL refuses fails the COPY, so the chunk;
// the error's "line N" names the chunk's row, reported as a BulkValueException.
internal static partial class TextStaging
{
    public static async Task StageAsync<TRow>(
        NpgsqlConnection connection,
        string copy,
        IReadOnlyList<TRow> chunk,
        long first,
        CancellationToken cancellationToken)
        where TRow : IReadOnlyList<string?>
    {
        try
        {
            var writer = await connection.BeginTextImportAsync(copy, cancellationToken).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                // Rows are formatted into one buffer and written in blocks: one asynchronous write per ~64 KB, not per row.
                var block = new StringBuilder(BlockSize + 4096);
                for (var i = 0; i < chunk.Count; i++)
                {
                    // iw_ord, then every field quoted; NULL is the unquoted empty field. (By index: no enumerator per row.)
                    block.Append(first + i);
                    var row = chunk[i];
                    if (row is ICsvRecord record)
                    {
                        // Already CSV (a line of a file): sent as it is.
                        block.Append(',').Append(record.CsvText.Span);
                    }
                    else
                    {
                        for (var f = 0; f < row.Count; f++)
                        {
                            block.Append(',');
                            if (row[f] is { } field)
                            {
                                AppendQuoted(block, field);
                            }
                        }
                    }

                    block.Append('\n');
                    if (block.Length >= BlockSize)
                    {
                        await writer.WriteAsync(block, cancellationToken).ConfigureAwait(false);
                        block.Clear();
                    }
                }

                if (block.Length > 0)
                {
                    await writer.WriteAsync(block, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (PostgresException ex) when (ex.Where is { } where && CopyLine().Match(where) is { Success: true } match
            && int.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var line) && RowAt(chunk, line) is { } record)
        {
            // The CONTEXT line ("COPY iw_bulk_stage, line N, column C: …") is the only place the server names the row.
            var position = first + record;
            var column = match.Groups[2].Success ? match.Groups[2].Value : null;
            throw new BulkValueException(
                $"PostgreSQL refused {(column is null ? "a value" : $"the value of column \"{column}\"")} in input " +
                $"row {position:N0} ({ex.SqlState}); the server's message is in the inner exception.",
                position,
                chunk[record],
                column,
                ex.SqlState,
                ex);
        }
    }

    // Every row must be there and have one field per column; otherwise the run stops before the row's chunk is written.
    public static async IAsyncEnumerable<TRow> CheckedAsync<TRow>(
        IAsyncEnumerable<TRow> rows,
        int columns,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TRow : IReadOnlyList<string?>
    {
        long position = 0;
        await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (row is null)
            {
                throw new ArgumentException($"The input holds a null row at position {position:N0}.", nameof(rows));
            }

            if (row.Count != columns)
            {
                throw new ArgumentException($"Input row {position:N0} has {row.Count} field(s); the target has {columns} column(s).", nameof(rows));
            }

            yield return row;
            position++;
        }
    }

    private const int BlockSize = 1 << 16;

    // The chunk's row that PostgreSQL's "line N" names. N counts physical lines, as the server counts them: each row's own
    // line, plus one for every line break inside its quoted fields, where a line break is the data's line end (LF) once the
    // server has seen one, and CR before that, i.e. within the first row (copyfromparse.c, CopyReadLineText: "necessarily a
    // little fragile"). A row is read whole before its values are converted, so N is the last line of the row named.
    private static int? RowAt<TRow>(IReadOnlyList<TRow> chunk, int line)
        where TRow : IReadOnlyList<string?>
    {
        var last = 0;
        for (var i = 0; i < chunk.Count && last < line; i++)
        {
            last += 1 + Breaks(chunk[i], i == 0 ? '\r' : '\n');
            if (last == line)
            {
                return i;
            }
        }

        return null;
    }

    private static int Breaks<TRow>(TRow row, char lineBreak)
        where TRow : IReadOnlyList<string?>
    {
        if (row is ICsvRecord record)
        {
            return record.CsvText.Span.Count(lineBreak);
        }

        var count = 0;
        for (var f = 0; f < row.Count; f++)
        {
            count += row[f] is { } field ? field.AsSpan().Count(lineBreak) : 0;
        }

        return count;
    }

    private static void AppendQuoted(StringBuilder block, string field)
    {
        block.Append('"');
        var quote = field.IndexOf('"', StringComparison.Ordinal);
        if (quote < 0)
        {
            block.Append(field);
        }
        else
        {
            // A quote inside the field is doubled.
            var start = 0;
            for (; quote >= 0; quote = field.IndexOf('"', start))
            {
                block.Append(field, start, quote - start + 1).Append('"');
                start = quote + 1;
            }

            block.Append(field, start, field.Length - start);
        }

        block.Append('"');
    }

    [GeneratedRegex(@"^COPY [^,]+, line (\d+)(?:, column ([^:]+))?")]
    private static partial Regex CopyLine();
}
