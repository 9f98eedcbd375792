// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Sequences;

namespace IdempotentWrites.UnitTests.Internal;

public class SequenceMathTests
{
    [Theory]
    [InlineData(1, false, 1, 1L)]          // fresh sequence (or setval(s, 1, false)): nextval returns 1
    [InlineData(1, true, 1, 2L)]           // setval(s, 1, true): nextval returns 2
    [InlineData(50000, true, 1, 50001L)]
    [InlineData(-5, true, -1, -6L)]
    [InlineData(93, true, 10, 103L)]
    public void NextValue_FromLastValueAndIsCalled(long lastValue, bool isCalled, long increment, long expected)
        => Assert.Equal(expected, SequenceMath.NextValue(lastValue, isCalled, increment, long.MinValue, long.MaxValue, cycle: false));

    [Fact]
    public void NextValue_AtMaxWithoutCycle_NullExhausted() => Assert.Null(SequenceMath.NextValue(32767, true, 1, 1, 32767, cycle: false));

    [Fact]
    public void NextValue_AtMaxWithCycle_WrapsToMin() => Assert.Equal(1, SequenceMath.NextValue(32767, true, 1, 1, 32767, cycle: true));

    [Fact]
    public void NextValue_NearBigintMax_NoOverflow() => Assert.Null(SequenceMath.NextValue(long.MaxValue, true, 1, 1, long.MaxValue, cycle: false));

    [Theory]
    [InlineData(1, 1, null, 1L)]            // empty table: START, not 2
    [InlineData(100, 1, null, 100L)]
    [InlineData(1, 1, 50000L, 50001L)]
    [InlineData(1, 1, 0L, 1L)]              // data before START
    [InlineData(3, 10, 95L, 103L)]          // grid 3, 13, ..., 93, 103
    [InlineData(3, 10, 93L, 103L)]
    [InlineData(3, 10, 92L, 93L)]
    [InlineData(1000, 5, 999L, 1000L)]
    [InlineData(-1, -1, -500L, -501L)]      // descending: below MIN
    [InlineData(-1, -1, null, -1L)]
    [InlineData(-1, -1, 7L, -1L)]           // descending, data above START
    [InlineData(-10, -7, -30L, -31L)]       // grid -10, -17, -24, -31
    public void RequiredNextValue_FirstGridValuePastTheData(long start, long increment, long? dataExtreme, long expected)
        => Assert.Equal(expected, SequenceMath.RequiredNextValue(start, increment, dataExtreme, long.MinValue, long.MaxValue));

    [Theory]
    [InlineData(1L, 32767L)]
    [InlineData(2L, 32767L)] // grid 1, 3, ..., 32767: the next would be 32769
    public void RequiredNextValue_BeyondMax_Null(long increment, long dataMax) => Assert.Null(SequenceMath.RequiredNextValue(1, increment, dataMax, 1, 32767));

    [Fact]
    public void RequiredNextValue_LastGridValueInRange() => Assert.Equal(32767, SequenceMath.RequiredNextValue(1, 2, 32766, 1, 32767));

    [Fact]
    public void RequiredNextValue_DataAtBigintMax_NullWithoutOverflow() => Assert.Null(SequenceMath.RequiredNextValue(1, 1, long.MaxValue, 1, long.MaxValue));

    [Fact]
    public void Extreme_MaxAscendingMinDescendingIgnoringEmptyColumns()
    {
        Assert.Equal(70, SequenceMath.Extreme([40, null, 70, 3], descending: false));
        Assert.Equal(3, SequenceMath.Extreme([40, null, 70, 3], descending: true));
        Assert.Null(SequenceMath.Extreme([null, null], descending: false));
    }

    [Theory]
    [InlineData(50001, 1, 50000)]
    [InlineData(103, 10, 93)]
    [InlineData(-501, -1, -500)]
    [InlineData(long.MinValue, 5, long.MinValue)] // clamped: no bigint is below the bound, the guard never matches
    [InlineData(long.MaxValue, -5, long.MaxValue)]
    public void GuardLastValue_TargetMinusIncrementClamped(long target, long increment, long expected)
        => Assert.Equal(expected, SequenceMath.GuardLastValue(target, increment));

    [Theory]
    [InlineData(1L, 50000L, SequenceStatus.Drifted, 50001L)]
    [InlineData(50001L, 50000L, SequenceStatus.Healthy, 50001L)]
    [InlineData(60000L, 50000L, SequenceStatus.Ahead, 50001L)]
    [InlineData(1L, null, SequenceStatus.Healthy, 1L)]
    [InlineData(2L, null, SequenceStatus.Ahead, 1L)]
    public void Evaluate_ComparesNextWithRequired(long next, long? extreme, SequenceStatus status, long required)
    {
        var evaluation = SequenceMath.Evaluate(Sequence(1, 1, 1, int.MaxValue), next, extreme, 0.9);

        Assert.Equal(status, evaluation.Status);
        Assert.Equal(required, evaluation.RequiredNextValue);
        Assert.Null(evaluation.Reason);
        Assert.False(evaluation.IsNearlyExhausted);
    }

    [Fact]
    public void Evaluate_EmptyBelowStart_DriftedWithReason()
    {
        var evaluation = SequenceMath.Evaluate(Sequence(500, 1, 1, long.MaxValue), 5, null, 0.9);

        Assert.Equal((SequenceStatus.Drifted, 500L), (evaluation.Status, evaluation.RequiredNextValue));
        Assert.Equal("the tables are empty and the next value lies before the sequence's START", evaluation.Reason);
    }

    [Fact]
    public void Evaluate_PastDataButOffGrid_DriftedWithReason()
    {
        var evaluation = SequenceMath.Evaluate(Sequence(3, 10, 1, long.MaxValue), 104, 103, 0.9);

        Assert.Equal((SequenceStatus.Drifted, 113L), (evaluation.Status, evaluation.RequiredNextValue));
        Assert.Equal("the next value is past the data but off the sequence's grid (START + k * INCREMENT)", evaluation.Reason);
    }

    [Fact]
    public void Evaluate_DataAtTheEndOfTheRange_DriftedWithoutTarget()
    {
        var evaluation = SequenceMath.Evaluate(Sequence(1, 1, 1, 32767, "int2"), 10, 32767, 0.9);

        Assert.Equal(SequenceStatus.Drifted, evaluation.Status);
        Assert.Null(evaluation.RequiredNextValue);
        Assert.Equal("the data reaches 32767: the next free value is beyond the sequence's MAXVALUE or the column type", evaluation.Reason);
        Assert.True(evaluation.IsNearlyExhausted);
    }

    [Fact]
    public void Evaluate_Exhausted_SkippedAndFullyUsed()
    {
        var evaluation = SequenceMath.Evaluate(Sequence(1, 1, 1, 32767), null, 32767, 0.9);

        Assert.Equal((SequenceStatus.Skipped, 1.0, true), (evaluation.Status, evaluation.UsedFraction, evaluation.IsNearlyExhausted));
        Assert.StartsWith("exhausted:", evaluation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_UsedFraction_NarrowedToTheColumnType()
    {
        // A bigint sequence feeding an integer column ends at 2^31 - 1, not at the sequence's MAXVALUE.
        var evaluation = SequenceMath.Evaluate(Sequence(1, 1, 1, long.MaxValue, "int4"), 2_000_000_001, null, 0.9);

        Assert.Equal(SequenceStatus.Ahead, evaluation.Status);
        Assert.Equal(0.9313, evaluation.UsedFraction, 4);
        Assert.True(evaluation.IsNearlyExhausted);
    }

    [Fact]
    public void Evaluate_Descending_UsedFractionFromTheTop()
    {
        var evaluation = SequenceMath.Evaluate(Sequence(-1, -1, -1000, -1), -1, -901, 0.9);

        Assert.Equal((SequenceStatus.Drifted, -902L), (evaluation.Status, evaluation.RequiredNextValue));
        Assert.Equal(0.9019, evaluation.UsedFraction, 4);
        Assert.True(evaluation.IsNearlyExhausted);
    }

    internal static SequenceInfo Sequence(long start, long increment, long min, long max, string columnType = "int8")
    {
        var sequence = new SequenceInfo
        {
            Oid = 16400,
            Schema = "public",
            Name = "users_id_seq",
            Start = start,
            Increment = increment,
            Min = min,
            Max = max,
            Cycle = false,
            Cache = 1,
            SchemaUsage = true,
            CanSelect = true,
            CanUsage = true,
            CanUpdate = true,
        };
        sequence.Links.Add(Link("public", "users", "id", columnType));
        return sequence;
    }

    internal static SequenceLink Link(string schema, string table, string column, string type = "int8", SequenceColumnKind kind = SequenceColumnKind.Serial, string? defaultExpression = "nextval('users_id_seq'::regclass)", char relKind = 'r', uint tableOid = 16500)
        => new(
            tableOid,
            schema,
            table,
            relKind,
            IsPartition: false,
            Ancestors: [],
            column,
            1,
            type switch { "int2" => "smallint", "int4" => "integer", "int8" => "bigint", _ => type },
            type switch { "int2" => 21u, "int4" => 23u, "int8" => 20u, _ => 25u },
            kind,
            defaultExpression,
            NotNull: true,
            CanRead: true,
            RowSecurityActive: false,
            CanLock: true);
}
