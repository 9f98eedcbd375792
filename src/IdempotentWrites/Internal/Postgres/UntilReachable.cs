// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Postgres;

// The background retry of a startup step that needs the database (mapping validation, the key store's table): the first
// try after FirstDelay, then doubling up to MaxDelay, until it succeeds, fails for another reason than the database being
// unreachable, or the host stops. Linked into IdempotentWrites.AspNetCore.
internal static class UntilReachable
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    // Returns when attempt succeeded (true) or the host stopped (false); an exception isUnavailable rejects propagates.
    public static async Task<bool> RetryAsync(Func<CancellationToken, Task> attempt, Func<Exception, bool> isUnavailable, CancellationToken stopping)
    {
        for (var delay = FirstDelay; !stopping.IsCancellationRequested; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks)))
        {
            try
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
                await attempt(stopping).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (isUnavailable(ex))
            {
                // Still unreachable: try again later.
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return false;
            }
        }

        return false;
    }
}
