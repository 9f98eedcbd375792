// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;

namespace LoadDriver;

// One scenario in one configuration: ops/s of every run, median, min and max.
internal sealed record Result(string Section, string Workload, int Callers, string Scenario, double[] Runs)
{
    public double Median
    {
        get
        {
            var sorted = Runs.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    public double Min => Runs.Min();

    public double Max => Runs.Max();

    public static string WorkloadName(int mix) => mix switch
    {
        0 => "fresh",
        100 => "hot-1000",
        _ => $"{mix}%-existing",
    };

    public static Result Create(string section, int mix, int callers, string scenario, IEnumerable<double> runs)
        => new(section, WorkloadName(mix), callers, scenario, [.. runs]);

    public static Result Parse(string line)
    {
        var f = line.Split('\t');
        return new Result(f[0], f[1], int.Parse(f[2], CultureInfo.InvariantCulture), f[3], [.. f[4].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture))]);
    }

    public string ToTsv()
        => string.Join('\t', Section, Workload, Callers.ToString(CultureInfo.InvariantCulture), Scenario, string.Join(',', Runs.Select(r => r.ToString("F1", CultureInfo.InvariantCulture))));

    public string ToText()
        => string.Create(CultureInfo.InvariantCulture, $"{Section,-14} {Workload,-14} callers={Callers,-3} {Scenario,-36} median {Median,9:F0} ops/s  (min {Min:F0}, max {Max:F0})");
}
