// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;

namespace IdempotentWrites.Cli.Internal;

// An RFC 4180 reader that streams records and knows their line numbers. Fields are separated by commas; a field in
// double quotes may hold commas, newlines and doubled quotes. An unquoted empty field is NULL, a quoted empty field ""
// is the empty string (as in PostgreSQL's COPY … CSV). A malformed record throws CsvFormatException naming its line.
// It reads blocks of characters and checks them with vectorized searches; a record becomes one string, its text, which is
// what COPY … CSV reads (the fields are split from it only when asked for, see CsvRecord).
internal sealed class CsvReader(TextReader reader)
{
    private const int BlockSize = 1 << 16;
    private static readonly System.Buffers.SearchValues<char> UnquotedEnd = System.Buffers.SearchValues.Create(",\n\r\"");
    private static readonly System.Buffers.SearchValues<char> QuotedStop = System.Buffers.SearchValues.Create("\"\n");

    private readonly char[] _block = new char[BlockSize];

    // The text of the record being read that lies in earlier blocks.
    private readonly StringBuilder _carry = new();
    private int _position;
    private int _length;
    private long _line = 1;

    // Where the record being read starts in the block (0 once it spans blocks), or -1 between records.
    private int _start = -1;

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

        var line = _line;
        _carry.Clear();
        _start = _position;
        var count = 0;
        var nulls = 0UL;
        while (true)
        {
            if (Peek() == '"')
            {
                SkipQuoted(line);
            }
            else if (SkipUnquoted() && count < 64)
            {
                nulls |= 1UL << count;
            }

            count++;
            if (Peek() == ',')
            {
                _position++;
                continue;
            }

            break;
        }

        // The record's text ends before its line end, which is consumed after it is taken.
        var text = _carry.Length == 0
            ? new string(_block, _start, _position - _start)
            : _carry.Append(_block, _start, _position - _start).ToString();
        _start = -1;
        if (Next() == '\r' && Peek() == '\n')
        {
            _position++;
        }

        _line++;
        if (expectedFields is { } expected && count != expected)
        {
            throw new CsvFormatException(line, $"{count} field(s), but the header has {expected}");
        }

        return new CsvRecord(line, text, count, nulls);
    }

    // Up to the next separator or line end (left unread); no quote may appear inside. True when the field is empty (NULL).
    private bool SkipUnquoted()
    {
        var empty = true;
        while (_position < _length || Fill())
        {
            var span = _block.AsSpan(_position, _length - _position);
            var end = span.IndexOfAny(UnquotedEnd);
            if (end >= 0 && span[end] == '"')
            {
                throw new CsvFormatException(_line, "a quote inside an unquoted field (quote the whole field and double the quote)");
            }

            empty &= end == 0;
            _position += end >= 0 ? end : span.Length;
            if (end >= 0)
            {
                break;
            }
        }

        return empty;
    }

    // From the opening quote to the closing one (consumed); the character after it must end the field.
    private void SkipQuoted(long start)
    {
        _position++;
        var opened = _line;
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
                _position = _length;
                continue;
            }

            _position += stop + 1;
            if (span[stop] == '\n')
            {
                _line++;
                continue;
            }

            if (Peek() == '"')
            {
                // A doubled quote is one quote of the value.
                _position++;
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
        if (_start >= 0)
        {
            // A record continues in the next block: keep its text read so far.
            _carry.Append(_block, _start, _length - _start);
            _start = 0;
        }

        _position = 0;
        try
        {
            _length = reader.Read(_block, 0, _block.Length);
        }
        catch (DecoderFallbackException ex)
        {
            // The file is decoded a block ahead of the records read: the bytes are on this line or a later one.
            throw new CsvFormatException(
                _line,
                $"the file is not UTF-8 on this line or within the next 64 KB (bytes {Convert.ToHexString(ex.BytesUnknown ?? [])}); " +
                "save it as UTF-8");
        }

        return _length > 0;
    }
}
