// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The event ids of the log messages IdempotentWrites.AspNetCore writes (2xxx). Keys, scopes and bodies are never logged.
/// </summary>
public static class IdempotentWritesAspNetCoreEventId
{
    /// <summary>A stored response was replayed (Debug).</summary>
    public const int ResponseReplayed = 2001;

    /// <summary>A request was refused because its key is in progress (Debug).</summary>
    public const int KeyInProgress = 2002;

    /// <summary>A key was reused with a different request (Information).</summary>
    public const int FingerprintMismatch = 2003;

    /// <summary>The store could not be reached, and the request was refused with 503 (Error).</summary>
    public const int StoreUnavailable = 2004;

    /// <summary>An execution lost its claim before completing (taken over after the lease); its response was not stored (Warning).</summary>
    public const int ClaimLost = 2005;

    /// <summary>The response or release could not be written to the store after the handler ran (Error).</summary>
    public const int StoreWriteFailed = 2006;

    /// <summary>A key was released after an exception or a status that is not stored (Debug).</summary>
    public const int KeyReleased = 2007;

    /// <summary>Expired keys were purged (Debug).</summary>
    public const int KeysPurged = 2008;

    /// <summary>The purge of expired keys failed; it runs again at the next interval (Warning).</summary>
    public const int PurgeFailed = 2009;

    /// <summary>The key store table was created or found at startup (Information).</summary>
    public const int StoreTableReady = 2010;

    /// <summary>A database error was answered with a problem details response (Debug).</summary>
    public const int ConflictMapped = 2011;

    /// <summary>A response body exceeded the cap; only its status and headers were stored (Warning).</summary>
    public const int ResponseBodyOmitted = 2012;

    /// <summary>The catalog definition of a violated constraint could not be read; the problem has no fields (Warning).</summary>
    public const int ConstraintLookupFailed = 2013;

    /// <summary>The request could not be read (body too large, broken framing, too slow) and was answered with its 4xx;
    /// the key was not consumed (Debug).</summary>
    public const int BadRequest = 2014;

    /// <summary>Storing a response or releasing a key failed on a transient error (the database restarting or failing
    /// over) and is tried again while the key's lease lasts (Information).</summary>
    public const int StoreRetrying = 2015;
}
