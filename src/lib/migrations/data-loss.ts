import type {ClientBase} from 'pg'
import {quoteIdent} from '../postgres/identifiers.js'
import type {Statement} from './statements.js'

// What a down script would destroy, found in its parse tree, then measured on the live data with queries
// that stop early (bounded counts, EXISTS), so that the checks stay fast on large tables.

export interface TypeSpec {
  name: string
  mods: number[]
  text: string
  // An enum the same script creates (Prisma re-creates an enum to remove a value): its values.
  enumValues?: string[]
}

export type LossyOperation = {migration: string, statement: string} & (
  | {kind: 'drop-table', table: string, cascade: boolean}
  | {kind: 'truncate', table: string}
  | {kind: 'drop-column', table: string, column: string, cascade: boolean}
  | {kind: 'alter-type', table: string, column: string, to: TypeSpec}
  | {kind: 'drop-schema', schema: string}
  | {kind: 'drop-type', type: string}
)

export interface LossFinding {
  migration: string
  statement: string
  // `table "Post"`, `column "User"."bio"`.
  target: string
  // Rows (or non-null values) that would be lost; `atLeast` when the count stopped at the cap.
  count: number
  atLeast: boolean
  estimate?: number
  loses: boolean
  detail: string
}

// Counting stops here: enough to say "at least 100,000 rows" without reading a whole large table.
export const COUNT_CAP = 100_000

const strings = (items: any[] | undefined): string[] => (items ?? []).map(item => item?.String?.sval).filter((s): s is string => typeof s === 'string')

const qualified = (parts: string[]) => parts.map(quoteIdent).join('.')

const rangeVarName = (relation: any) => qualified([relation.schemaname, relation.relname].filter(Boolean))

function typeSpecOf(typeName: any): TypeSpec {
  const names = strings(typeName.names)
  const name = names.at(-1) ?? ''
  const mods = (typeName.typmods ?? []).map((m: any) => Number(m?.A_Const?.ival?.ival ?? 0))
  const readable = (part: string) => /^[a-z_][a-z0-9_]*$/.test(part) ? part : quoteIdent(part)
  const base = names[0] === 'pg_catalog' ? name : names.map(readable).join('.')
  return {name, mods, text: mods.length > 0 ? `${base}(${mods.join(',')})` : base}
}

function fromDrop(node: any, base: {migration: string, statement: string}): LossyOperation[] {
  const cascade = node.behavior === 'DROP_CASCADE'
  switch (node.removeType) {
    case 'OBJECT_TABLE':
      return (node.objects ?? []).map((o: any) => ({...base, kind: 'drop-table', table: qualified(strings(o.List?.items)), cascade}))
    case 'OBJECT_SCHEMA':
      return cascade ? (node.objects ?? []).map((o: any) => ({...base, kind: 'drop-schema', schema: o.String?.sval})) : []
    case 'OBJECT_TYPE': case 'OBJECT_DOMAIN':
      return cascade ? (node.objects ?? []).map((o: any) => ({...base, kind: 'drop-type', type: qualified(strings(o.TypeName?.names))})) : []
    default:
      return []
  }
}

function fromAlterTable(node: any, base: {migration: string, statement: string}, enums: Map<string, string[]>): LossyOperation[] {
  if (node.objtype !== 'OBJECT_TABLE') return []
  const table = rangeVarName(node.relation)
  return (node.cmds ?? []).map((c: any) => c.AlterTableCmd).flatMap((cmd: any): LossyOperation[] => {
    if (cmd?.subtype === 'AT_DropColumn') return [{...base, kind: 'drop-column', table, column: cmd.name, cascade: cmd.behavior === 'DROP_CASCADE'}]
    if (cmd?.subtype === 'AT_AlterColumnType') {
      const to = typeSpecOf(cmd.def.ColumnDef.typeName)
      return [{...base, kind: 'alter-type', table, column: cmd.name, to: enums.has(to.name) ? {...to, enumValues: enums.get(to.name)} : to}]
    }
    return []
  })
}

// The operations of a script that can destroy data, read from the parse tree.
export function lossyOperations(migration: string, statements: Statement[]): LossyOperation[] {
  const enums = new Map(statements.filter(s => s.kind === 'CreateEnumStmt').map(s => [strings(s.node.typeName).at(-1) ?? '', strings(s.node.vals)]))
  return statements.flatMap(({kind, node, text}) => {
    const base = {migration, statement: text}
    if (kind === 'DropStmt') return fromDrop(node, base)
    if (kind === 'AlterTableStmt') return fromAlterTable(node, base, enums)
    if (kind === 'TruncateStmt') return (node.relations ?? []).map((r: any) => ({...base, kind: 'truncate' as const, table: rangeVarName(r.RangeVar)}))
    return []
  })
}

// --- Type changes --------------------------------------------------------------------------------

interface ColumnType {
  typname: string
  typmod: number
  formatted: string
}

const INTEGER_RANGE: Record<string, [string, string]> = {
  int2: ['-32768', '32767'],
  int4: ['-2147483648', '2147483647'],
  int8: ['-9223372036854775808', '9223372036854775807'],
}

const WIDER: Record<string, string[]> = {
  int2: ['int4', 'int8', 'numeric', 'float8'],
  int4: ['int8', 'numeric'],
  int8: ['numeric'],
  float4: ['float8'],
  varchar: ['text'],
  bpchar: ['text', 'varchar'],
  date: ['timestamp', 'timestamptz'],
  timestamp: ['timestamptz'],
  json: ['jsonb', 'text'],
}

const lengthOf = (typmod: number) => typmod < 0 ? Infinity : typmod - 4

const numericOf = (typmod: number) => typmod < 0
  ? {precision: Infinity, scale: Infinity}
  : {precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff}

// True when every value of the old type fits the new one unchanged.
export function isWidening(from: ColumnType, to: TypeSpec): boolean {
  if (from.typname !== to.name) {
    if (to.name === 'varchar' && to.mods.length === 0 && from.typname === 'text') return true
    if (to.name === 'numeric' && to.mods.length > 0) return false
    return (WIDER[from.typname] ?? []).includes(to.name) && (to.name !== 'varchar' || to.mods.length === 0)
  }
  if (to.mods.length === 0) return true
  if (from.typname === 'varchar' || from.typname === 'bpchar') return to.mods[0] >= lengthOf(from.typmod)
  if (from.typname === 'numeric') {
    const old = numericOf(from.typmod)
    const [precision, scale = 0] = to.mods
    return scale >= old.scale && precision - scale >= old.precision - old.scale
  }
  return false
}

// A condition true for the values that do not survive the change unchanged, where SQL can say it exactly.
function losingCondition(column: string, from: ColumnType, to: TypeSpec): string | undefined {
  if ((to.name === 'varchar' || to.name === 'bpchar') && to.mods.length > 0) return `length(${column}::text) > ${to.mods[0]}`
  if (INTEGER_RANGE[to.name]) {
    const [min, max] = INTEGER_RANGE[to.name]
    // Integer to integer compares as it is: a cast to numeric on every row costs several times more.
    if (INTEGER_RANGE[from.typname]) return `${column} NOT BETWEEN ${min} AND ${max}`
    return `(${column})::numeric NOT BETWEEN ${min} AND ${max} OR (${column})::numeric <> trunc((${column})::numeric)`
  }
  if (to.name === 'numeric' && to.mods.length > 0) {
    const [precision, scale = 0] = to.mods
    return `abs((${column})::numeric) >= 1e${precision - scale} OR (${column})::numeric <> round((${column})::numeric, ${scale})`
  }
  return undefined
}

// --- Measuring -----------------------------------------------------------------------------------

export class LossMeter {
  constructor(private readonly client: ClientBase, private readonly cap = COUNT_CAP) {}

  private async count(from: string, where = 'true'): Promise<{count: number, atLeast: boolean}> {
    const {rows} = await this.client.query<{n: string}>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${from} WHERE ${where} LIMIT ${this.cap + 1}) AS sample`)
    const n = Number(rows[0].n)
    return {count: Math.min(n, this.cap), atLeast: n > this.cap}
  }

  private async estimate(table: string): Promise<number | undefined> {
    const {rows} = await this.client.query<{n: number}>('SELECT reltuples::float8 AS n FROM pg_class WHERE oid = to_regclass($1)', [table])
    return rows[0] && rows[0].n >= 0 ? Math.round(rows[0].n) : undefined
  }

  // The table as PostgreSQL names it (schema-qualified when not on the search path), or undefined when it does not exist.
  async resolveTable(name: string): Promise<string | undefined> {
    const {rows} = await this.client.query<{name: string | null}>('SELECT to_regclass($1)::text AS name', [name])
    return rows[0]?.name ?? undefined
  }

  async columnType(table: string, column: string): Promise<ColumnType | undefined> {
    const {rows} = await this.client.query<ColumnType>(`
      SELECT t.typname, a.atttypmod AS typmod, format_type(a.atttypid, a.atttypmod) AS formatted
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`, [table, column])
    return rows[0]
  }

  async rows(table: string, base: Omit<LossFinding, 'target' | 'count' | 'atLeast' | 'loses' | 'detail'>, verb: string, noun = 'table'): Promise<LossFinding> {
    const {count, atLeast} = await this.count(table)
    const estimate = atLeast ? await this.estimate(table) : undefined
    const target = `${noun} ${table}`
    return {...base, target, count, atLeast, estimate, loses: count > 0, detail: count > 0 ? `${verb} ${target}: ${describeCount(count, atLeast, estimate, 'row')}` : `${verb} ${target}: empty`}
  }

  async values(table: string, column: string, base: Omit<LossFinding, 'target' | 'count' | 'atLeast' | 'loses' | 'detail'>): Promise<LossFinding> {
    const {count, atLeast} = await this.count(table, `${quoteIdent(column)} IS NOT NULL`)
    const target = `column ${table}.${quoteIdent(column)}`
    return {...base, target, count, atLeast, loses: count > 0, detail: count > 0 ? `drops ${target}: ${describeCount(count, atLeast, undefined, 'non-null value')}` : `drops ${target}: no non-null values`}
  }
}

const plural = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`

export function describeCount(count: number, atLeast: boolean, estimate: number | undefined, noun: string): string {
  if (!atLeast) return plural(count, noun)
  return `at least ${plural(count, noun)}${estimate ? ` (about ${estimate.toLocaleString('en-US')} by the planner's estimate)` : ''}`
}

async function measureOne(meter: LossMeter, client: ClientBase, op: LossyOperation): Promise<LossFinding[]> {
  const base = {migration: op.migration, statement: op.statement}
  const missing = (target: string): LossFinding[] => [{...base, target, count: 0, atLeast: false, loses: false, detail: `${target} does not exist now: nothing to lose`}]
  switch (op.kind) {
    case 'drop-table': case 'truncate': {
      const table = await meter.resolveTable(op.table)
      if (!table) return missing(`table ${op.table}`)
      const findings = [await meter.rows(table, base, op.kind === 'truncate' ? 'truncates' : 'drops')]
      if (op.kind === 'drop-table' && op.cascade) findings.push(...await cascadeDependents(meter, client, table, base))
      return findings
    }
    case 'drop-column': {
      const table = await meter.resolveTable(op.table)
      if (!table || !await meter.columnType(table, op.column)) return missing(`column ${op.table}.${quoteIdent(op.column)}`)
      const findings = [await meter.values(table, op.column, base)]
      if (op.cascade) findings.push(...await cascadeDependents(meter, client, table, base))
      return findings
    }
    case 'alter-type': return alterType(meter, client, op, base)
    case 'drop-schema': {
      const {rows} = await client.query<{name: string}>("SELECT c.oid::regclass::text AS name FROM pg_class c WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p', 'm') ORDER BY 1", [quoteIdent(op.schema)])
      return Promise.all(rows.map(row => meter.rows(row.name, base, `DROP SCHEMA ${quoteIdent(op.schema)} CASCADE drops`)))
    }
    case 'drop-type': {
      const {rows} = await client.query<{table: string, column: string}>(`
      SELECT a.attrelid::regclass::text AS table, a.attname AS column
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = to_regtype($1)
      WHERE a.atttypid IN (t.oid, t.typarray) AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') ORDER BY 1, 2`, [op.type])
      return Promise.all(rows.map(row => meter.values(row.table, row.column, base)))
    }
  }
}

async function alterType(meter: LossMeter, client: ClientBase, op: Extract<LossyOperation, {kind: 'alter-type'}>, base: {migration: string, statement: string}): Promise<LossFinding[]> {
  const table = await meter.resolveTable(op.table)
  const current = table && await meter.columnType(table, op.column)
  const target = `column ${table ?? op.table}.${quoteIdent(op.column)}`
  if (!table || !current) return [{...base, target, count: 0, atLeast: false, loses: false, detail: `${target} does not exist now: nothing to lose`}]
  if (op.to.enumValues) return enumChange(client, op, {table, target, current}, base)
  if (isWidening(current, op.to)) return []
  const column = quoteIdent(op.column)
  const condition = losingCondition(column, current, op.to)
  const {rows} = await client.query<{n: string}>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${table} WHERE ${column} IS NOT NULL${condition ? ` AND (${condition})` : ''} LIMIT ${COUNT_CAP + 1}) AS sample`)
  const n = Number(rows[0].n)
  const count = Math.min(n, COUNT_CAP)
  const change = `narrows ${target} from ${current.formatted} to ${op.to.text}`
  const what = condition ? 'value' : 'non-null value'
  const detail = count > 0
    ? `${change}: ${describeCount(count, n > COUNT_CAP, undefined, what)} ${condition ? 'would not fit (truncated, rounded or failing)' : 'would be converted'}`
    : `${change}: every value fits`
  return [{...base, target, count, atLeast: n > COUNT_CAP, loses: count > 0, detail}]
}

// A column moved to an enum the script creates: the values that enum lacks make the cast, and the down, fail.
async function enumChange(client: ClientBase, op: Extract<LossyOperation, {kind: 'alter-type'}>, found: {table: string, target: string, current: ColumnType}, base: {migration: string, statement: string}): Promise<LossFinding[]> {
  const column = quoteIdent(op.column)
  const values = op.to.enumValues!
  const {rows} = await client.query<{value: string, n: string}>(
    `SELECT ${column}::text AS value, count(*) AS n FROM (SELECT ${column} FROM ${found.table} WHERE ${column} IS NOT NULL AND NOT (${column}::text = ANY ($1::text[])) LIMIT ${COUNT_CAP + 1}) AS sample GROUP BY 1 ORDER BY 1`, [values])
  const n = rows.reduce((sum, row) => sum + Number(row.n), 0)
  const count = Math.min(n, COUNT_CAP)
  const change = `changes ${found.target} from ${found.current.formatted} to ${op.to.text} (${values.map(v => `'${v}'`).join(', ')})`
  const detail = count > 0
    ? `${change}: ${describeCount(count, n > COUNT_CAP, undefined, 'row')} hold${count === 1 ? 's' : ''} ${rows.map(r => `'${r.value}'`).join(', ')}, which the new type lacks, so the down would fail: update them to a value it has first`
    : `${change}: every value is one it has`
  return [{...base, target: found.target, count, atLeast: n > COUNT_CAP, loses: count > 0, detail}]
}

// What CASCADE takes with it beyond the named object: views over it, and the rows of materialized views.
async function cascadeDependents(meter: LossMeter, client: ClientBase, table: string, base: {migration: string, statement: string}): Promise<LossFinding[]> {
  const {rows} = await client.query<{name: string, relkind: string}>(`
    SELECT DISTINCT v.oid::regclass::text AS name, v.relkind
    FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass($1) AND v.oid <> to_regclass($1) ORDER BY 1`, [table])
  return Promise.all(rows.map(async view => view.relkind === 'm'
    ? meter.rows(view.name, base, 'CASCADE also drops', 'materialized view')
    : {...base, target: `view ${view.name}`, count: 0, atLeast: false, loses: false, detail: `CASCADE also drops view ${view.name} (no data of its own; recreate it after)`}))
}

// How long one check may read before it gives up and assumes the worst.
export const CHECK_TIMEOUT = '30s'

const timedOut = (error: unknown) => (error as {code?: string})?.code === '57014'

export async function measureLoss(client: ClientBase, operations: LossyOperation[], timeout = CHECK_TIMEOUT): Promise<LossFinding[]> {
  const meter = new LossMeter(client)
  const findings: LossFinding[] = []
  await client.query('SELECT set_config(\'statement_timeout\', $1, false)', [timeout])
  // One at a time on purpose: a single connection, and a clear order in the report.
  for (const op of operations) {
    try {
      findings.push(...await measureOne(meter, client, op))
    } catch (error) {
      if (!timedOut(error)) throw error
      const target = 'table' in op ? `table ${op.table}` : op.kind === 'drop-schema' ? `schema ${op.schema}` : `type ${op.type}`
      findings.push({migration: op.migration, statement: op.statement, target, count: 0, atLeast: true, loses: true,
        detail: `could not measure ${target} within ${timeout}: assuming data would be lost`})
    }
  }
  await client.query('RESET statement_timeout')
  return findings
}
