// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// The commands (or batches) of one round trip of a plan, kept one per server backend (a physical connection, by its
// process id). A call that finds one for the connection it got uses it again: its statements are already prepared there,
// so Npgsql does not look their prepared statements up again by SQL text, and its typed parameters keep the type they
// resolved (only their values are set). Hand-written code builds a command and its parameters on every call.
//
// One serves one call at a time (a backend serves one connection at a time; the flag also covers two servers' backends
// with one process id). A failed round trip, or a row whose values need parameters of another shape (a null where the
// kept one is typed), drops it and the call builds a new one. After a call its values are cleared, so it keeps no row's
// data alive. Past MaxBackends entries (backends come and go: Connection Lifetime, a restart) the set starts over.
internal abstract class KeptCommands<TCommand>
    where TCommand : class
{
    private const int MaxBackends = 256;

    private readonly ConcurrentDictionary<int, Entry> _byBackend = new();

    // The ones kept now (for tests).
    public IReadOnlyList<TCommand> Kept => [.. _byBackend.Values.Select(e => e.Command)];

    // The one kept for the backend (connection's ProcessID, read while it is open) with row's values bound, or null
    // (none, in use, or of another shape).
    public TCommand? Rent(NpgsqlConnection connection, int backend, WritePlan plan, object row)
    {
        if (!_byBackend.TryGetValue(backend, out var entry) || !entry.TryTake())
        {
            return null;
        }

        var command = entry.Command;
        if (!TryBind(command, plan, row, connection))
        {
            // A null (or a value the codec converts) takes a parameter of another shape: make room for the new one.
            _byBackend.TryRemove(new KeyValuePair<int, Entry>(backend, entry));
            return null;
        }

        return command;
    }

    // After a round trip that succeeded (its reader disposed): keeps command for the next call on this backend. False when
    // it is not kept (another one has the place): the caller disposes it.
    public bool Return(int backend, TCommand command, WritePlan plan)
    {
        ClearValues(command, plan);
        if (_byBackend.TryGetValue(backend, out var entry))
        {
            if (!ReferenceEquals(entry.Command, command))
            {
                return false;
            }

            entry.Release();
            return true;
        }

        if (_byBackend.Count >= MaxBackends)
        {
            _byBackend.Clear();
        }

        return _byBackend.TryAdd(backend, new Entry(command));
    }

    // After a failed round trip: a kept one is dropped (its state is not known). The connection may be broken by then,
    // hence the backend read before.
    public void Drop(int backend, TCommand command)
    {
        if (_byBackend.TryGetValue(backend, out var entry) && ReferenceEquals(entry.Command, command))
        {
            _byBackend.TryRemove(new KeyValuePair<int, Entry>(backend, entry));
        }
    }

    // Sets row's values on command's parameters and points it at connection (its timeout reset to the connection's).
    // False when a value needs a parameter of another shape.
    protected abstract bool TryBind(TCommand command, WritePlan plan, object row, NpgsqlConnection connection);

    protected abstract void ClearValues(TCommand command, WritePlan plan);

    private sealed class Entry(TCommand command)
    {
        private int _inUse;

        public TCommand Command { get; } = command;

        public bool TryTake() => Interlocked.Exchange(ref _inUse, 1) == 0;

        public void Release() => Volatile.Write(ref _inUse, 0);
    }
}
