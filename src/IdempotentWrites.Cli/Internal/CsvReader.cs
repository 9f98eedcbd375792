// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;

namespace IdempotentWrites.Cli.Internal;

// An RFC 4180 reader that streams records and knows their line numbers. Fields are separated by commas; a field in
// double quotes may hold commas, newlines and doubled quotes. An unquoted empty field is NULL, a quoted empty field ""
// is the empty string (as in PostgreSQL's COPY … CSV). A malformed record throws CsvFormatException naming its line.
// It reads blocks of characters and scans them with vectorized searches: a field that lies within one block becomes a
// string without being copied character by character.
internal sealed class CsvReader(TextReader reader)
{
    private const int BlockSize = 1 << 16;
    private static readonly System.Buffers.SearchValues<char> UnquotedEnd = System.Buffers.SearchValues.Create(",\n\r\"");
    private static readonly System.Buffers.SearchValues<char> QuotedStop = System.Buffers.SearchValues.Create("\"\n");

    private readonly char[] _block = new char[BlockSize];
    private readonly StringBuilder _field = new();
    private int _position;
    private int _length;
    private long _line = 1;

    public CsvRecord? Read(int? expectedFields)
    {
        // A blank line between records (or at the end of the file) is skipped when records have more than one field;
        // with a single column it is a NULL, as in COPY … CSV.
        while (expectedFields > 1 && Peek() is '\n' or '\r')
        {
            if (Next() == '\r' && Peek() == '\n')
            {
                _position++;
            }

            _line++;
        }

        if (Peek() < 0)
        {
            return null;
        }

        var start = _line;
        var fields = new string?[expectedFields ?? 8];
        var count = 0;
        while (true)
        {
            var field = Peek() == '"' ? ReadQuoted(start) : ReadUnquoted();
            if (count == fields.Length)
            {
                Array.Resize(ref fields, Math.Max(8, fields.Length * 2));
            }

            fields[count++] = field;
            var separator = Next();
            if (separator == ',')
            {
                continue;
            }

            if (separator == '\r' && Peek() == '\n')
            {
                _position++;
            }

            if (separator is '\n' or '\r')
            {
                _line++;
            }

            break;
        }

        if (expectedFields is { } expected && count != expected)
        {
            throw new CsvFormatException(start, $"{count} field(s), but the header has {expected}");
        }

        if (count != fields.Length)
        {
            Array.Resize(ref fields, count);
        }

        return new CsvRecord(start, fields);
    }

    // Up to the next separator or line end (left unread); no quote may appear inside.
    private string? ReadUnquoted()
    {
        _field.Clear();
        while (true)
        {
            if (_position == _length && !Fill())
            {
                break;
            }

            var span = _block.AsSpan(_position, _length - _position);
            var end = span.IndexOfAny(UnquotedEnd);
            if (end >= 0 && span[end] == '"')
            {
                throw new CsvFormatException(_line, "a quote inside an unquoted field (quote the whole field and double the quote)");
            }

            if (end >= 0 && _field.Length == 0)
            {
                // The whole field lies within the block.
                _position += end;
                return end == 0 ? null : new string(span[..end]);
            }

            _field.Append(end >= 0 ? span[..end] : span);
            _position += end >= 0 ? end : span.Length;
            if (end >= 0)
            {
                break;
            }
        }

        return _field.Length == 0 ? null : _field.ToString();
    }

    // From the opening quote to the closing one (consumed); the character after it must end the field.
    private string ReadQuoted(long start)
    {
        _position++;
        var opened = _line;
        _field.Clear();
        while (true)
        {
            if (_position == _length && !Fill())
            {
                throw new CsvFormatException(start, $"the quoted field opened on line {opened} is never closed");
            }

            var span = _block.AsSpan(_position, _length - _position);
            var stop = span.IndexOfAny(QuotedStop);
            if (stop < 0)
            {
                _field.Append(span);
                _position = _length;
                continue;
            }

            _field.Append(span[..stop]);
            _position += stop + 1;
            if (span[stop] == '\n')
            {
                _line++;
                _field.Append('\n');
                continue;
            }

            if (Peek() == '"')
            {
                // A doubled quote is one quote of the value.
                _position++;
                _field.Append('"');
                continue;
            }

            break;
        }

        var next = Peek();
        if (next is not (',' or '\n' or '\r' or -1))
        {
            throw new CsvFormatException(
                _line,
                $"unexpected character '{(char)next}' after a closing quote (the quoted field opened on " +
                $"line {opened}; a quote inside a quoted field is written as \"\")");
        }

        return _field.ToString();
    }

    private int Peek() => _position < _length || Fill() ? _block[_position] : -1;

    private int Next()
    {
        var c = Peek();
        if (c >= 0)
        {
            _position++;
        }

        return c;
    }

    private bool Fill()
    {
        _position = 0;
        _length = reader.Read(_block, 0, _block.Length);
        return _length > 0;
    }
}
