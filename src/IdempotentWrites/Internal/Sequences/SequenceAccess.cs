// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Sequences;

// What stops the role from comparing or repairing a sequence, from the privileges read with the catalog. Such a sequence is
// reported and skipped; the rest of the run goes on.
internal static class SequenceAccess
{
    public static string? CheckBlocker(SequenceInfo sequence)
    {
        if (!sequence.Compared.Any())
        {
            return "no smallint, integer or bigint column takes the sequence's values directly, so there is no data to compare";
        }

        if (!sequence.CanSelect && !sequence.CanUsage)
        {
            return $"the role cannot read the state of sequence {sequence.DisplayName} (needs SELECT or USAGE on it)";
        }

        foreach (var link in sequence.Compared)
        {
            if (!link.CanRead)
            {
                return $"the role cannot read table {SequenceText.Name(link.Schema, link.Table)} (needs SELECT on " +
                    $"column {SequenceText.Ident(link.Column)} and USAGE on schema {SequenceText.Ident(link.Schema)})";
            }

            if (link.RowSecurityActive)
            {
                return $"row-level security is active on table {SequenceText.Name(link.Schema, link.Table)} for " +
                    "this role, so MAX would not see every row";
            }
        }

        return null;
    }

    public static string? RepairBlocker(SequenceInfo sequence)
    {
        if (CheckBlocker(sequence) is { } blocker)
        {
            return blocker;
        }

        if (!sequence.CanUpdate)
        {
            return $"the role cannot update sequence {sequence.DisplayName} (setval needs UPDATE on it)";
        }

        var unlockable = sequence.Links.FirstOrDefault(l => !l.CanLock);
        return unlockable is null
            ? null
            : $"the role cannot lock table {SequenceText.Name(unlockable.Schema, unlockable.Table)} against inserts " +
                "during the repair (needs UPDATE, DELETE or TRUNCATE on it)";
    }
}
