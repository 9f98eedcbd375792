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

    [Fact]
    public void Read_CsvTextIsTheRecordWithoutItsLineEnd_FieldsSplitFromIt()
    {
        var records = ReadAll("a,b,c\r\n\"x,\r\ny\",,\"q\"\"\"\r\n1,\"\",3", 3);

        Assert.Equal(["a,b,c", "\"x,\r\ny\",,\"q\"\"\"", "1,\"\",3"], records.Select(r => r.CsvText.ToString()));
        Assert.Equal(["x,\r\ny", null, "q\""], records[1].Fields);
        Assert.Equal(["1", string.Empty, "3"], records[2].Fields);
        Assert.Equal([false, true, false], Enumerable.Range(0, 3).Select(records[1].IsNull));
        Assert.Equal([false, false, false], Enumerable.Range(0, 3).Select(records[2].IsNull));
    }

    [Fact]
    public void Read_RecordsAcrossBlockBoundaries_TextAndFieldsWhole()
    {
        // Fields longer than the reader's 64 KB block, quoted and unquoted, so records start and end inside blocks.
        var quoted = new string('q', 70_000) + "\"\"," + new string('r', 70_000);
        var plain = new string('p', 100_000);
        var text = $"a,b\n\"{quoted}\",{plain}\n{plain},\n";

        var records = ReadAll(text, 2).Skip(1).ToList();

        Assert.Equal([$"\"{quoted}\",{plain}", $"{plain},"], records.Select(r => r.CsvText.ToString()));
        Assert.Equal([quoted.Replace("\"\"", "\"", StringComparison.Ordinal), plain], records[0].Fields);
        Assert.Equal([plain, null], records[1].Fields);
        Assert.True(records[1].IsNull(1));
    }

    [Fact]
    public void Read_SixtyFiveFields_NullsKnownPastTheFirstSixtyFour()
    {
        var header = string.Join(',', Enumerable.Range(0, 65).Select(i => $"c{i}"));
        var row = string.Join(',', Enumerable.Range(0, 65).Select(i => i % 2 == 0 ? string.Empty : "v"));

        var record = ReadAll($"{header}\n{row}\n", 65)[1];

        Assert.Equal(Enumerable.Range(0, 65).Select(i => i % 2 == 0), Enumerable.Range(0, 65).Select(record.IsNull));
    }

    [Fact]
    public void Read_InvalidUtf8_CsvFormatExceptionNamingTheLineAndBytes()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("a,b\n1,ok\n2,").Concat(new byte[] { 0xFF, 0x0A }).ToArray();
        var reader = new CsvReader(new StreamReader(new MemoryStream(bytes), new System.Text.UTF8Encoding(false, true)));

        var error = Assert.Throws<CsvFormatException>(() =>
        {
            while (reader.Read(2) is not null)
            {
            }
        });

        Assert.Equal(1, error.Line);
        Assert.Equal("line 1: the file is not UTF-8 on this line or within the next 64 KB (bytes FF); save it as UTF-8", error.Message);
    }
}
