// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore.Internal;

// Passes every write to the inner stream (the client's response, or a buffer in transactional mode) and keeps a copy of
// the first maxCaptured bytes for the store. Past the cap the copy is dropped and the body is marked omitted.
internal sealed class ResponseCaptureStream(Stream inner, long maxCaptured) : Stream
{
    private MemoryStream? _captured = new();

    public bool BodyOmitted { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public ReadOnlyMemory<byte> Captured => _captured is null ? ReadOnlyMemory<byte>.Empty : _captured.GetBuffer().AsMemory(0, (int)_captured.Length);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Capture(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Capture(buffer.Span);
    }

    private void Capture(ReadOnlySpan<byte> buffer)
    {
        if (_captured is null)
        {
            return;
        }

        if (_captured.Length + buffer.Length > maxCaptured)
        {
            BodyOmitted = true;
            _captured = null;
            return;
        }

        _captured.Write(buffer);
    }
}
