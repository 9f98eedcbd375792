// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Mapping;

// One key element of an index: a plain column (Column set) or an expression (Definition only).
internal sealed record IndexKey(string? Column, string Definition);
