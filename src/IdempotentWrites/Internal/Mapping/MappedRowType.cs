// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Mapping;

// Registered once per MapTable call, so a second mapping of the same row type is refused where it is written.
internal sealed record MappedRowType(Type RowType, string Table);
