// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Sequences;

internal readonly record struct SequenceEvaluation(
    SequenceStatus Status,
    long? RequiredNextValue,
    double UsedFraction,
    bool IsNearlyExhausted,
    string? Reason);
