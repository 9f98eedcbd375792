// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// The EF Core sample: `ConnectionStrings__Postgres=... dotnet run --project samples/Shop.Api`.
namespace ShopApi;

internal static class Program
{
    public static async Task Main(string[] args)
    {
        var app = ShopApp.Create(args);
        await app.RunAsync();
    }
}
