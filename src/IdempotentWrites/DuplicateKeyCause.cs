// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The four causes of <c>duplicate key value violates unique constraint</c>.
/// </summary>
public enum DuplicateKeyCause
{
    /// <summary>A sequence feeding a key column is behind the data (after a restore, a COPY or a migration with
    /// explicit ids): repair the sequence.</summary>
    SequenceDrift = 0,

    /// <summary>A row with the same natural key (for example an email address) already exists.</summary>
    NaturalKeyDuplicate = 1,

    /// <summary>The key column is fed by a healthy sequence, so the conflicting value was supplied explicitly (an
    /// import, <c>OVERRIDING SYSTEM VALUE</c>, a copied id).</summary>
    ExplicitIdConflict = 2,

    /// <summary>No row with the key exists any more: a concurrent transaction inserted it and rolled back or deleted it — writers raced.</summary>
    Race = 3,
}
