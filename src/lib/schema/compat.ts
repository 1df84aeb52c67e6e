import type {Statement} from '../migrations/statements.js'
import {Catalog, CatalogColumn, EnumProbe, catalogKey} from './catalog.js'
import type {ExpectedColumn, ExpectedSchema, ExpectedTable} from './expected.js'

// Can a release's code run on the database as it is? Held against each other: the tables, columns and
// enums the release's Prisma schema maps, and the catalog. A BLOCK fails at run time (a missing column,
// a value the code cannot read, an insert that cannot succeed); a WARN may, and wants a look.

export type Level = 'block' | 'warn'

export interface Finding {
  level: Level
  message: string
  model?: string
  field?: string
  table: string
  column?: string
  // The migration applied since the release that made the change, when it can be told.
  migration?: string
}

export interface MigrationSince {
  name: string
  statements: Statement[]
}

export type Verdict = 'compatible' | 'warnings' | 'blocked'

export const verdictOf = (findings: Finding[]): Verdict =>
  findings.some(f => f.level === 'block') ? 'blocked' : findings.length > 0 ? 'warnings' : 'compatible'

// The PostgreSQL type a Prisma scalar gets without @db, and what @db attributes name.
const DEFAULT_TYPE: Record<string, string> = {
  String: 'text', Int: 'int4', BigInt: 'int8', Float: 'float8', Decimal: 'numeric', Boolean: 'bool', DateTime: 'timestamp', Json: 'jsonb', Bytes: 'bytea',
}
const NATIVE_TYPE: Record<string, string> = {
  Text: 'text', VarChar: 'varchar', Char: 'bpchar', Citext: 'citext', Uuid: 'uuid', Xml: 'xml', Inet: 'inet', Bit: 'bit', VarBit: 'varbit',
  SmallInt: 'int2', Integer: 'int4', BigInt: 'int8', Oid: 'oid', Real: 'float4', DoublePrecision: 'float8', Decimal: 'numeric', Money: 'money',
  Boolean: 'bool', Timestamp: 'timestamp', Timestamptz: 'timestamptz', Date: 'date', Time: 'time', Timetz: 'timetz', Json: 'json', JsonB: 'jsonb', ByteA: 'bytea',
}
// Types of one family, narrowest first: a column narrower than the code expects rejects its writes.
const FAMILIES = [['int2', 'int4', 'int8'], ['float4', 'float8'], ['text', 'varchar', 'bpchar', 'citext'], ['timestamp', 'timestamptz'], ['json', 'jsonb'], ['numeric', 'money'], ['time', 'timetz']]
const familyOf = (udt: string) => FAMILIES.find(family => family.includes(udt))
const STRING_TYPES = new Set(['text', 'varchar', 'bpchar', 'citext'])

const typeName = (c: CatalogColumn) => `${c.udt}${c.maxLength ? `(${c.maxLength})` : ''}${c.array ? '[]' : ''}`
const expectedTypeName = (e: ExpectedColumn, udt: string) => `${udt}${e.native?.args.length ? `(${e.native.args.join(',')})` : ''}${e.list ? '[]' : ''}`

function typeFinding(expected: ExpectedColumn, actual: CatalogColumn, enumDbName: string | undefined): {level: Level, message: string} | undefined {
  if (expected.list !== actual.array) return {level: 'block', message: `is ${typeName(actual)}, the code maps it as ${expected.list ? 'a list' : 'a single value'}`}
  if (expected.enum) {
    return actual.enum && actual.udt === enumDbName ? undefined : {level: 'block', message: `is ${typeName(actual)}, the code expects enum ${enumDbName}`}
  }
  const udt = (expected.native && NATIVE_TYPE[expected.native.name]) ?? DEFAULT_TYPE[expected.type]
  if (!udt || actual.udt === udt && !actual.maxLength) return undefined
  const family = familyOf(udt)
  if (!family || !family.includes(actual.udt)) {
    return actual.udt === udt ? undefined : {level: 'block', message: `is ${typeName(actual)}, the code expects ${expectedTypeName(expected, udt)}`}
  }
  if (STRING_TYPES.has(udt) && STRING_TYPES.has(actual.udt)) {
    const limit = udt === 'text' || udt === 'citext' ? Infinity : Number(expected.native?.args[0] ?? Infinity)
    if ((actual.maxLength ?? Infinity) < limit) return {level: 'block', message: `was narrowed to ${typeName(actual)}: the code writes ${expectedTypeName(expected, udt)}`}
    return undefined
  }
  const [have, want] = [family.indexOf(actual.udt), family.indexOf(udt)]
  if (have < want) return {level: 'block', message: `was narrowed to ${typeName(actual)}: the code writes ${expectedTypeName(expected, udt)}`}
  if (have > want) return {level: 'warn', message: `was widened to ${typeName(actual)}: values beyond ${udt} cannot be read by the code`}
  return undefined
}

const tableKey = (table: ExpectedTable, defaultSchema: string) => catalogKey(table.schema ?? defaultSchema, table.table)
const columnKey = (schema: string, table: string, column: string) => `${schema}.${table}.${column}`

// The enum columns of tables the code maps whose enum holds values the code does not know: do rows hold them?
export function enumProbes(expected: ExpectedSchema, catalog: Catalog, defaultSchema: string): EnumProbe[] {
  const probes: EnumProbe[] = []
  for (const table of expected.tables) {
    const schema = table.schema ?? defaultSchema
    const actual = catalog.tables.get(catalogKey(schema, table.table))
    for (const column of table.columns.filter(c => c.enum)) {
      const known = expected.enums.find(e => e.name === column.enum)!
      const values = catalog.enums.get(catalogKey(known.schema ?? schema, known.dbName))
      const present = actual?.find(c => c.column === column.column)
      if (!values || !present?.enum) continue
      const unknown = values.filter(v => !known.values.includes(v))
      if (unknown.length > 0) probes.push({schema, table: table.table, column: column.column, list: column.list, values: unknown})
    }
  }
  return probes
}

export interface CompatibilityInput {
  defaultSchema: string
  // From enumProbes, answered by the database: "schema.table.column" to the unknown values rows hold.
  inUse: Map<string, string[]>
  // Applied in the database, absent from the release's migrations folder, oldest first.
  migrations: MigrationSince[]
}

export function findCompatibility(expected: ExpectedSchema, catalog: Catalog, input: CompatibilityInput): Finding[] {
  const findings: Finding[] = []
  const blame = (table: string, column?: string) => responsible(input.migrations, table, column)
  const mapped = new Set<string>()
  for (const table of expected.tables) {
    const schema = table.schema ?? input.defaultSchema
    const key = tableKey(table, input.defaultSchema)
    mapped.add(key)
    const actual = catalog.tables.get(key)
    const where = {model: table.model, table: table.table}
    if (!actual) {
      findings.push({level: 'block', ...where, message: `table "${table.table}" (model ${table.model}) is missing`, migration: blame(table.table)})
      continue
    }
    for (const column of table.columns) {
      const present = actual.find(c => c.column === column.column)
      const at = {...where, field: column.field, column: column.column}
      const label = `column "${table.table}"."${column.column}" (${table.model}.${column.field})`
      if (!present) {
        findings.push({level: 'block', ...at, message: `${label} is missing`, migration: blame(table.table, column.column)})
        continue
      }
      const enumDbName = column.enum ? expected.enums.find(e => e.name === column.enum)?.dbName : undefined
      const type = typeFinding(column, present, enumDbName)
      if (type) findings.push({level: type.level, ...at, message: `${label} ${type.message}`, migration: blame(table.table, column.column)})
      if (!column.required && !present.nullable && !present.hasDefault) {
        findings.push({level: 'warn', ...at, message: `${label} is now NOT NULL, the code treats it as optional: its writes without a value fail`, migration: blame(table.table, column.column)})
      }
      if (column.required && present.nullable) {
        findings.push({level: 'warn', ...at, message: `${label} now allows NULL, the code reads it as required: a row with NULL fails to load`, migration: blame(table.table, column.column)})
      }
      const used = input.inUse.get(columnKey(schema, table.table, column.column))
      const unknown = enumProbes({tables: [{...table, columns: [column]}], enums: expected.enums}, catalog, input.defaultSchema)[0]?.values ?? []
      for (const value of unknown) {
        const held = used?.includes(value)
        findings.push({
          level: held ? 'block' : 'warn', ...at,
          message: `enum ${enumDbName} has value '${value}' the code does not know${held ? `, and rows of "${table.table}" hold it: reading them fails` : ', no row holds it yet'}`,
          migration: responsible(input.migrations, enumDbName!, value),
        })
      }
    }
    for (const extra of actual.filter(c => !table.columns.some(e => e.column === c.column))) {
      if (!extra.nullable && !extra.hasDefault) {
        findings.push({
          level: 'block', ...where, column: extra.column,
          message: `column "${table.table}"."${extra.column}" is NOT NULL without a default and the code does not know it: its inserts into "${table.table}" fail`,
          migration: blame(table.table, extra.column),
        })
      }
    }
  }
  findings.push(...reviewMigrations(input.migrations, new Set(expected.tables.map(t => t.table))))
  return findings
}

// What the migrations since the release do that a catalog does not show: new constraints on tables the
// code writes, functions, triggers, views, and statements that change data.
function reviewMigrations(migrations: MigrationSince[], mappedTables: Set<string>): Finding[] {
  const findings: Finding[] = []
  for (const migration of migrations) {
    for (const statement of migration.statements) {
      const table = statement.node?.relation?.relname ?? statement.node?.view?.relname ?? ''
      const review = (message: string) => findings.push({level: 'warn', table, message: `${message} (review: ${statement.text.split('\n')[0].slice(0, 80)})`, migration: migration.name})
      switch (statement.kind) {
        case 'CreateFunctionStmt': review('a function was created or replaced'); break
        case 'CreateTrigStmt': review(`a trigger was added on "${table}"`); break
        case 'ViewStmt': review(`a view "${table}" was created`); break
        case 'InsertStmt': case 'UpdateStmt': case 'DeleteStmt': case 'TruncateStmt': case 'CopyStmt': case 'MergeStmt':
          review('a statement changes data'); break
        case 'IndexStmt':
          if (statement.node.unique && mappedTables.has(table)) review(`a unique index on "${table}" may reject the code's writes`)
          break
        case 'AlterTableStmt':
          for (const cmd of statement.node.cmds ?? []) {
            const constraint = cmd.AlterTableCmd?.subtype === 'AT_AddConstraint' ? cmd.AlterTableCmd.def?.Constraint?.contype : undefined
            const kind = ({CONSTR_CHECK: 'CHECK', CONSTR_UNIQUE: 'UNIQUE', CONSTR_FOREIGN: 'foreign key'} as Record<string, string>)[constraint]
            if (kind && mappedTables.has(table)) review(`a new ${kind} constraint on "${table}" may reject the code's writes`)
          }
          break
      }
    }
  }
  return findings
}

// The newest migration whose statements name the table (and the column or value, when given).
function responsible(migrations: MigrationSince[], table: string, detail?: string): string | undefined {
  for (const migration of [...migrations].reverse()) {
    const tree = JSON.stringify(migration.statements.map(s => s.node))
    const namesTable = tree.includes(`"relname":${JSON.stringify(table)}`) || tree.includes(JSON.stringify(table))
    if (namesTable && (!detail || tree.includes(JSON.stringify(detail)))) return migration.name
  }
  return undefined
}
