// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Writing;

namespace IdempotentWrites.UnitTests.Internal;

public class InsertOrGetStrategyTests
{
    [Fact]
    public void New_InsertOnlyHitRateZero()
    {
        var strategy = new InsertOrGetStrategy();

        Assert.Equal(InsertOrGetMode.InsertOnly, strategy.Mode);
        Assert.Equal(0, strategy.HitRate);
        Assert.Equal(0, strategy.Switches);
    }

    [Fact]
    public void Record_MostlyHits_ToBatchWithinAFewCallsThenSelectFirstAfterAboutSixty()
    {
        var strategy = new InsertOrGetStrategy();
        var batchAt = -1;
        var selectFirstAt = -1;
        for (var i = 1; i <= 200; i++)
        {
            if (strategy.Record(existing: true))
            {
                (strategy.Mode == InsertOrGetMode.Batch ? ref batchAt : ref selectFirstAt) = i;
            }
        }

        Assert.Equal(InsertOrGetMode.SelectFirst, strategy.Mode);
        Assert.Equal(2, strategy.Switches);
        Assert.InRange(batchAt, 8, 14);
        Assert.InRange(selectFirstAt, 50, 70);
        Assert.True(strategy.HitRate > 0.99);
    }

    [Theory]
    [InlineData(5, 4, nameof(InsertOrGetMode.Batch))]           // 80% hits: inside the select-first band (0.75–0.85)
    [InlineData(4, 1, nameof(InsertOrGetMode.InsertOnly))]      // 25% hits: inside the insert-only band (0.2–0.3)
    public void Record_HitRateInsideABand_KeepsTheCurrentMode(int period, int hitsPerPeriod, string fromName)
    {
        var from = Enum.Parse<InsertOrGetMode>(fromName);
        var strategy = new InsertOrGetStrategy();
        if (from == InsertOrGetMode.Batch)
        {
            for (var i = 0; strategy.Mode != InsertOrGetMode.Batch; i++)
            {
                strategy.Record(existing: true);
            }
        }

        var switches = strategy.Switches;
        for (var i = 0; i < 1000; i++)
        {
            strategy.Record(existing: i % period < hitsPerPeriod);
        }

        Assert.Equal(from, strategy.Mode);
        Assert.Equal(switches, strategy.Switches);
    }

    [Fact]
    public void Record_HitRateInsideTheSelectFirstBand_SelectFirstStays()
    {
        var strategy = new InsertOrGetStrategy();
        for (var i = 0; i < 200; i++)
        {
            strategy.Record(existing: true);
        }

        for (var i = 0; i < 1000; i++)
        {
            strategy.Record(existing: i % 5 != 0);
        }

        Assert.Equal(InsertOrGetMode.SelectFirst, strategy.Mode);
        Assert.Equal(2, strategy.Switches);
    }

    [Fact]
    public void Record_MissesAfterHits_BackToBatchThenInsertOnly()
    {
        var strategy = new InsertOrGetStrategy();
        for (var i = 0; i < 200; i++)
        {
            strategy.Record(existing: true);
        }

        var toBatch = 0;
        while (strategy.Mode == InsertOrGetMode.SelectFirst)
        {
            strategy.Record(existing: false);
            toBatch++;
        }

        var toInsertOnly = 0;
        while (strategy.Mode == InsertOrGetMode.Batch)
        {
            strategy.Record(existing: false);
            toInsertOnly++;
        }

        Assert.InRange(toBatch, 5, 15);
        Assert.InRange(toInsertOnly, 35, 60);
        Assert.Equal(InsertOrGetMode.InsertOnly, strategy.Mode);
        Assert.Equal(4, strategy.Switches);
    }

    [Fact]
    public void Force_OverridesTheObservedChoiceUntilCleared()
    {
        var strategy = new InsertOrGetStrategy();
        strategy.Force(InsertOrGetMode.SelectFirst);
        Assert.Equal(InsertOrGetMode.SelectFirst, strategy.Mode);

        for (var i = 0; i < 200; i++)
        {
            strategy.Record(existing: true);
        }

        strategy.Force(InsertOrGetMode.Batch);
        Assert.Equal(InsertOrGetMode.Batch, strategy.Mode);
        strategy.Force(null);
        Assert.Equal(InsertOrGetMode.SelectFirst, strategy.Mode);
    }
}
