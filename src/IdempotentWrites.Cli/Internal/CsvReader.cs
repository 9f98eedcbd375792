// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;

namespace IdempotentWrites.Cli.Internal;

// An RFC 4180 reader that streams records and knows their line numbers. Fields are separated by commas; a field in
// double quotes may hold commas, newlines and doubled quotes. An unquoted empty field is NULL, a quoted empty field ""
// is the empty string (as in PostgreSQL's COPY … CSV). A malformed record throws CsvFormatException naming its line.
internal sealed class CsvReader(TextReader reader)
{
    private readonly StringBuilder _field = new();
    private long _line = 1;

    public CsvRecord? Read(int? expectedFields)
    {
        // A blank line between records (or at the end of the file) is skipped when records have more than one field;
        // with a single column it is a NULL, as in COPY … CSV.
        while (expectedFields > 1 && reader.Peek() is '\n' or '\r')
        {
            if (reader.Read() == '\r' && reader.Peek() == '\n')
            {
                reader.Read();
            }

            _line++;
        }

        if (reader.Peek() < 0)
        {
            return null;
        }

        var start = _line;
        var fields = new List<string?>(expectedFields ?? 8);
        while (true)
        {
            _field.Clear();
            if (reader.Peek() == '"')
            {
                reader.Read();
                var opened = _line;
                while (true)
                {
                    var c = reader.Read();
                    if (c < 0)
                    {
                        throw new CsvFormatException(start, $"the quoted field opened on line {opened} is never closed");
                    }

                    if (c == '"')
                    {
                        if (reader.Peek() == '"')
                        {
                            reader.Read();
                            _field.Append('"');
                            continue;
                        }

                        break;
                    }

                    if (c == '\n')
                    {
                        _line++;
                    }

                    _field.Append((char)c);
                }

                var next = reader.Peek();
                if (next is not (',' or '\n' or '\r' or -1))
                {
                    throw new CsvFormatException(
                        _line,
                        $"unexpected character '{(char)next}' after a closing quote (the quoted field opened on " +
                        $"line {opened}; a quote inside a quoted field is written as \"\")");
                }

                fields.Add(_field.ToString());
            }
            else
            {
                int c;
                while ((c = reader.Peek()) is not (',' or '\n' or '\r' or -1))
                {
                    if (c == '"')
                    {
                        throw new CsvFormatException(_line, "a quote inside an unquoted field (quote the whole field and double the quote)");
                    }

                    _field.Append((char)reader.Read());
                }

                fields.Add(_field.Length == 0 ? null : _field.ToString());
            }

            var separator = reader.Read();
            if (separator == ',')
            {
                continue;
            }

            if (separator == '\r' && reader.Peek() == '\n')
            {
                reader.Read();
            }

            if (separator is '\n' or '\r')
            {
                _line++;
            }

            break;
        }

        if (expectedFields is { } count && fields.Count != count)
        {
            throw new CsvFormatException(start, $"{fields.Count} field(s), but the header has {count}");
        }

        return new CsvRecord(start, [.. fields]);
    }
}
