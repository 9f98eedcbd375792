// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore.Internal;
using Microsoft.Extensions.Primitives;

namespace IdempotentWrites.UnitTests.AspNetCore.Internal;

public sealed class IdempotencyKeyParserTests
{
    [Theory]
    [InlineData("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"", "8e03978e-40d5-43e8-bc93-6894a57f9324")]
    [InlineData("  \"k\"  ", "k")]
    [InlineData("\"with space\"", "with space")]
    [InlineData("\"a\\\"b\\\\c\"", "a\"b\\c")]
    [InlineData("\"a,b\"", "a,b")]
    public void Parse_StructuredFieldString_Valid(string header, string key)
    {
        var result = IdempotencyKeyParser.Parse(header, lenient: false);

        Assert.Equal(KeyParseStatus.Valid, result.Status);
        Assert.Equal(key, result.Key);
    }

    [Theory]
    [InlineData("8e03978e-40d5", "8e03978e-40d5")]
    [InlineData("order:42/retry;1", "order:42/retry;1")]
    public void Parse_BareKey_ValidOnlyWhenLenient(string header, string key)
    {
        Assert.Equal(key, IdempotencyKeyParser.Parse(header, lenient: true).Key);
        var strict = IdempotencyKeyParser.Parse(header, lenient: false);
        Assert.Equal(KeyParseStatus.Invalid, strict.Status);
        Assert.Equal("The key must be a structured-field string: Idempotency-Key: \"your-key\".", strict.Error);
    }

    [Theory]
    [InlineData("", "The key is empty.")]
    [InlineData("   ", "The key is empty.")]
    [InlineData("\"\"", "The key is empty.")]
    [InlineData("\"open", "The key is not a valid structured-field string: printable ASCII between double quotes, with \\\" and \\\\ escapes.")]
    [InlineData("\"bad\\escape\"", "The key is not a valid structured-field string: printable ASCII between double quotes, with \\\" and \\\\ escapes.")]
    [InlineData("\"tab\there\"", "The key is not a valid structured-field string: printable ASCII between double quotes, with \\\" and \\\\ escapes.")]
    [InlineData("\"caf\u00e9\"", "The key is not a valid structured-field string: printable ASCII between double quotes, with \\\" and \\\\ escapes.")]
    [InlineData("\"k\";p=1", "The header has characters after the quoted key (parameters and lists are not accepted).")]
    [InlineData("\"a\", \"b\"", "The header has characters after the quoted key (parameters and lists are not accepted).")]
    [InlineData("two words", "A bare key must be printable ASCII without spaces, quotes, backslashes or commas; send it as a quoted string.")]
    [InlineData("a,b", "A bare key must be printable ASCII without spaces, quotes, backslashes or commas; send it as a quoted string.")]
    [InlineData("caf\u00e9", "A bare key must be printable ASCII without spaces, quotes, backslashes or commas; send it as a quoted string.")]
    public void Parse_Invalid_ExactReason(string header, string error)
    {
        var result = IdempotencyKeyParser.Parse(header, lenient: true);

        Assert.Equal(KeyParseStatus.Invalid, result.Status);
        Assert.Null(result.Key);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void Parse_Length_1To255Accepted_256Refused()
    {
        Assert.Equal(KeyParseStatus.Valid, IdempotencyKeyParser.Parse("k", lenient: true).Status);
        Assert.Equal(KeyParseStatus.Valid, IdempotencyKeyParser.Parse(new string('k', 255), lenient: true).Status);
        Assert.Equal(KeyParseStatus.Valid, IdempotencyKeyParser.Parse("\"" + new string('k', 255) + "\"", lenient: false).Status);
        var tooLong = IdempotencyKeyParser.Parse(new string('k', 256), lenient: true);
        Assert.Equal(KeyParseStatus.Invalid, tooLong.Status);
        Assert.Equal("The key is 256 characters long; at most 255 are allowed.", tooLong.Error);
    }

    [Fact]
    public void Parse_MissingOrRepeated()
    {
        Assert.Equal(KeyParseStatus.Missing, IdempotencyKeyParser.Parse(StringValues.Empty, lenient: true).Status);
        var repeated = IdempotencyKeyParser.Parse(new StringValues(["a", "b"]), lenient: true);
        Assert.Equal(KeyParseStatus.Invalid, repeated.Status);
        Assert.Equal("The header is repeated; send exactly one key.", repeated.Error);
    }
}
