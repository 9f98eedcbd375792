// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Postgres;

// One type in pg_type: TypeName is the unqualified typname (int4, jsonb, citext, mood), SqlName the format_type()
// spelling usable in a cast, Kind typtype ('b' base, 'e' enum, ...), Category typcategory ('S' string, 'A' array, ...).
internal sealed record PgType(uint Oid, string Schema, string TypeName, char Kind, char Category)
{
    // Schema-qualified internal name ("pg_catalog"."bpchar": no typmod, so a cast never truncates as character(1) would,
    // and the search_path cannot redirect it).
    public string SqlName { get; } = Sql.QualifiedName(Schema, TypeName);

    // The name Npgsql's binary COPY writer takes (DataTypeName).
    public string CopyName => Schema + "." + TypeName;

    public bool IsBuiltIn => Schema == "pg_catalog";

    public bool IsEnum => Kind == 'e';
}
