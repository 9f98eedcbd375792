// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using IdempotentWrites.AspNetCore;
using IdempotentWrites.Cli;

namespace IdempotentWrites.UnitTests;

// Packages depend only downward (issue #13): the iw tool uses the core's public API and runs without ASP.NET Core; internals
// are visible to the tests alone.
public class LayeringTests
{
    public static TheoryData<string> Packages => new()
    {
        typeof(IIdempotentWriter).Assembly.GetName().Name!,
        typeof(IIdempotencyStore).Assembly.GetName().Name!,
        typeof(Program).Assembly.GetName().Name!,
    };

    [Theory]
    [MemberData(nameof(Packages))]
    public void Package_InternalsVisibleToTheTestsOnly(string package)
    {
        var friends = Assembly.Load(package).GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).Order(StringComparer.Ordinal);

        Assert.Equal(["IdempotentWrites.ConcurrencyTests", "IdempotentWrites.UnitTests"], friends);
    }

    [Fact]
    public void Tool_ReferencesNeitherTheAspNetCorePackageNorAspNetCore()
    {
        var references = typeof(Program).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("IdempotentWrites", references);
        Assert.DoesNotContain(references, r => r.Contains("AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public void Tool_RuntimeConfig_NamesOnlyMicrosoftNetCoreApp()
    {
        // The tool's runtimeconfig as built (copied next to the tests with IdempotentWrites.Cli.dll).
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "IdempotentWrites.Cli.runtimeconfig.json")));
        var options = config.RootElement.GetProperty("runtimeOptions");
        var frameworks = options.TryGetProperty("frameworks", out var list)
            ? [.. list.EnumerateArray().Select(f => f.GetProperty("name").GetString())]
            : new[] { options.GetProperty("framework").GetProperty("name").GetString() };

        Assert.Equal(["Microsoft.NETCore.App"], frameworks);
    }
}
