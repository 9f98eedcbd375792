// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

// One CSV record and the file line it starts on.
internal sealed record CsvRecord(long Line, string?[] Fields);
