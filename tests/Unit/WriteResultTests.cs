// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.UnitTests;

public class WriteResultTests
{
    [Fact]
    public void Ctor_NullRow_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new WriteResult<Row>(WriteOutcome.Inserted, null!, 1));

        Assert.Equal("row", ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Ctor_AttemptsNotPositive_Throws(int attempts)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new WriteResult<Row>(WriteOutcome.Inserted, new Row("a"), attempts));

        Assert.Equal("attempts", ex.ParamName);
        Assert.Equal(attempts, ex.ActualValue);
    }

    [Fact]
    public void Ctor_Valid_Properties()
    {
        var row = new Row("a");

        var result = new WriteResult<Row>(WriteOutcome.Existing, row, 2);

        Assert.Equal(WriteOutcome.Existing, result.Outcome);
        Assert.Same(row, result.Row);
        Assert.Equal(2, result.Attempts);
    }

    [Theory]
    [InlineData(WriteOutcome.Inserted, true)]
    [InlineData(WriteOutcome.Existing, false)]
    [InlineData(WriteOutcome.Updated, false)]
    [InlineData(WriteOutcome.Unchanged, false)]
    public void Created_Outcome_TrueOnlyForInserted(WriteOutcome outcome, bool expected) => Assert.Equal(expected, new WriteResult<Row>(outcome, new Row("a"), 1).Created);

    [Fact]
    public void ToString_OutcomeAndRow() => Assert.Equal("Updated: Row { Key = k1 }", new WriteResult<Row>(WriteOutcome.Updated, new Row("k1"), 1).ToString());

    public sealed record Row(string Key);
}
