// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace IdempotentWrites.ConcurrencyTests.Faults;

// A loopback TCP proxy in front of PostgreSQL that can lose a connection at the worst moment: after the client sent a
// statement containing a marker and the server answered it — so the server has committed, and the client never hears.
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private volatile string _targetHost;
    private volatile int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly HashSet<CancellationTokenSource> _open = [];
    private byte[]? _marker;
    private int _dropped;
    private volatile bool _down;

    // listenPort 0: any free port; else that port (a server that "comes up" where clients were already pointed).
    public FaultProxy(string targetHost, int targetPort, int listenPort = 0)
    {
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Dropped => Volatile.Read(ref _dropped);

    // A virtual host that moves (a DNS name or a cloud proxy after a failover): connections from now on reach the new
    // server; the open ones are cut, as the old server's are when it dies.
    public void Retarget(string host, int port)
    {
        _targetHost = host;
        _targetPort = port;
        lock (_open)
        {
            foreach (var connection in _open)
            {
                connection.Cancel();
            }
        }
    }

    // Down: every open connection is cut and new ones are closed at once, as when the server dies; up again: connections
    // reach the server as before.
    public bool Down
    {
        get => _down;
        set
        {
            _down = value;
            if (value)
            {
                lock (_open)
                {
                    foreach (var connection in _open)
                    {
                        connection.Cancel();
                    }
                }
            }
        }
    }

    // The next connection that sends a message containing the marker loses its connection instead of the server's reply.
    public void DropReplyAfter(string marker) => Volatile.Write(ref _marker, Encoding.UTF8.GetBytes(marker));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await Task.WhenAll(_pumps.ToArray()).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException
            or TimeoutException or InvalidOperationException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_pumps)
            {
                _pumps.Add(HandleAsync(client));
            }
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var _ = client;
        if (_down)
        {
            client.Client.Close(0);
            return;
        }

        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server is down (a killed primary): the client's connection is closed, as the server's would be.
            client.Client.Close(0);
            return;
        }

        client.NoDelay = server.NoDelay = true;
        var armed = new StrongBox();
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        lock (_open)
        {
            _open.Add(cut);
        }

        try
        {
            if (!client.Connected || !server.Connected)
            {
                // The client left while the server connection was being made.
                return;
            }

            var up = PumpAsync(client.GetStream(), server.GetStream(), armed, upstream: true, cut);
            var down = PumpAsync(server.GetStream(), client.GetStream(), armed, upstream: false, cut);
            await Task.WhenAny(up, down);
            await cut.CancelAsync();
            client.Client.Close(0);
            server.Client.Close(0);
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(cut);
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, StrongBox armed, bool upstream, CancellationTokenSource cut)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, cut.Token);
                if (read == 0)
                {
                    return;
                }

                if (upstream)
                {
                    var marker = Volatile.Read(ref _marker);
                    if (marker is not null && buffer.AsSpan(0, read).IndexOf(marker) >= 0 && Interlocked.CompareExchange(ref _marker, null, marker) == marker)
                    {
                        armed.Value = true;
                    }
                }
                else if (armed.Value)
                {
                    // The server has executed and committed (it answers a batch only after its Sync); the reply is lost.
                    Interlocked.Increment(ref _dropped);
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cut.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    private sealed class StrongBox
    {
        public volatile bool Value;
    }
}
