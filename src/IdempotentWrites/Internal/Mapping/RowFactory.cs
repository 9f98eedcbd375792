// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace IdempotentWrites.Internal.Mapping;

// Builds rows from column values: a parameterless constructor plus setters, or a positional record's constructor.
internal static class RowFactory
{
    public static ConstructorInfo? ParameterlessConstructor<[DynamicallyAccessedMembers(TableMapping.RowMembers)] T>()
        => typeof(T).GetConstructor(BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);

    public static Func<object?[], object> Create<[DynamicallyAccessedMembers(TableMapping.RowMembers)] T>(
        string table,
        IReadOnlyList<ColumnMapping> columns)
    {
        var type = typeof(T);
        var constructors = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        var byProperty = columns.Select((c, i) => (c, i)).ToDictionary(x => x.c.Property.Name, x => x.i, StringComparer.OrdinalIgnoreCase);

        var parameterless = constructors.FirstOrDefault(c => c.GetParameters().Length == 0);
        var constructor = parameterless ?? constructors
            .Where(c => c.GetParameters().All(p => p.Name is not null && byProperty.ContainsKey(p.Name)))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault()
            ?? throw new TableMappingException(
                table,
                $"type {type.Name} needs a public parameterless constructor or one whose parameters are named after its mapped properties.");

        var parameters = constructor.GetParameters();
        var argumentIndexes = parameters.Select(p => byProperty[p.Name!]).ToArray();
        var argumentTypes = parameters.Select(p => p.ParameterType).ToArray();
        var fromConstructor = new HashSet<int>(argumentIndexes);
        var setters = columns.Select((c, i) => (c.Property, i)).Where(x => !fromConstructor.Contains(x.i)).ToArray();

        return values =>
        {
            var arguments = new object?[argumentIndexes.Length];
            for (var i = 0; i < arguments.Length; i++)
            {
                arguments[i] = ValueConverter.ToClr(values[argumentIndexes[i]], argumentTypes[i]);
            }

            var row = constructor.Invoke(arguments);
            foreach (var (property, index) in setters)
            {
                property.SetValue(row, ValueConverter.ToClr(values[index], property.PropertyType));
            }

            return row;
        };
    }
}
