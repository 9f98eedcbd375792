// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Cli.Internal;

namespace IdempotentWrites.UnitTests.Cli;

public sealed class CsvReaderTests
{
    private static List<CsvRecord> ReadAll(string text, int? fields = null)
    {
        var reader = new CsvReader(new StringReader(text));
        var records = new List<CsvRecord>();
        while (reader.Read(fields) is { } record)
        {
            records.Add(record);
        }

        return records;
    }

    [Fact]
    public void Read_QuotedCommasQuotesAndNewlines_FieldsAndStartLines()
    {
        var records = ReadAll("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\nlast,1");

        Assert.Equal([1L, 2L, 3L, 5L], records.Select(r => r.Line));
        Assert.Equal(["x, y", "say \"hi\""], records[1].Fields);
        Assert.Equal(["multi\nline", "z"], records[2].Fields);
        Assert.Equal(["last", "1"], records[3].Fields);
    }

    [Fact]
    public void Read_UnquotedEmptyIsNullQuotedEmptyIsEmptyString()
    {
        var record = Assert.Single(ReadAll(",\"\",x,"));

        Assert.Equal([null, string.Empty, "x", null], record.Fields);
    }

    [Fact]
    public void Read_CrLfLineEndsAndNoFinalNewline_SameRecords()
    {
        Assert.Equal(
            ReadAll("a,b\n1,2\n").Select(r => string.Join("|", r.Fields)),
            ReadAll("a,b\r\n1,2").Select(r => string.Join("|", r.Fields)));
    }

    [Fact]
    public void Read_BlankLinesBetweenAndAfterRecords_SkippedLinesStillCounted()
    {
        var records = ReadAll("a,b\n1,2\n\r\n3,4\n\n", 2);

        Assert.Equal([1L, 2L, 4L], records.Select(r => r.Line));
    }

    [Theory]
    [InlineData("a,b\n1,\"open\n2,3\n", 2, "the quoted field opened on line 2 is never closed")]
    [InlineData("a,b\n1,x\"y\n", 2, "a quote inside an unquoted field")]
    [InlineData("a,b\n\"q\"x,1\n", 2, "unexpected character 'x' after a closing quote")]
    [InlineData("a,b\n1,2\n3\n", 3, "1 field(s), but the header has 2")]
    public void Read_Malformed_ErrorNamesTheLine(string text, long line, string problem)
    {
        var error = Assert.Throws<CsvFormatException>(() => ReadAll(text, 2));

        Assert.Equal(line, error.Line);
        Assert.StartsWith($"line {line}: {problem}", error.Message, StringComparison.Ordinal);
    }
}
