// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Mapping;

// Filled by IdempotentWritesBuilder.MapTable through the options pattern, so repeated registrations compose.
internal sealed class TableMappingRegistry
{
    public Dictionary<Type, TableMapping> Mappings { get; } = [];
}
