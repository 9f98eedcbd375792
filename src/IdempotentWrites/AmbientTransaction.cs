// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// The transaction that single-row writes made without one join: the overloads of
/// <see cref="IIdempotentWriter.InsertOrGetAsync{T}(T, CancellationToken)">InsertOrGetAsync</see>,
/// <see cref="IIdempotentWriter.UpsertAsync{T}(T, CancellationToken)">UpsertAsync</see> and
/// <see cref="IIdempotentWriter.InsertAsync{T}(T, CancellationToken)">InsertAsync</see> without a transaction run in
/// <see cref="Current"/> when there is one, exactly as the overloads that take a transaction do (no retries, a savepoint
/// around each write). Transactional idempotency (<c>HttpIdempotencyOptions.Transactional</c>) enters the request's transaction
/// for the handler, so that a write the handler makes without passing it still commits with the stored response, or not at all.
/// <para/>
/// The bulk writes and <c>ExecuteInTransactionAsync</c> commit on their own, so they throw
/// <see cref="InvalidOperationException"/> while an ambient transaction is current; write deliberately outside it within
/// <see cref="Suppress"/>.
/// </summary>
/// <remarks>
/// The value flows with the <see cref="ExecutionContext"/> (an <see cref="AsyncLocal{T}"/>), like <c>Activity.Current</c>. When
/// the scope that entered it is disposed, work that captured it earlier (a task started and not awaited) sees no transaction
/// rather than a completed one. A transaction's connection runs one command at a time: do not write concurrently through it.
/// </remarks>
public static class AmbientTransaction
{
    private static readonly AsyncLocal<Holder?> CurrentHolder = new();

    /// <summary>
    /// Gets the transaction that writes without one join, or <see langword="null"/> when there is none (or it is suppressed).
    /// </summary>
    public static NpgsqlTransaction? Current => CurrentHolder.Value?.Transaction;

    /// <summary>
    /// Makes <paramref name="transaction"/> the ambient transaction until the returned scope is disposed.
    /// </summary>
    /// <param name="transaction">An open transaction on the writer's database. The caller still owns it: it commits or rolls
    /// it back, and disposes the scope first.</param>
    /// <returns>A scope that restores the previous ambient transaction when disposed.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="transaction"/> is <see langword="null"/>.</exception>
    public static IDisposable Enter(NpgsqlTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return new Scope(transaction);
    }

    /// <summary>
    /// Lets writes run outside any ambient transaction (each commits on its own) until the returned scope is disposed: for a
    /// write that must persist whatever the enclosing transaction does, such as an audit row.
    /// </summary>
    /// <returns>A scope that restores the previous ambient transaction when disposed.</returns>
    public static IDisposable Suppress() => new Scope(null);

    private sealed class Holder(NpgsqlTransaction? transaction)
    {
        public NpgsqlTransaction? Transaction { get; set; } = transaction;
    }

    private sealed class Scope : IDisposable
    {
        private readonly Holder? _previous;
        private readonly Holder _holder;
        private bool _disposed;

        public Scope(NpgsqlTransaction? transaction)
        {
            _previous = CurrentHolder.Value;
            _holder = new Holder(transaction);
            CurrentHolder.Value = _holder;
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;

            // Cleared in place: copies of the execution context taken inside the scope share this holder.
            _holder.Transaction = null;
            CurrentHolder.Value = _previous;
        }
    }
}
