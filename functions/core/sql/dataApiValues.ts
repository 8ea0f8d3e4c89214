import type { ArrayValue, ColumnMetadata, Field, SqlParameter } from "@aws-sdk/client-rds-data";
import { ValidationError } from "../errors";
import { parameterValue, type Row, type SqlParams, type SqlValue } from "./port";

/**
 * Translation between the port's JavaScript values and the RDS Data API's typed `Field`s,
 * so that a statement returns the same values through the Data API as through
 * node-postgres (see port.ts for the contract).
 *
 * Parameters: the Data API binds a plain `stringValue` as varchar, so anything PostgreSQL
 * must read as another type travels with a type hint: Date → TIMESTAMP (in UTC, in the
 * `YYYY-MM-DD HH:MM:SS.FFF` shape the hint requires: no `T`, no `Z`), `json()` → JSON,
 * `uuid()` → UUID. Integers go as `longValue` (bound as int8), other numbers as
 * `doubleValue`.
 *
 * Results: the Data API answers in UTC and sends timestamps, jsonb, uuid and numeric as
 * strings; `typeName` in the column metadata says how to read them back.
 */

/** Builds the `parameters` list for the names a statement uses, in the order it uses them. */
export function encodeParameters(names: readonly string[], params?: SqlParams): SqlParameter[] {
  return names.map((name) => ({ name, ...encodeValue(name, parameterValue(name, params)) }));
}

function encodeValue(name: string, value: SqlValue): Omit<SqlParameter, "name"> {
  if (value === null) return { value: { isNull: true } };
  if (value instanceof Date) {
    return { value: { stringValue: formatTimestamp(value) }, typeHint: "TIMESTAMP" };
  }
  switch (typeof value) {
    case "string":
      return { value: { stringValue: value } };
    case "boolean":
      return { value: { booleanValue: value } };
    case "number":
      return Number.isSafeInteger(value)
        ? { value: { longValue: value } }
        : { value: { doubleValue: value } };
    case "object": {
      if (value.kind === "uuid") return { value: { stringValue: value.value }, typeHint: "UUID" };
      return { value: { stringValue: JSON.stringify(value.value) }, typeHint: "JSON" };
    }
    default:
      throw new ValidationError(`SQL parameter :${name} has an unsupported type ${typeof value}`);
  }
}

/** `2024-05-06 07:08:09.123`: the TIMESTAMP hint's shape, in UTC. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/**
 * Turns `records` + `columnMetadata` into rows keyed by column label. Without metadata
 * (a statement that returns no result set) there are no rows.
 */
export function decodeRecords(
  records: readonly Field[][] | undefined,
  columns: readonly ColumnMetadata[] | undefined,
): Row[] {
  if (!records || records.length === 0) return [];
  if (!columns) {
    throw new Error("Data API returned records without column metadata");
  }
  const keys = columns.map((column, i) => column.label || column.name || `column${i + 1}`);
  const types = columns.map((column) => (column.typeName ?? "").toLowerCase());
  return records.map((record) => {
    const row: Row = {};
    record.forEach((field, i) => {
      row[keys[i] ?? `column${i + 1}`] = decodeField(field, types[i] ?? "");
    });
    return row;
  });
}

/** One `Field` as the port's JavaScript value, given the column's PostgreSQL type name. */
export function decodeField(field: Field, typeName: string): unknown {
  if (field.isNull) return null;
  if (field.arrayValue) return decodeArray(field.arrayValue, elementType(typeName));
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue);
  if (field.stringValue !== undefined) return decodeString(field.stringValue, typeName);
  throw new Error(`Data API returned a field of an unknown kind for a ${typeName} column`);
}

/** `_int4` (PostgreSQL's array type name) or `int4[]` → `int4`. */
function elementType(typeName: string): string {
  if (typeName.startsWith("_")) return typeName.slice(1);
  if (typeName.endsWith("[]")) return typeName.slice(0, -2);
  return typeName;
}

function decodeArray(array: ArrayValue, type: string): unknown[] {
  if (array.arrayValues) {
    return array.arrayValues.map((inner) => (inner === null ? null : decodeArray(inner, type)));
  }
  if (array.stringValues) {
    return array.stringValues.map((value) => (value === null ? null : decodeString(value, type)));
  }
  return array.longValues ?? array.doubleValues ?? array.booleanValues ?? [];
}

function decodeString(value: string, typeName: string): unknown {
  switch (typeName) {
    case "timestamptz":
    case "timestamp with time zone":
      return parseTimestamp(value, true);
    // node-postgres reads timestamp and date (which carry no zone) in the process's local
    // time zone; doing the same keeps both adapters equal (Lambda's zone is UTC anyway).
    case "timestamp":
    case "timestamp without time zone":
      return parseTimestamp(value, false);
    case "date":
      return parseDate(value);
    case "json":
    case "jsonb":
      return JSON.parse(value);
    case "int2":
    case "int4":
    case "int8":
    case "serial":
    case "bigserial":
    case "numeric":
    case "decimal":
    case "float4":
    case "float8":
    case "oid":
      return Number(value);
    case "bool":
      return value === "t" || value === "true";
    default:
      return value;
  }
}

const TIMESTAMP =
  /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]`, which the Data API sends in UTC for timestamptz. An explicit
 * offset is honoured. Sub-millisecond digits are dropped, as node-postgres drops them.
 */
function parseTimestamp(value: string, utc: boolean): Date | number {
  if (value === "infinity") return Number.POSITIVE_INFINITY;
  if (value === "-infinity") return Number.NEGATIVE_INFINITY;
  const match = TIMESTAMP.exec(value);
  if (!match) throw new Error(`Data API returned an unreadable timestamp "${value}"`);
  const [, y, mo, d, h, mi, s, fraction = "", z, sign, offH, offM] = match;
  const ms = Number(fraction.padEnd(3, "0").slice(0, 3));
  const parts = [
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    ms,
  ] as const;
  if (!z && !sign && !utc) return new Date(...parts);
  const offsetMinutes = sign
    ? (sign === "-" ? -1 : 1) * (Number(offH) * 60 + Number(offM ?? 0))
    : 0;
  return new Date(Date.UTC(...parts) - offsetMinutes * 60_000);
}

function parseDate(value: string): Date {
  const match = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) throw new Error(`Data API returned an unreadable date "${value}"`);
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}
