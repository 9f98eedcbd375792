// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using Npgsql;

namespace IdempotentWrites.Internal.Sequences;

// Reads the state of each sequence and the extreme of each column that draws from it, many statements per round trip,
// and turns them into findings. A statement that fails (permissions changed, lock timeout) only skips its own sequence.
internal static class SequenceScanner
{
    public static async Task<List<SequenceFinding>> ScanAsync(
        NpgsqlDataSource dataSource,
        IReadOnlyList<SequenceInfo> sequences,
        SequenceDoctorOptions options,
        IProgress<SequenceCheckProgress>? progress,
        CancellationToken cancellationToken)
    {
        var reads = new List<Read>();
        var blocked = new Dictionary<SequenceInfo, string>();
        foreach (var sequence in sequences)
        {
            if (SequenceAccess.CheckBlocker(sequence) is { } reason)
            {
                blocked[sequence] = reason;
                continue;
            }

            reads.Add(new Read(sequence, null, SequenceSql.ReadState(sequence)));
            reads.AddRange(sequence.Compared.Select(l => new Read(sequence, l, SequenceSql.ReadExtreme(l, sequence.IsDescending))));
        }

        progress?.Report(new SequenceCheckProgress(0, reads.Count));
        for (var done = 0; done < reads.Count;)
        {
            var chunk = reads.GetRange(done, Math.Min(SequenceDoctorConstants.ScanBatchSize, reads.Count - done));
            await ExecuteAsync(dataSource, chunk, options.LockTimeout, cancellationToken).ConfigureAwait(false);
            done += chunk.Count;
            progress?.Report(new SequenceCheckProgress(done, reads.Count));
        }

        var findings = new List<SequenceFinding>(sequences.Count);
        var readsBySequence = reads.ToLookup(r => r.Sequence);
        foreach (var sequence in sequences)
        {
            findings.Add(blocked.TryGetValue(sequence, out var reason)
                ? Skipped(sequence, reason)
                : Evaluate(sequence, [.. readsBySequence[sequence]], options.NearExhaustionThreshold));
        }

        return findings;
    }

    public static SequenceFinding Skipped(SequenceInfo sequence, string reason)
        => new(sequence, sequence.ToColumns(), SequenceStatus.Skipped, null, null, null, 0, false, reason);

    private static SequenceFinding Evaluate(SequenceInfo sequence, List<Read> reads, double threshold)
    {
        if (reads.FirstOrDefault(r => r.Error is not null) is { } failed)
        {
            return Skipped(sequence, failed.Error!);
        }

        if (reads[0].State is not { } state)
        {
            return Skipped(
                sequence,
                $"the role sees sequence {sequence.DisplayName} only through USAGE and it was never called, so its " +
                "next value is unknown (grant SELECT on it)");
        }

        var next = state.NextValue(sequence);
        var extreme = SequenceMath.Extreme(reads.Skip(1).Select(r => r.Extreme), sequence.IsDescending);
        var evaluation = SequenceMath.Evaluate(sequence, next, extreme, threshold);
        return new SequenceFinding(
            sequence,
            sequence.ToColumns(),
            evaluation.Status,
            next,
            extreme,
            evaluation.RequiredNextValue,
            evaluation.UsedFraction,
            evaluation.IsNearlyExhausted,
            evaluation.Reason);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, List<Read> chunk, TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await ExecuteInTransactionAsync(connection, chunk, lockTimeout, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresException)
            {
                // One statement failed and aborted the batch: run each on its own so the failure stays with its sequence.
            }

            foreach (var read in chunk)
            {
                try
                {
                    await ExecuteInTransactionAsync(connection, [read], lockTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException ex)
                {
                    read.Error = "could not read " +
                        (read.Link is null
                            ? "sequence " + read.Sequence.DisplayName
                            : "table " + SequenceText.Name(read.Link.Schema, read.Link.Table)) +
                        $" ({ex.SqlState}: {ex.MessageText})";
                }
            }
        }
    }

    // A short transaction per batch: lock_timeout applies to it alone (SET LOCAL), and the locks it takes (ACCESS SHARE on
    // every table read) are released at its end instead of piling up over thousands of tables.
    private static async Task ExecuteInTransactionAsync(
        NpgsqlConnection connection,
        List<Read> reads,
        TimeSpan lockTimeout,
        CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(SequenceSql.SetLockTimeout(lockTimeout).CreateBatchCommand());
            foreach (var read in reads)
            {
                batch.BatchCommands.Add(read.Statement.CreateBatchCommand());
            }

            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                foreach (var read in reads)
                {
                    if (!await reader.NextResultAsync(cancellationToken).ConfigureAwait(false)
                        || !await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        throw new InvalidOperationException($"No result for: {read.Statement.Text}");
                    }

                    if (read.Link is null)
                    {
                        read.State = SequenceState.Read(reader);
                    }
                    else
                    {
                        read.Extreme = reader.IsDBNull(0) ? null : reader.GetInt64(0);
                    }
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Read(SequenceInfo sequence, SequenceLink? link, SqlStatement statement)
    {
        public SequenceInfo Sequence { get; } = sequence;

        public SequenceLink? Link { get; } = link;

        public SqlStatement Statement { get; } = statement;

        public SequenceState? State { get; set; }

        public long? Extreme { get; set; }

        public string? Error { get; set; }
    }
}
