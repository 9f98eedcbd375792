// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.UnitTests;

public class SequenceDoctorOptionsTests
{
    [Fact]
    public void Ctor_Defaults()
    {
        var options = new SequenceDoctorOptions();

        Assert.Empty(options.Schemas);
        Assert.Equal(0.9, options.NearExhaustionThreshold);
        Assert.Equal(TimeSpan.FromSeconds(10), options.LockTimeout);
    }

    [Fact]
    public void SequenceDoctor_ValidOptions_Accepted()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");
        var options = new SequenceDoctorOptions { NearExhaustionThreshold = 1, LockTimeout = TimeSpan.FromHours(1) };
        options.Schemas.Add("billing");

        _ = new SequenceDoctor(dataSource, options);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    public void SequenceDoctor_ThresholdOutOfRange_ThrowsNamingOption(double threshold)
    {
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");

        var ex = Assert.Throws<ArgumentException>(() => new SequenceDoctor(dataSource, new SequenceDoctorOptions { NearExhaustionThreshold = threshold }));

        Assert.Equal("options", ex.ParamName);
        Assert.StartsWith("NearExhaustionThreshold: The field SequenceDoctorOptions.NearExhaustionThreshold must be between 0.01 and 1.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3601)]
    public void SequenceDoctor_LockTimeoutOutOfRange_ThrowsWithValue(int seconds)
    {
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");

        var ex = Assert.Throws<ArgumentException>(() => new SequenceDoctor(dataSource, new SequenceDoctorOptions { LockTimeout = TimeSpan.FromSeconds(seconds) }));

        Assert.StartsWith($"SequenceDoctorOptions.LockTimeout must be positive and at most one hour; it is {TimeSpan.FromSeconds(seconds)}.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SequenceDoctor_BlankSchema_ThrowsListingSchemas()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");
        var options = new SequenceDoctorOptions();
        options.Schemas.Add("public");
        options.Schemas.Add(" ");

        var ex = Assert.Throws<ArgumentException>(() => new SequenceDoctor(dataSource, options));

        Assert.StartsWith("SequenceDoctorOptions.Schemas contains a blank name (schemas: 'public', ' ').", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SequenceDoctor_NullArguments_Throw()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");

        Assert.Equal("dataSource", Assert.Throws<ArgumentNullException>(() => new SequenceDoctor(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new SequenceDoctor(dataSource, (SequenceDoctorOptions)null!)).ParamName);
    }

    [Fact]
    public async Task RepairColumnAsync_BlankNames_Throw()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");
        var doctor = new SequenceDoctor(dataSource);

        Assert.Equal("table", (await Assert.ThrowsAsync<ArgumentException>(() => doctor.RepairColumnAsync(null, " ", "id"))).ParamName);
        Assert.Equal("column", (await Assert.ThrowsAsync<ArgumentNullException>(() => doctor.RepairColumnAsync(null, "t", null!))).ParamName);
        Assert.Equal("errorTextOrConstraint", (await Assert.ThrowsAsync<ArgumentException>(() => doctor.DiagnoseAsync(""))).ParamName);
    }
}
