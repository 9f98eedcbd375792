// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using System.Text.RegularExpressions;

namespace IdempotentWrites.UnitTests.Docs;

// The C# code in docs/*.md must compile: every ```csharp block has to appear, line for line (indentation and runs of
// whitespace normalized, blank lines ignored), inside a `// <snippet:name>` ... `// </snippet:name>` region of
// docs/snippets/*.cs, a project of the solution, so a build breaks when the docs show code that no longer compiles.
public sealed partial class DocsSnippetsTests
{
    private const string SnippetsFolder = "docs/snippets";

    [Fact]
    public void CSharpBlocks_EveryBlockInDocs_AppearsInACompiledSnippetRegion()
    {
        var root = RepositoryRoot();
        var regions = ReadRegions(root);
        var blocks = ReadBlocks(root);

        Assert.NotEmpty(blocks);
        var missing = blocks
            .Where(block => !regions.Any(region => Contains(region.Text, block.Text)))
            .Select(block => $"  {block.File}:{block.Line}: the C# block starting with \"{block.FirstLine}\" is in no snippet region")
            .ToList();
        Assert.True(
            missing.Count == 0,
            $"{missing.Count} C# block(s) in the docs are not compiled. Copy each into a // <snippet:name> ... // </snippet:name> "
            + $"region of a {SnippetsFolder}/*.cs file (or fix the doc to match the code there):\n{string.Join('\n', missing)}");
    }

    [Fact]
    public void SnippetRegions_Markers_EachOpenedOnceAndClosed()
    {
        var root = RepositoryRoot();
        var problems = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in SnippetFiles(root))
        {
            var open = new Dictionary<string, int>(StringComparer.Ordinal);
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var marker = MarkerPattern().Match(lines[i]);
                if (!marker.Success)
                {
                    continue;
                }

                var name = marker.Groups["name"].Value;
                var where = $"{Relative(root, file)}:{i + 1}";
                if (marker.Groups["close"].Success)
                {
                    if (!open.Remove(name))
                    {
                        problems.Add($"  {where}: </snippet:{name}> closes no open region");
                    }
                }
                else if (!seen.TryAdd(name, where))
                {
                    problems.Add($"  {where}: <snippet:{name}> is already defined at {seen[name]}");
                }
                else
                {
                    open[name] = i + 1;
                }
            }

            problems.AddRange(open.Select(o => $"  {Relative(root, file)}:{o.Value}: <snippet:{o.Key}> is never closed"));
        }

        Assert.NotEmpty(seen);
        Assert.True(problems.Count == 0, $"Malformed snippet regions in {SnippetsFolder}:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public void SnippetRegions_EachRegion_IsShownInTheDocs()
    {
        var root = RepositoryRoot();
        var blocks = ReadBlocks(root);

        var unused = ReadRegions(root)
            .Where(region => !blocks.Any(block => Contains(region.Text, block.Text)))
            .Select(region => $"  {region.File}:{region.Line}: <snippet:{region.Name}>")
            .ToList();
        Assert.True(unused.Count == 0, $"Snippet regions that no ```csharp block of docs/*.md shows (stale, or the doc was edited):\n{string.Join('\n', unused)}");
    }

    [Fact]
    public void SnippetsProject_IsInTheSolution_SoItBuildsWithIt()
    {
        var root = RepositoryRoot();

        Assert.True(File.Exists(Path.Combine(root, "docs", "snippets", "Snippets.csproj")), "docs/snippets/Snippets.csproj is missing.");
        Assert.Contains("\"docs\\snippets\\Snippets.csproj\"", File.ReadAllText(Path.Combine(root, "IdempotentWrites.sln")), StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_IndentationAndInnerWhitespace_Ignored()
    {
        Assert.Equal("a = 1; // x\nb(c);", Normalize(["", "        a  =   1;   // x", "", "\tb(c);  "]));
        Assert.True(Contains("x();\na = 1;\nb(c);\ny();", Normalize(["a = 1;", "    b(c);"])));
        Assert.False(Contains("xa = 1;\nb(c);", Normalize(["a = 1;", "b(c);"])));
    }

    private static bool Contains(string region, string block)
        => ("\n" + region + "\n").Contains("\n" + block + "\n", StringComparison.Ordinal);

    private static string Normalize(IEnumerable<string> lines)
        => string.Join('\n', lines.Select(l => WhitespacePattern().Replace(l.Trim(), " ")).Where(l => l.Length > 0));

    private static List<CodeBlock> ReadBlocks(string root)
    {
        var blocks = new List<CodeBlock>();
        var docs = Path.Combine(root, "docs");
        var snippets = Path.Combine(docs, "snippets") + Path.DirectorySeparatorChar;
        foreach (var file in Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories).Where(f => !f.StartsWith(snippets, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var fence = FencePattern().Match(lines[i]);
                if (!fence.Success)
                {
                    continue;
                }

                var start = i;
                var body = new List<string>();
                for (i++; i < lines.Length && !ClosingFencePattern().IsMatch(lines[i]); i++)
                {
                    body.Add(lines[i]);
                }

                var isCSharp = fence.Groups["lang"].Value.ToLowerInvariant() is "csharp" or "cs" or "c#";
                if (isCSharp)
                {
                    var first = body.FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "(empty block)";
                    blocks.Add(new CodeBlock(Relative(root, file), start + 1, first, Normalize(body)));
                }
            }
        }

        return blocks;
    }

    private static List<Region> ReadRegions(string root)
    {
        var regions = new List<Region>();
        foreach (var file in SnippetFiles(root))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var open = MarkerPattern().Match(lines[i]);
                if (!open.Success || open.Groups["close"].Success)
                {
                    continue;
                }

                var name = open.Groups["name"].Value;
                var body = new StringBuilder();
                var content = lines.Skip(i + 1).TakeWhile(l => !(MarkerPattern().Match(l) is { Success: true } m && m.Groups["close"].Success && m.Groups["name"].Value == name));

                // Markers of regions nested inside this one are not code the docs show.
                regions.Add(new Region(Relative(root, file), i + 1, name, Normalize(content.Where(l => !MarkerPattern().IsMatch(l)))));
            }
        }

        return regions;
    }

    private static IEnumerable<string> SnippetFiles(string root)
    {
        var folder = Path.Combine(root, "docs", "snippets");
        var build = new[] { Path.Combine(folder, "bin") + Path.DirectorySeparatorChar, Path.Combine(folder, "obj") + Path.DirectorySeparatorChar };
        return Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !build.Any(b => f.StartsWith(b, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal);
    }

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file).Replace('\\', '/');

    private static string RepositoryRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "IdempotentWrites.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException($"Repository root (IdempotentWrites.sln) not found above {AppContext.BaseDirectory}.");
        }

        return root;
    }

    [GeneratedRegex(@"^\s*```\s*(?<lang>[^\s`]*).*$")]
    private static partial Regex FencePattern();

    [GeneratedRegex(@"^\s*```\s*$")]
    private static partial Regex ClosingFencePattern();

    [GeneratedRegex(@"^\s*//\s*<(?<close>/)?snippet:(?<name>[A-Za-z0-9_.-]+)>\s*$")]
    private static partial Regex MarkerPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespacePattern();

    private sealed record CodeBlock(string File, int Line, string FirstLine, string Text);

    private sealed record Region(string File, int Line, string Name, string Text);
}
