// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Writing;

namespace IdempotentWrites.UnitTests.Internal;

public class InsertOrGetStrategyTests
{
    [Fact]
    public void New_InsertFirstHitRateZero()
    {
        var strategy = new InsertOrGetStrategy();

        Assert.False(strategy.SelectFirst);
        Assert.Equal(0, strategy.HitRate);
        Assert.Equal(0, strategy.Switches);
    }

    [Fact]
    public void Record_MostlyHits_SwitchesToSelectFirstOnceAfterAboutSixtyCalls()
    {
        var strategy = new InsertOrGetStrategy();
        var switchedAt = -1;
        for (var i = 1; i <= 200; i++)
        {
            if (strategy.Record(existing: true))
            {
                switchedAt = i;
            }
        }

        Assert.True(strategy.SelectFirst);
        Assert.Equal(1, strategy.Switches);
        Assert.InRange(switchedAt, 50, 70);
        Assert.True(strategy.HitRate > 0.99);
    }

    [Fact]
    public void Record_HitRateBetweenThresholds_KeepsTheCurrentChoice()
    {
        var strategy = new InsertOrGetStrategy();

        // 80% hits: inside the hysteresis band (0.75–0.85), so insert-first stays.
        for (var i = 0; i < 1000; i++)
        {
            strategy.Record(existing: i % 5 != 0);
        }

        Assert.False(strategy.SelectFirst);
        Assert.Equal(0, strategy.Switches);

        for (var i = 0; i < 200; i++)
        {
            strategy.Record(existing: true);
        }

        // Back to 80%: select-first stays too.
        for (var i = 0; i < 1000; i++)
        {
            strategy.Record(existing: i % 5 != 0);
        }

        Assert.True(strategy.SelectFirst);
        Assert.Equal(1, strategy.Switches);
    }

    [Fact]
    public void Record_MissesAfterHits_BackToInsertFirst()
    {
        var strategy = new InsertOrGetStrategy();
        for (var i = 0; i < 200; i++)
        {
            strategy.Record(existing: true);
        }

        var misses = 0;
        while (strategy.SelectFirst)
        {
            strategy.Record(existing: false);
            misses++;
        }

        Assert.InRange(misses, 5, 15);
        Assert.Equal(2, strategy.Switches);
    }

    [Fact]
    public void Force_OverridesTheObservedChoiceUntilCleared()
    {
        var strategy = new InsertOrGetStrategy();
        strategy.Force(true);
        Assert.True(strategy.SelectFirst);

        for (var i = 0; i < 200; i++)
        {
            strategy.Record(existing: true);
        }

        strategy.Force(false);
        Assert.False(strategy.SelectFirst);
        strategy.Force(null);
        Assert.True(strategy.SelectFirst);
    }
}
