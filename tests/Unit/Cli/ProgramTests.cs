// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Cli;

namespace IdempotentWrites.UnitTests.Cli;

public class ProgramTests
{
    [Theory]
    [InlineData("sequences", "chek")]
    [InlineData("sequences", "check", "--bogus")]
    [InlineData("sequences", "to-identity")]
    [InlineData("diagnose")]
    public async Task RunAsync_BadArguments_Exit2WithUsageHint(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync(args, output, error);

        Assert.Equal(2, exit);
        Assert.StartsWith("iw: error: ", error.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("Run 'iw --help' for usage." + Environment.NewLine, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Help_ListsCommandsExit0()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync(["sequences", "--help"], output, error);

        Assert.Equal(0, exit);
        Assert.Contains("check", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("fix", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("to-identity", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InvalidConnectionString_OneLineErrorExit2()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Program.RunAsync(["sequences", "check", "--connection", "Hots=x;Password=hunter22"], output, error);

        Assert.Equal(2, exit);
        Assert.StartsWith("iw: error: ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter22", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
    }
}
