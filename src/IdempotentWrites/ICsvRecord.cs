// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A row of <see cref="TextBulkWriter"/> that also holds its fields as one record of CSV text, such as a line read from a CSV
/// file. The writer sends that text to PostgreSQL as it is, instead of quoting every field of the list: for a file already in
/// CSV, no field has to become a string of its own.
/// </summary>
public interface ICsvRecord : IReadOnlyList<string?>
{
    /// <summary>
    /// Gets the record as <c>COPY … (FORMAT CSV)</c> reads it: the fields in the target's column order, separated by commas,
    /// with no line end after the last one. A field that holds a comma, a double quote or a line break is in double quotes,
    /// a quote inside it doubled; an unquoted empty field is SQL NULL and <c>""</c> the empty string. It must hold the values
    /// of the list, which is what the report and the errors hand back.
    /// </summary>
    ReadOnlyMemory<char> CsvText { get; }
}
