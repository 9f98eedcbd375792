// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace UsersApi;

// Users.Api: a minimal API showing IdempotentWrites in ASP.NET Core.
//
//   ConnectionStrings__Postgres="$(bash eng/pg-local.sh start)" dotnet run --project samples/Users.Api -- --urls http://127.0.0.1:5080
//
//   POST /users            {"email","name"}  InsertOrGetAsync on email: 201 + Location (new) or 200 (existing)
//   POST /users/register   {"email","name"}  plain insert: a duplicate email is 409 application/problem+json
//   GET  /users/{id}                          200 or 404
//   POST /payments         {"userId","amountCents","processingMs"?}  X-Api-Key + Idempotency-Key required: 201
//   POST /orders           {"orderNumber","userId","amountCents","processingMs"?}  the same, transactional: the order, its
//                          outbox row and the stored response commit together (201), or nothing does; a taken
//                          orderNumber is 409 problem+json
//
// (A namespaced Main rather than top-level statements: the tests reference this project, and a global Program type
// would shadow other Program types there.)
internal static class Program
{
    public static async Task Main(string[] args)
    {
        var app = UsersApp.Create(args);
        await app.RunAsync();
    }
}
